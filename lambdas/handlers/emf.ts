/**
 * CloudWatch Embedded Metric Format: one JSON line on stdout becomes metrics, with no SDK call
 * and no cloudwatch:PutMetricData permission (Lambda's log delivery carries it).
 */
export const METRIC_NAMESPACE = 'Callvault';

export function emfLine(
  dimensions: Record<string, string>,
  metrics: Record<string, number>,
  now: Date = new Date(),
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [Object.keys(dimensions)],
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
