import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  Choice,
  Condition,
  Fail,
  type StateMachine,
  Succeed,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV_VARS } from '../../lambdas/core/names.ts';
import type { AccountConfig } from './account-config.ts';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import type { IngestWorkflow } from './ingest-workflow.ts';
import type { RecordingStore } from './recording-store.ts';
import { invokeStep, loggedStateMachine, transientRetry } from './workflow.ts';

export interface SweepWorkflowProps {
  /** The index: the sweep journal, its checkpoints and leases, and the entries it skips. */
  readonly store: RecordingStore;
  /** The accounts whose providers are listed. */
  readonly accounts: AccountConfig;
  /** The ingest workflow the sweep hands recordings to. */
  readonly ingest: IngestWorkflow;
}

/**
 * Errors a later attempt of the same unit may not meet: the provider or AWS busy (a 429 past the
 * transport's retries is ProviderBusyError, DynamoDB throttling AwsThrottledError), the Lambda
 * service itself, a page whose hand-over was throttled. The checkpoint makes a retry redo only
 * the unit that failed; the retries (~10 minutes in all) stay within the sweep's lease.
 */
const TRANSIENT_ERRORS = [
  'ProviderUnavailableError',
  'ProviderBusyError',
  'AwsThrottledError',
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
  /** `{stack}-sweep`: fixed, so the ARN is known before the machine exists. */
  public readonly stateMachineName: string;
  /** Known before the machine exists: its function starts continuations of it. */
  public readonly stateMachineArn: string;
  /** Runs one listing unit (SweepPage) and stores its checkpoint. */
  public readonly sweepFunction: AppFunction;
  /** A pass failed after its retries. */
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
    });
    props.store.bindIndex(this.sweepFunction, 'readWrite');
    props.ingest.grantStartAndDescribe(this.sweepFunction);
    props.accounts.bind(this.sweepFunction);
    this.grantStart(this.sweepFunction);

    const page = invokeStep(this, 'SweepPage', {
      lambdaFunction: this.sweepFunction,
      payload: { 'state.$': '$', 'execution.$': '$$.Execution.Name' },
      taskTimeout: Duration.minutes(6),
    });
    page
      .addRetry(transientRetry(TRANSIENT_ERRORS, Duration.seconds(10), 6))
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

    this.stateMachine = loggedStateMachine(this, {
      stateMachineName: this.stateMachineName,
      definition: page.next(nextUnit),
      timeout: Duration.days(7),
      invokes: 'the sweep function ARN',
    });

    this.failedSweepsAlarm = alarmOnAny(
      this,
      'FailedSweeps',
      this.stateMachine.metricFailed({ period: Duration.minutes(15), statistic: 'Sum' }),
      'A sweep pass failed after its retries; it resumes from its checkpoint on the next schedule.',
    );
  }

  /**
   * Tells a function the sweep workflow and lets it start executions of it: the sweep's own
   * continuation of a long pass (schedules start it through their own role, AccountSweeps).
   */
  public grantStart(fn: AppFunction): void {
    fn.addEnvironment(ENV_VARS.sweepStateMachineArn, this.stateMachineArn);
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachineArn] }),
    );
  }
}
