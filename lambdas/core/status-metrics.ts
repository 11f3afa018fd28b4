/**
 * What `status --deployed` adds from CloudWatch: per account, over the last 24 hours, a few
 * figures, each one statistic of a metric the functions emit (metrics.ts), read under the
 * account's dimensions. The queries are built and the answers folded here; the call itself is
 * an adapter's (lambdas/aws/cloudwatch-metrics.ts).
 */
import {
  DIMENSIONS,
  JOB_METRICS,
  type JobMetricName,
  METRICS,
  METRICS_NAMESPACE,
  type MetricName,
  metricDimensions,
} from './metrics.ts';

/** A metric the functions emit (METRICS) or one the daily jobs emit (JOB_METRICS). */
export type StatusMetricName = MetricName | JobMetricName;

/**
 * The figures shown per account, each one statistic of one metric: `Sum` for counts and bytes, a
 * percentile for latencies (as the dashboard graphs them), `Maximum` for what a daily job last
 * reported of the account (one run a day; none in the window leaves the figure unknown).
 */
export const STATUS_FIGURES = {
  recordingsArchived: { metric: 'RecordingsArchived', stat: 'Sum' },
  bytesArchived: { metric: 'BytesArchived', stat: 'Sum' },
  archiveFailures: { metric: 'ArchiveFailures', stat: 'Sum' },
  archiveLatencyP50Seconds: { metric: 'ArchiveLatencySeconds', stat: 'p50' },
  archiveLatencyP99Seconds: { metric: 'ArchiveLatencySeconds', stat: 'p99' },
  sweepListed: { metric: 'SweepListed', stat: 'Sum' },
  reconcileGaps: { metric: 'ReconcileGaps', stat: 'Maximum' },
  verifiedPassAgeSeconds: { metric: 'VerifiedPassAgeSeconds', stat: 'Maximum' },
  deleteAtSourceRemaining: { metric: 'DeleteAtSourceRemaining', stat: 'Maximum' },
} as const satisfies Record<string, { metric: StatusMetricName; stat: 'Sum' | 'Maximum' | `p${number}` }>;

export type StatusFigure = keyof typeof STATUS_FIGURES;

/** The metrics the figures read, each named once. */
export const STATUS_METRIC_NAMES: readonly StatusMetricName[] = [
  ...new Set(Object.values(STATUS_FIGURES).map((figure) => figure.metric)),
];

const isJobMetric = (metric: StatusMetricName): metric is JobMetricName => metric in JOB_METRICS;

/** A figure's unit, from the module that names its metric. */
export function unitOf(figure: StatusFigure): string {
  const { metric } = STATUS_FIGURES[figure];
  return isJobMetric(metric) ? JOB_METRICS[metric].unit : METRICS[metric].unit;
}

/**
 * The dimensions an account's series of the metric is published under: the functions' set
 * (service, account, provider), or the daily jobs' account set (handlers/emf.ts).
 */
function dimensionsOf(metric: StatusMetricName, account: { id: string; provider: string }) {
  const named = isJobMetric(metric) ? { [DIMENSIONS.account]: account.id } : metricDimensions(account);
  return Object.entries(named).map(([Name, Value]) => ({ Name, Value }));
}

const WINDOW_MS = 24 * 3_600_000;

/** The time span read, UTC. */
export interface MetricWindow {
  start: Date;
  end: Date;
}

/**
 * One account's figures over the window (UTC ISO-8601 bounds). A summed count without data is 0
 * (the functions emit only when something happened); any other figure without data is absent.
 */
export type AccountMetrics = { from: string; to: string } & Partial<Record<StatusFigure, number>>;

/** One GetMetricData query, in CloudWatch's own shape, so the adapter sends it as it is. */
export interface MetricQuery {
  Id: string;
  MetricStat: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
  ReturnData: true;
}

/** One answer to a query (CloudWatch's MetricDataResult); a query's values may span several pages. */
export interface MetricAnswer {
  Id?: string;
  Values?: number[];
  /** `Complete`, `PartialData` (more behind NextToken), `Forbidden` or `InternalError`. */
  StatusCode?: string;
}

/** A figure CloudWatch did not answer (its query's status), so it is shown as unknown, not 0. */
export interface UnreadFigure {
  accountId: string;
  metric: StatusMetricName;
  status: string;
}

/** An answer's final status that leaves its figure unknown: CloudWatch refused or failed it. */
const UNANSWERED = new Set(['Forbidden', 'InternalError']);

/** Where the figures are read: every query answered, over as many calls and pages as it takes. */
export interface MetricReader {
  read(queries: readonly MetricQuery[], window: MetricWindow): Promise<MetricAnswer[]>;
}

/**
 * The 24 hours up to the last whole minute: CloudWatch keeps standard-resolution data per minute,
 * so the window holds whole datapoints.
 */
function statusMetricsWindow(now: Date): MetricWindow {
  const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  return { start: new Date(end.getTime() - WINDOW_MS), end };
}

interface PlannedQuery {
  query: MetricQuery;
  accountId: string;
  figure: StatusFigure;
}

/** One query per figure and account; the window is a single period, so each answers one value. */
function planQueries(accounts: readonly { id: string; provider: string }[]): PlannedQuery[] {
  const planned: PlannedQuery[] = [];
  for (const account of accounts) {
    for (const figure of Object.keys(STATUS_FIGURES) as StatusFigure[]) {
      const { metric, stat } = STATUS_FIGURES[figure];
      planned.push({
        accountId: account.id,
        figure,
        query: {
          // Ids must start with a lower-case letter and be unique within a call.
          Id: `q${planned.length}`,
          MetricStat: {
            Metric: {
              Namespace: METRICS_NAMESPACE,
              MetricName: metric,
              Dimensions: dimensionsOf(metric, account),
            },
            Period: WINDOW_MS / 1000,
            Stat: stat,
          },
          ReturnData: true,
        },
      });
    }
  }
  return planned;
}

/** Per account id, its figures over the 24 hours up to `now` (the last whole minute). */
export async function readStatusMetrics(
  accounts: readonly { id: string; provider: string }[],
  reader: MetricReader,
  now: Date = new Date(),
): Promise<{ byAccount: Map<string, AccountMetrics>; unread: UnreadFigure[] }> {
  const window = statusMetricsWindow(now);
  const planned = planQueries(accounts);
  const answers = await reader.read(
    planned.map(({ query }) => query),
    window,
  );
  const values = new Map<string, number[]>();
  const statuses = new Map<string, string>();
  for (const answer of answers) {
    if (!answer.Id) continue;
    values.set(answer.Id, [...(values.get(answer.Id) ?? []), ...(answer.Values ?? [])]);
    if (answer.StatusCode) statuses.set(answer.Id, answer.StatusCode);
  }
  const byAccount = new Map<string, AccountMetrics>();
  const unread: UnreadFigure[] = [];
  for (const { query, accountId, figure } of planned) {
    let metrics = byAccount.get(accountId);
    if (!metrics) {
      metrics = { from: window.start.toISOString(), to: window.end.toISOString() };
      byAccount.set(accountId, metrics);
    }
    const status = statuses.get(query.Id);
    if (status && UNANSWERED.has(status)) {
      const metric = STATUS_FIGURES[figure].metric;
      if (!unread.some((seen) => seen.accountId === accountId && seen.metric === metric))
        unread.push({ accountId, metric, status });
      continue;
    }
    const answered = values.get(query.Id) ?? [];
    // A sum adds whatever periods come back; any other statistic of the one period has one value, or none.
    if (STATUS_FIGURES[figure].stat === 'Sum')
      metrics[figure] = answered.reduce((sum, value) => sum + value, 0);
    else if (answered[0] !== undefined) metrics[figure] = answered[0];
  }
  return { byAccount, unread };
}

/** The note on figures CloudWatch did not answer, one clause per account; undefined if none. */
export function unreadNote(unread: readonly UnreadFigure[]): string | undefined {
  if (unread.length === 0) return undefined;
  const byAccount = new Map<string, string[]>();
  for (const { accountId, metric, status } of unread)
    byAccount.set(accountId, [...(byAccount.get(accountId) ?? []), `${metric} (${status})`]);
  const clauses = [...byAccount].map(([accountId, metrics]) => `${accountId}: ${metrics.join(', ')}`);
  return `metrics CloudWatch did not answer, shown empty: ${clauses.join('; ')}`;
}
