/**
 * CloudWatch Embedded Metric Format for the daily jobs: one JSON line on stdout becomes metrics,
 * with no SDK call and no cloudwatch:PutMetricData permission (Lambda's log delivery carries it).
 * Names, units and the namespace are core/metrics.ts's, which the alarms read too.
 */
import { DIMENSIONS, JOB_METRICS, type JobMetricName, METRICS_NAMESPACE } from '../core/metrics.ts';

/** Where a job's line is published: per account (when it names one) and per job. */
export type JobDimensions = { stage: string; account?: string };

export function emfLine(
  dimensions: JobDimensions,
  metrics: Partial<Record<JobMetricName, number>>,
  now: Date = new Date(),
): string {
  const named: Record<string, string> = { [DIMENSIONS.stage]: dimensions.stage };
  if (dimensions.account !== undefined) named[DIMENSIONS.account] = dimensions.account;
  // Each dimension on its own set: the same values per account and for the job as a whole.
  const dimensionSets = Object.keys(named).map((name) => [name]);
  return JSON.stringify({
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: dimensionSets,
          Metrics: (Object.keys(metrics) as JobMetricName[]).map((name) => ({
            Name: name,
            Unit: JOB_METRICS[name].unit,
          })),
        },
      ],
    },
    ...named,
    ...metrics,
  });
}

export const writeStdout = (line: string) => {
  process.stdout.write(`${line}\n`);
};
