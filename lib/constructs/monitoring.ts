import { ArnFormat, Aspects, Duration, type IAspect, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmBase,
  CfnAlarm,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { nextRun, parseSchedule } from '../../lambdas/core/schedule.ts';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import { CallvaultDashboard } from './dashboard.ts';
import { appMetric, type MeteredAccount } from './metrics.ts';

export interface MonitoredAccount extends MeteredAccount {
  /** EventBridge `rate(...)` or `cron(...)`. */
  readonly schedule: string;
}

export interface MonitoringProps {
  /**
   * `topicArn`: notify an existing topic; otherwise the stack creates one (`email` subscribed).
   * @default a topic of the stack's own, nobody subscribed
   */
  readonly alarms?: { readonly email?: string; readonly topicArn?: string };
  /** The accounts: one "no successful sweep" alarm per ten of a schedule, a dashboard line each. */
  readonly accounts: readonly MonitoredAccount[];
  /** The ingest workflow: timed-out, throttled and aborted executions alarm. */
  readonly stateMachine: IStateMachine;
  /** The recording index: throttled reads or writes alarm. */
  readonly table: ITable;
  /**
   * The webhook API: a surge of 4xx answers alarms, and the dashboard shows its answers.
   * @default no webhook alarm or graph
   */
  readonly webhookApi?: HttpApi;
  /**
   * An account alarms once this many of its schedule's intervals passed without a successful sweep.
   * @default 3
   */
  readonly missedSweeps?: number;
  /**
   * Webhook calls answered 4xx in five minutes that count as a surge (a misconfigured provider or
   * someone probing the public route).
   * @default 50
   */
  readonly webhookRejectionsPerFiveMinutes?: number;
  /**
   * A function alarms when its longest invocation in five minutes reaches this share of its timeout.
   * @default 0.8
   */
  readonly durationAlarmRatio?: number;
  /**
   * Whether an account deletes at source: the dashboard then graphs delete-at-source's outcome.
   * @default false
   */
  readonly deletesAtSource?: boolean;
}

/**
 * Alarms that reach someone: one SNS topic is the action of every alarm of the stack (an Aspect,
 * so alarms any construct adds get it too), the alarms an operator needs, and the dashboard.
 * Create it last in the stack: it alarms on every AppFunction that exists by then.
 */
export class Monitoring extends Construct {
  /** Every alarm of the stack notifies it. */
  public readonly topic: ITopic;
  public readonly dashboard: CallvaultDashboard;
  /** "No successful sweep", one alarm per ten accounts of a schedule. */
  public readonly noSweepAlarms: Alarm[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.topic = props.alarms?.topicArn
      ? Topic.fromTopicArn(this, 'AlarmTopic', props.alarms.topicArn)
      : this.createTopic();
    if (props.alarms?.email) this.topic.addSubscription(new EmailSubscription(props.alarms.email));
    Aspects.of(stack).add(new NotifyOnAlarm(this.topic));

    const machine = props.stateMachine;
    const fiveMinutes = { period: Duration.minutes(5), statistic: 'Sum' };
    alarmOnAny(
      this,
      'ExecutionsTimedOut',
      machine.metricTimedOut(fiveMinutes),
      'An ingest execution hit the state machine timeout.',
    );
    alarmOnAny(
      this,
      'ExecutionsThrottled',
      machine.metricThrottled(fiveMinutes),
      'Step Functions throttled the ingest workflow.',
    );
    alarmOnAny(
      this,
      'ExecutionsAborted',
      machine.metricAborted(fiveMinutes),
      'An ingest execution was aborted (by hand or by a deployment): its recording has no outcome yet.',
    );

    const ratio = props.durationAlarmRatio ?? 0.8;
    for (const fn of stack.node
      .findAll()
      .filter((node): node is AppFunction => node instanceof AppFunction)) {
      const name = fn.node.path.split('/').slice(1).join('/');
      const key = name.replace(/\//g, '-');
      alarmOnAny(
        this,
        `Throttles-${key}`,
        fn.metricThrottles(fiveMinutes),
        `Lambda throttled ${name}: raise its reserved concurrency or the account limit.`,
      );
      const timeout = fn.timeout ?? Duration.seconds(3);
      new Alarm(this, `NearTimeout-${key}`, {
        alarmDescription: `${name} ran for ${Math.round(ratio * 100)}% of its ${timeout.toSeconds()} s timeout.`,
        metric: fn.metricDuration({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: Math.round(timeout.toMilliseconds() * ratio),
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    new Alarm(this, 'TableThrottled', {
      alarmDescription: 'DynamoDB throttled reads or writes of the recording index.',
      metric: new MathExpression({
        expression: 'reads + writes',
        period: Duration.minutes(5),
        usingMetrics: {
          reads: props.table.metric('ReadThrottleEvents', fiveMinutes),
          writes: props.table.metric('WriteThrottleEvents', fiveMinutes),
        },
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.noSweepAlarms = noSweepAlarms(this, props.accounts, props.missedSweeps ?? 3);

    if (props.webhookApi) {
      new Alarm(this, 'WebhookRejections', {
        alarmDescription:
          'Many webhook calls answered 4xx: a provider with a wrong secret or URL, or someone probing.',
        metric: props.webhookApi.metricClientError(fiveMinutes),
        threshold: props.webhookRejectionsPerFiveMinutes ?? 50,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    alarmOnAny(
      this,
      'RecordingsFailed',
      appMetric('ArchiveFailures', 'service'),
      'A recording was indexed as failed: `callvault recordings list --status failed` shows why.',
    );

    this.dashboard = new CallvaultDashboard(this, 'Dashboard', {
      dashboardName: stack.stackName,
      accounts: props.accounts,
      stateMachine: machine,
      webhookApi: props.webhookApi,
      deletesAtSource: props.deletesAtSource,
    });
  }

  /**
   * CloudWatch publishes to an encrypted topic only with a customer managed key whose policy lets
   * it: the topic has a key of its own, even when config `encryption` names one (an imported
   * key's policy cannot be changed from here, and the archive's key is better not opened to
   * CloudWatch). And a topic policy replaces SNS's default one, so the TLS-only policy must
   * allow this account's alarms to publish, or every notification is refused.
   */
  private createTopic(): Topic {
    const stack = Stack.of(this);
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'callvault alarm topic',
      enableKeyRotation: true,
    });
    key.grant(cloudWatch, 'kms:Decrypt', 'kms:GenerateDataKey*');
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: 'callvault alarms',
      masterKey: key,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisAccountsAlarms',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return topic;
  }
}

/** Every alarm in the stack, whoever created it, notifies the topic. */
class NotifyOnAlarm implements IAspect {
  private readonly action: SnsAction;
  private readonly done = new WeakSet<IConstruct>();

  constructor(private readonly topic: ITopic) {
    this.action = new SnsAction(topic);
  }

  visit(node: IConstruct): void {
    if (this.done.has(node)) return;
    if (node instanceof AlarmBase) {
      this.done.add(node);
      node.addAlarmAction(this.action);
    } else if (node instanceof CfnAlarm && !(node.node.scope instanceof AlarmBase)) {
      // An L1 alarm nobody wrapped: its actions are a plain list.
      this.done.add(node);
      const actions = Array.isArray(node.alarmActions) ? node.alarmActions : [];
      node.alarmActions = [...actions, this.topic.topicArn];
    }
  }
}

/**
 * No successful sweep of an account for `missed` × its schedule. One alarm covers up to ten
 * accounts of the same schedule (a metric-math alarm reads at most ten metrics): the lowest
 * count of the group, no data counted as none. Per account, 200 accounts would need 200 alarms
 * beside their 200 schedules, past CloudFormation's 500 resources.
 */
function noSweepAlarms(scope: Construct, accounts: readonly MonitoredAccount[], missed: number): Alarm[] {
  const bySchedule = new Map<string, MonitoredAccount[]>();
  for (const account of accounts) {
    const group = bySchedule.get(account.schedule) ?? [];
    group.push(account);
    bySchedule.set(account.schedule, group);
  }
  const alarms: Alarm[] = [];
  for (const [schedule, scheduled] of bySchedule) {
    const window = sweepAlarmWindow(schedule, missed);
    for (let start = 0; start < scheduled.length; start += ALARM_METRICS_MAX) {
      const group = scheduled.slice(start, start + ALARM_METRICS_MAX);
      const ids = group.map((account) => account.id);
      const usingMetrics = Object.fromEntries(
        group.map((account, i) => [`m${i}`, appMetric('SweepSucceeded', account, { period: window.period })]),
      );
      alarms.push(
        new Alarm(scope, `NoSweep-${ids[0]}`, {
          alarmDescription:
            `No successful sweep for ${missed} × the schedule (${schedule}) of one of the accounts ${ids.join(', ')}: ` +
            'see `callvault status --deployed` for which, and the sweep workflow executions.',
          metric: new MathExpression({
            expression: 'MIN(FILL(METRICS(), 0))',
            usingMetrics,
            period: window.period,
            label: `successful sweeps, lowest of ${ids.length} accounts`,
          }),
          threshold: 1,
          evaluationPeriods: window.evaluationPeriods,
          comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
          // No data is exactly what this alarm is about.
          treatMissingData: TreatMissingData.BREACHING,
        }),
      );
    }
  }
  return alarms;
}

/** A metric-math alarm reads at most ten metrics. */
const ALARM_METRICS_MAX = 10;

/**
 * The longest gap between runs of a schedule (a rate's interval; for a cron, the widest gap in a
 * year of its runs) times `missed`, as an alarm period and evaluation periods (≤ 7 days in all).
 */
export function sweepAlarmWindow(
  expression: string,
  missed: number,
): { period: Duration; evaluationPeriods: number } {
  const schedule = parseSchedule(expression);
  let gapMs: number;
  if (schedule.kind === 'rate') {
    gapMs = schedule.everyMs;
  } else {
    gapMs = 0;
    const start = new Date('2026-01-01T00:00:00Z');
    let previous = nextRun(schedule, start);
    for (
      let runs = 0;
      previous && runs < 1000 && previous.getTime() < start.getTime() + 366 * 86_400_000;
      runs++
    ) {
      const next = nextRun(schedule, previous);
      if (!next) break;
      gapMs = Math.max(gapMs, next.getTime() - previous.getTime());
      previous = next;
    }
  }
  const windowSeconds = Math.min(7 * 86_400, Math.max(60, Math.ceil((gapMs * missed) / 60_000) * 60));
  if (windowSeconds <= 86_400) return { period: Duration.seconds(windowSeconds), evaluationPeriods: 1 };
  return { period: Duration.days(1), evaluationPeriods: Math.ceil(windowSeconds / 86_400) };
}
