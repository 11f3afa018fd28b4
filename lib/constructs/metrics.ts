import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import {
  DIMENSIONS,
  type JobMetricName,
  METRICS_NAMESPACE,
  type MetricName,
  metricDimensions,
} from '../../lambdas/core/metrics.ts';

export interface MeteredAccount {
  readonly id: string;
  readonly provider: string;
}

/**
 * A metric the functions emit (lambdas/core/metrics.ts), under one of its two dimension sets:
 * one account (with its provider), or the whole service.
 */
export function appMetric(
  name: MetricName,
  account: MeteredAccount | 'service',
  options: MetricOptions = {},
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: metricDimensions(account),
    statistic: 'Sum',
    period: Duration.minutes(5),
    ...options,
  });
}

/**
 * A daily job's metric over every account: its per-job (`stage`) set (handlers/emf.ts), one
 * datapoint a day per account, so daily by default.
 */
export function jobMetric(name: JobMetricName, stage: string, options: MetricOptions = {}): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { [DIMENSIONS.stage]: stage },
    period: Duration.days(1),
    statistic: 'Maximum',
    ...options,
  });
}

/** The sum of one metric over the accounts of each provider: one line per provider. */
export function perProvider(
  name: MetricName,
  accounts: readonly MeteredAccount[],
  options: MetricOptions = {},
): MathExpression[] {
  const providers = [...new Set(accounts.map((account) => account.provider))].sort();
  return providers.map((provider) => {
    const members = accounts
      .map((account, position) => ({ account, id: `m${position}` }))
      .filter(({ account }) => account.provider === provider);
    return new MathExpression({
      label: provider,
      period: options.period ?? Duration.minutes(5),
      // SUM([...]) adds the series point by point and tolerates an account with no data.
      expression: `SUM([${members.map(({ id }) => id).join(', ')}])`,
      usingMetrics: Object.fromEntries(
        members.map(({ account, id }) => [id, appMetric(name, account, options)]),
      ),
    });
  });
}
