import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  type IStateMachine,
  JitterType,
  LogLevel,
  QueryLanguage,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { AccountConfig } from './account-config.ts';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import { grantStartAndDescribe } from './ingest-workflow.ts';
import { grantIndexReadWrite } from './recording-store.ts';

export interface SweepWorkflowProps {
  readonly table: ITable;
  readonly accounts: AccountConfig;
  /** The ingest workflow the sweep hands recordings to. */
  readonly ingest: IStateMachine;
}

/**
 * Errors a later attempt of the same unit may not meet: the provider or AWS busy, the Lambda
 * service itself, a page whose hand-over was throttled. The checkpoint makes a retry redo only
 * the unit that failed.
 */
const TRANSIENT_ERRORS = [
  'ProviderUnavailableError',
  'SweepIncompleteError',
  'States.Timeout',
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.Unknown',
  'Sandbox.Timedout',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
];

/**
 * An account's sweep as a workflow of its own: SweepPage handles one listing unit and stores the
 * checkpoint, NextUnit loops until the pass is done. At most one sweep of an account runs (the
 * lease the first unit takes); a second one ends at once, or waits when it is a backfill. A pass
 * that runs long continues in a fresh execution (the unit handler starts it), so no execution
 * nears the 25,000-event history limit. JSONPath only: the local interpreter runs it too.
 */
export class SweepWorkflow extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly stateMachineName: string;
  /** Known before the machine exists: its function starts continuations of it. */
  public readonly stateMachineArn: string;
  public readonly sweepFunction: AppFunction;
  public readonly failedSweepsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: SweepWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.stateMachineName = `${stack.stackName}-sweep`;
    this.stateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: this.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.sweepFunction = new AppFunction(this, 'SweepFunction', {
      handlerName: 'sweep-step',
      // One page and its hand-over; the lease (15 minutes) outlasts it.
      timeout: Duration.minutes(5),
      environment: {
        TABLE_NAME: props.table.tableName,
        STATE_MACHINE_ARN: props.ingest.stateMachineArn,
        SWEEP_STATE_MACHINE_ARN: this.stateMachineArn,
        ...props.accounts.environment,
      },
    });
    grantIndexReadWrite(props.table, this.sweepFunction);
    grantStartAndDescribe(props.ingest, this.sweepFunction);
    props.accounts.grantRead(this.sweepFunction);
    this.sweepFunction.addToRolePolicy(
      new PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachineArn] }),
    );

    const page = new LambdaInvoke(this, 'SweepPage', {
      lambdaFunction: this.sweepFunction,
      payloadResponseOnly: true,
      payload: TaskInput.fromObject({ 'state.$': '$', 'execution.$': '$$.Execution.Name' }),
      taskTimeout: Timeout.duration(Duration.minutes(6)),
    });
    page
      .addRetry({
        errors: TRANSIENT_ERRORS,
        interval: Duration.seconds(10),
        maxAttempts: 6,
        backoffRate: 2,
        maxDelay: Duration.minutes(5),
        jitterStrategy: JitterType.FULL,
      })
      // The checkpoint stays: the lease expires and the next scheduled sweep resumes from it.
      .addCatch(new Fail(this, 'SweepFailed', { error: 'SweepFailed', causePath: '$.error.Cause' }), {
        errors: ['States.ALL'],
        resultPath: '$.error',
      });
    const waitForLease = new Wait(this, 'WaitForOtherSweep', {
      time: WaitTime.duration(Duration.minutes(1)),
    }).next(page);
    // The account has enough executions in flight: the next page waits for them to drain.
    const waitForInFlight = new Wait(this, 'WaitForInFlight', {
      time: WaitTime.secondsPath('$.waitSeconds'),
    }).next(page);
    const nextUnit = new Choice(this, 'NextUnit')
      .when(Condition.stringEquals('$.status', 'running'), page)
      .when(Condition.stringEquals('$.status', 'waiting'), waitForInFlight)
      .when(
        Condition.and(
          Condition.stringEquals('$.status', 'busy'),
          Condition.isPresent('$.waitIfBusy'),
          Condition.booleanEquals('$.waitIfBusy', true),
        ),
        waitForLease,
      )
      .when(Condition.stringEquals('$.status', 'busy'), new Succeed(this, 'OtherSweepRunning'))
      .otherwise(new Succeed(this, 'SweepDone'));

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: this.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      queryLanguage: QueryLanguage.JSON_PATH,
      definitionBody: DefinitionBody.fromChainable(page.next(nextUnit)),
      timeout: Duration.days(7),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'ExecutionLogs', { retention: RetentionDays.THREE_MONTHS }),
        level: LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    const stateMachinePolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (stateMachinePolicy) {
      Validations.of(stateMachinePolicy).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'Execution logging and tracing (AwsSolutions-SF1/SF2): the CloudWatch Logs log-delivery actions ' +
          'and X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions. ' +
          'lambda:InvokeFunction is on the sweep function ARN only.',
      });
    }

    this.failedSweepsAlarm = alarmOnAny(
      this,
      'FailedSweeps',
      this.stateMachine.metricFailed({ period: Duration.minutes(15), statistic: 'Sum' }),
      'A sweep pass failed after its retries; it resumes from its checkpoint on the next schedule.',
    );
  }
}
