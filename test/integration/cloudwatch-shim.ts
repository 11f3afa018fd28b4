/**
 * CloudWatch's GetMetricData as the installed @aws-sdk/client-cloudwatch speaks it: AWS JSON 1.0
 * (`X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`, timestamps in epoch seconds),
 * query-compatible errors. It stores the datapoints a test gives and answers each query from
 * them: the namespace, metric name and the exact dimension set must match, values in
 * [StartTime, EndTime) are grouped into periods from StartTime and reduced by the statistic.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** One value as a function emitted it. */
export interface Datapoint {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  at: Date;
  value: number;
}

export interface MetricDataOptions {
  datapoints: Datapoint[];
  /**
   * Refuse every call as IAM does: `query-compatible` sends the `x-amzn-query-error` header
   * CloudWatch adds (the SDK names the error `AccessDenied`), `json` the JSON error type alone
   * (`AccessDeniedException`).
   */
  deny?: 'query-compatible' | 'json';
  /** At most this many values per answer, the rest behind NextToken. */
  valuesPerPage?: number;
  /** Queries of these metrics answer this status and no values, as CloudWatch does for one it could not read. */
  unanswered?: { metricName: string; statusCode: 'Forbidden' | 'InternalError' };
}

export interface MetricDataQuery {
  Id: string;
  MetricStat: {
    Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
  ReturnData?: boolean;
}

/** A GetMetricData request as received. */
export interface MetricDataRequest {
  MetricDataQueries: MetricDataQuery[];
  StartTime: number;
  EndTime: number;
  NextToken?: string;
}

export const CLOUDWATCH_TARGET_PREFIX = 'GraniteServiceVersion20100801.';

const sameDimensions = (wanted: { Name: string; Value: string }[], point: Record<string, string>) =>
  wanted.length === Object.keys(point).length && wanted.every(({ Name, Value }) => point[Name] === Value);

const PERCENTILE = /^p(\d+(?:\.\d+)?)$/;
const answerable = (stat: string) => stat === 'Sum' || stat === 'Maximum' || PERCENTILE.test(stat);

/** The sum, the maximum or a percentile (nearest rank) of one period's values. */
function statistic(stat: string, values: number[]): number {
  if (stat === 'Sum') return values.reduce((sum, value) => sum + value, 0);
  if (stat === 'Maximum') return Math.max(...values);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((Number(PERCENTILE.exec(stat)?.[1]) / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)] ?? Number.NaN;
}

/** Each query's periods as [start in epoch seconds, value], newest first (CloudWatch's default scan). */
function answer(request: MetricDataRequest, datapoints: readonly Datapoint[]): [string, number, number][] {
  return request.MetricDataQueries.flatMap(({ Id, MetricStat }) => {
    const { Metric, Period, Stat } = MetricStat;
    const periods = new Map<number, number[]>();
    for (const point of datapoints) {
      const at = point.at.getTime() / 1000;
      if (point.namespace !== Metric.Namespace || point.metricName !== Metric.MetricName) continue;
      if (!sameDimensions(Metric.Dimensions ?? [], point.dimensions)) continue;
      if (at < request.StartTime || at >= request.EndTime) continue;
      const start = request.StartTime + Math.floor((at - request.StartTime) / Period) * Period;
      periods.set(start, [...(periods.get(start) ?? []), point.value]);
    }
    return [...periods]
      .sort(([a], [b]) => b - a)
      .map(([start, values]): [string, number, number] => [Id, start, statistic(Stat, values)]);
  });
}

export function metricDataEndpoint(options: MetricDataOptions) {
  const requests: MetricDataRequest[] = [];

  const send = (response: ServerResponse, status: number, body: unknown, headers = {}) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
    response.end(JSON.stringify(body));
  };

  /** Answers one call; `action` is what follows CLOUDWATCH_TARGET_PREFIX in X-Amz-Target. */
  function handle(
    action: string,
    headers: IncomingHttpHeaders,
    body: string,
    response: ServerResponse,
  ): void {
    if (action !== 'GetMetricData' || headers['content-type'] !== 'application/x-amz-json-1.0') {
      send(response, 400, { __type: 'UnknownOperationException', message: `${action} is not answered here` });
      return;
    }
    const request = JSON.parse(body) as MetricDataRequest;
    requests.push(request);
    const unanswerable = request.MetricDataQueries.find(({ MetricStat }) => !answerable(MetricStat.Stat));
    if (unanswerable) {
      send(response, 400, {
        __type: 'InvalidParameterValueException',
        message: `statistic ${unanswerable.MetricStat.Stat} is not answered here`,
      });
      return;
    }
    if (options.deny) {
      send(
        response,
        400,
        {
          __type: 'com.amazon.coral.service#AccessDeniedException',
          message:
            'User: arn:aws:iam::000000000000:user/operator is not authorized to perform: cloudwatch:GetMetricData',
        },
        options.deny === 'query-compatible' ? { 'x-amzn-query-error': 'AccessDenied;Sender' } : {},
      );
      return;
    }
    const values = answer(request, options.datapoints);
    const offset = Number(request.NextToken ?? 0);
    const end = options.valuesPerPage ? offset + options.valuesPerPage : values.length;
    const page = values.slice(offset, end);
    const more = end < values.length;
    send(response, 200, {
      // Every query on every page, with the values that fall on this page.
      MetricDataResults: request.MetricDataQueries.map(({ Id, MetricStat }) => {
        const own = page.filter(([id]) => id === Id);
        if (options.unanswered?.metricName === MetricStat.Metric.MetricName)
          return {
            Id,
            Label: MetricStat.Metric.MetricName,
            Timestamps: [],
            Values: [],
            StatusCode: options.unanswered.statusCode,
          };
        return {
          Id,
          Label: MetricStat.Metric.MetricName,
          Timestamps: own.map(([, start]) => start),
          Values: own.map(([, , value]) => value),
          StatusCode: more ? 'PartialData' : 'Complete',
        };
      }),
      ...(more ? { NextToken: String(end) } : {}),
      Messages: [],
    });
  }

  return { requests, handle };
}
