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
  /**
   * The index whose sparse failed entries are read; the job writes only its note that an entry
   * was reported at the retry limit (the workflow records every outcome).
   */
  readonly store: RecordingStore;
  /** The workflow the failed recordings are handed to again. */
  readonly ingest: IngestWorkflow;
  /** The job's schedule and how many rounds a recording gets. */
  readonly retry: RetryConfig;
}

/**
 * The retry job for failed recordings: one function on its own EventBridge schedule that reads
 * the index's sparse failed entries and hands those due to the workflow again; an alarm when
 * one newly reached the retry limit, and one when a run failed (some could not be handed over).
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
  /** A run failed: failed recordings could not be handed over again, or the job itself broke. */
  public readonly errorsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: FailedRetriesProps) {
    super(scope, id);
    this.retryFunction = new AppFunction(this, 'RetryFunction', {
      handlerName: 'retry',
      timeout: Duration.minutes(5),
      environment: { [ENV_VARS.retry]: JSON.stringify(props.retry) },
    });
    // It reads the index, notes what it reported, and starts executions; the workflow writes the outcome.
    props.store.bindIndex(this.retryFunction, 'readPatch');
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
    this.errorsAlarm = alarmOnAny(
      this,
      'RetryErrors',
      this.retryFunction.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      'The retry job failed: failed recordings could not be handed over again (its log names them); the next run tries again.',
    );
  }
}
