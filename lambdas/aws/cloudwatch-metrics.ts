/**
 * GetMetricData for `status --deployed`: at most 500 queries a call (CloudWatch's limit), every
 * page of each call (NextToken).
 */
import { type CloudWatchClient, paginateGetMetricData } from '@aws-sdk/client-cloudwatch';
import type { MetricAnswer, MetricQuery, MetricReader, MetricWindow } from '../core/status-metrics.ts';

const MAX_QUERIES_PER_CALL = 500;

/**
 * What an IAM denial is called: `AccessDenied` from the query-compatible error header CloudWatch
 * sends, `AccessDeniedException` from the JSON error type alone.
 */
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException']);

export function isAccessDenied(error: unknown): boolean {
  return ACCESS_DENIED.has((error as { name?: string } | undefined)?.name ?? '');
}

export class CloudWatchMetricReader implements MetricReader {
  constructor(private readonly cloudwatch: CloudWatchClient) {}

  async read(queries: readonly MetricQuery[], window: MetricWindow): Promise<MetricAnswer[]> {
    const answers: MetricAnswer[] = [];
    for (let first = 0; first < queries.length; first += MAX_QUERIES_PER_CALL) {
      const pages = paginateGetMetricData(
        { client: this.cloudwatch },
        {
          MetricDataQueries: queries.slice(first, first + MAX_QUERIES_PER_CALL),
          StartTime: window.start,
          EndTime: window.end,
        },
      );
      for await (const page of pages) answers.push(...(page.MetricDataResults ?? []));
    }
    return answers;
  }
}
