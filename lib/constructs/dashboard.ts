import { Aws, Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Dashboard, GraphWidget, type IMetric, MathExpression, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { JobMetricName } from '../../lambdas/core/metrics.ts';
import { appMetric, jobMetric, type MeteredAccount, perProvider } from './metrics.ts';

export interface CallvaultDashboardProps {
  readonly dashboardName: string;
  /** A sweep-lag line per account, an archived line per provider. */
  readonly accounts: readonly MeteredAccount[];
  /** The ingest workflow, whose failed executions are graphed. */
  readonly stateMachine: IStateMachine;
  /**
   * The webhook API, whose calls, 4xx and 5xx are graphed.
   * @default callvault's own rejections only
   */
  readonly webhookApi?: HttpApi;
  /**
   * Whether an account deletes at source, whose daily outcome is then graphed.
   * @default false
   */
  readonly deletesAtSource?: boolean;
}

/**
 * One page for the operator: archived per provider, bytes, latency (p50/p99, recording end →
 * archived), failures, sweep lag per account, webhook answers, and what the daily compliance jobs
 * found (reconcile's gaps and the age of the stalest proof; delete-at-source's outcome).
 */
export class CallvaultDashboard extends Construct {
  public readonly dashboard: Dashboard;
  /** The dashboard in the CloudWatch console. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: CallvaultDashboardProps) {
    super(scope, id);
    const hour = Duration.hours(1);
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 12, height: 6 });

    this.dashboard = new Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      graph(
        'Recordings archived per provider (per hour)',
        perProvider('RecordingsArchived', props.accounts, { period: hour }),
      ),
      graph('Bytes archived (per hour)', [
        appMetric('BytesArchived', 'service', { period: hour, label: 'bytes' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Archive latency, recording end → archived (s)', [
        appMetric('ArchiveLatencySeconds', 'service', { period: hour, statistic: Stats.p(50), label: 'p50' }),
        appMetric('ArchiveLatencySeconds', 'service', { period: hour, statistic: Stats.p(99), label: 'p99' }),
      ]),
      graph(
        'Failures (per hour)',
        [
          appMetric('ArchiveFailures', 'service', { period: hour, label: 'indexed failed' }),
          appMetric('RecordingsSkipped', 'service', { period: hour, label: 'skipped (gone)' }),
        ],
        [props.stateMachine.metricFailed({ period: hour, statistic: 'Sum', label: 'executions failed' })],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Sweep lag per account: time since the previous successful sweep (s)',
        props.accounts.map((account) =>
          appMetric('SweepLagSeconds', account, { period: hour, statistic: 'Maximum', label: account.id }),
        ),
      ),
      graph(
        'Webhook answers (per 5 minutes)',
        props.webhookApi
          ? [
              props.webhookApi.metricCount({ statistic: 'Sum', label: 'calls' }),
              props.webhookApi.metricClientError({ statistic: 'Sum', label: '4xx' }),
              props.webhookApi.metricServerError({ statistic: 'Sum', label: '5xx' }),
            ]
          : [],
        [appMetric('WebhooksRejected', 'service', { label: 'rejected by callvault' })],
      ),
    );
    const day = Duration.days(1);
    const daily = (name: JobMetricName, stage: string, label: string) =>
      jobMetric(name, stage, { period: day, statistic: 'Sum', label });
    this.dashboard.addWidgets(
      graph(
        'Reconcile (per day)',
        [
          daily('ReconcileGaps', 'reconcile', 'gaps'),
          daily('ExpiringRecordings', 'reconcile', 'expiring unarchived'),
        ],
        [
          new MathExpression({
            label: 'days since the stalest account was re-read in full',
            period: day,
            expression: 'age / 86400',
            usingMetrics: { age: jobMetric('VerifiedPassAgeSeconds', 'reconcile', { period: day }) },
          }),
        ],
      ),
      ...(props.deletesAtSource
        ? [
            graph('Delete-at-source (per day)', [
              daily('DeletedAtSource', 'delete-at-source', 'deleted'),
              daily('DeleteAtSourceUnverified', 'delete-at-source', 'not verified (kept)'),
              daily('DeleteAtSourceFailed', 'delete-at-source', 'provider refused or failed'),
              daily('DeleteAtSourceRemaining', 'delete-at-source', 'left to the next run'),
            ]),
          ]
        : []),
    );
    this.url = `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${props.dashboardName}`;
  }
}
