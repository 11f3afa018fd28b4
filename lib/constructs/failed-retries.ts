import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RetryConfig } from '../../lambdas/core/config.ts';
import type { LOG_METRICS } from '../../lambdas/core/metrics.ts';
import { METRICS_NAMESPACE } from '../../lambdas/core/metrics.ts';
import { ENV_VARS } from '../../lambdas/core/names.ts';
import { RETRIES_EXHAUSTED_MESSAGE } from '../../lambdas/core/retry.ts';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import type { IngestWorkflow } from './ingest-workflow.ts';
import type { RecordingStore } from './recording-store.ts';

export interface FailedRetriesProps {
  /** The index whose sparse failed entries are read (never written: the workflow records the outcome). */
  readonly store: RecordingStore;
  /** The workflow the failed recordings are handed to again. */
  readonly ingest: IngestWorkflow;
  /** The job's schedule and how many rounds a recording gets. */
  readonly retry: RetryConfig;
}

/**
 * The retry job for failed recordings: one function on its own EventBridge schedule that reads
 * the index's sparse failed entries and hands those due to the workflow again; an alarm when
 * any reached the retry limit.
 */
export class FailedRetries extends Construct {
  /** Reads the due failed entries and starts their executions again. */
  public readonly retryFunction: AppFunction;
  /** The job's schedule (config `retry.schedule`). */
  public readonly rule: Rule;
  /** `RetriesExhausted`, from the function's log line that counts them. */
  public readonly exhaustedFilter: MetricFilter;
  /** Failed recordings reached the retry limit. */
  public readonly exhaustedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: FailedRetriesProps) {
    super(scope, id);
    this.retryFunction = new AppFunction(this, 'RetryFunction', {
      handlerName: 'retry',
      timeout: Duration.minutes(5),
      environment: { [ENV_VARS.retry]: JSON.stringify(props.retry) },
    });
    // It only reads the index and starts executions; the workflow writes the outcome.
    props.store.bindIndex(this.retryFunction, 'read');
    props.ingest.grantStartAndDescribe(this.retryFunction);

    this.rule = new Rule(this, 'Schedule', {
      description: 'callvault retry of failed recordings',
      schedule: Schedule.expression(props.retry.schedule),
      targets: [
        new LambdaFunction(this.retryFunction, { event: RuleTargetInput.fromObject({}), retryAttempts: 2 }),
      ],
    });

    this.exhaustedFilter = new MetricFilter(this, 'ExhaustedFilter', {
      logGroup: this.retryFunction.logGroup,
      filterPattern: FilterPattern.stringValue('$.message', '=', RETRIES_EXHAUSTED_MESSAGE),
      metricNamespace: METRICS_NAMESPACE,
      metricName: 'RetriesExhausted' satisfies keyof typeof LOG_METRICS,
      metricValue: '$.exhausted',
      defaultValue: 0,
    });
    this.exhaustedAlarm = alarmOnAny(
      this,
      'RetriesExhausted',
      this.exhaustedFilter.metric({ period: Duration.hours(1), statistic: 'Maximum' }),
      'Failed recordings reached the retry limit: `recordings list --status failed` shows them with the reason.',
    );
  }
}
