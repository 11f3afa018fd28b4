import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RetryConfig } from '../../lambdas/core/config.ts';
import type { LOG_METRICS } from '../../lambdas/core/metrics.ts';
import { METRICS_NAMESPACE } from '../../lambdas/core/metrics.ts';
import { RETRIES_EXHAUSTED_MESSAGE } from '../../lambdas/core/retry.ts';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import { grantStartAndDescribe } from './ingest-workflow.ts';
import { grantIndexRead } from './recording-store.ts';

export interface FailedRetriesProps {
  readonly table: ITable;
  readonly stateMachine: IStateMachine;
  readonly retry: RetryConfig;
}

/**
 * The retry job for failed recordings: one function on its own EventBridge schedule that reads
 * the index's sparse failed entries and hands those due to the workflow again; an alarm when
 * any reached the retry limit.
 */
export class FailedRetries extends Construct {
  public readonly retryFunction: AppFunction;
  public readonly rule: Rule;
  public readonly exhaustedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: FailedRetriesProps) {
    super(scope, id);
    this.retryFunction = new AppFunction(this, 'RetryFunction', {
      handlerName: 'retry',
      timeout: Duration.minutes(5),
      environment: {
        TABLE_NAME: props.table.tableName,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        CALLVAULT_RETRY: JSON.stringify(props.retry),
      },
    });
    // It only reads the index and starts executions; the workflow writes the outcome.
    grantIndexRead(props.table, this.retryFunction);
    grantStartAndDescribe(props.stateMachine, this.retryFunction);

    this.rule = new Rule(this, 'Schedule', {
      description: 'callvault retry of failed recordings',
      schedule: Schedule.expression(props.retry.schedule),
      targets: [
        new LambdaFunction(this.retryFunction, { event: RuleTargetInput.fromObject({}), retryAttempts: 2 }),
      ],
    });

    const exhausted = new MetricFilter(this, 'ExhaustedFilter', {
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
      exhausted.metric({ period: Duration.hours(1), statistic: 'Maximum' }),
      'Failed recordings reached the retry limit: `recordings list --status failed` shows them with the reason.',
    );
  }
}
