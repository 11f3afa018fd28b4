/**
 * CloudWatch Embedded Metric Format: one JSON line on stdout becomes metrics, with no SDK call
 * and no cloudwatch:PutMetricData permission (Lambda's log delivery carries it).
 */
export const METRIC_NAMESPACE = 'Callvault';

/**
 * `dimensionSets` defaults to one set of every dimension given; more sets publish the same values
 * under each (e.g. per account and for the whole stack, so one alarm covers every account).
 */
export function emfLine(
  dimensions: Record<string, string>,
  metrics: Record<string, number>,
  now: Date = new Date(),
  dimensionSets: string[][] = [Object.keys(dimensions)],
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: dimensionSets,
          Metrics: Object.keys(metrics).map((name) => ({ Name: name, Unit: 'Count' })),
        },
      ],
    },
    ...dimensions,
    ...metrics,
  });
}

export const writeStdout = (line: string) => {
  process.stdout.write(`${line}\n`);
};
