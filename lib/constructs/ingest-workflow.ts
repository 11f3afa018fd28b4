import { Duration } from 'aws-cdk-lib';
import { type Alarm, MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
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
import type { ReadinessConfig } from '../../lambdas/core/config.ts';
import type { RecordStepOutcome } from '../../lambdas/core/ingest.ts';
import { ENV_VARS } from '../../lambdas/core/names.ts';
import { worstCaseRequestMs } from '../../lambdas/providers/http.ts';
import type { AccountConfig } from './account-config.ts';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import { acknowledge, defaultPolicyOf, logicalIdOf } from './nag.ts';
import { PROVIDER_BUSY_RETRY } from './provider-slots.ts';
import type { RecordingStore } from './recording-store.ts';
import { invokeStep, loggedStateMachine, transientRetry } from './workflow.ts';

export interface IngestWorkflowProps {
  /** Where recordings are archived (bucket) and their outcome recorded (index). */
  readonly store: RecordingStore;
  /** The accounts (configuration object and secrets); the check and archive functions read them. */
  readonly accounts: AccountConfig;
  /** How long and how often the check function waits for a recording to be ready. */
  readonly readiness: ReadinessConfig;
  /**
   * Memory of the archive function; the multipart upload buffers about partSize × queueSize.
   * @default 1024
   */
  readonly archiveMemoryMiB?: number;
}

/**
 * Error names a fresh attempt may fix: typed errors (lambdas/core/errors.ts), a task timeout,
 * and what the Lambda service and sandbox answer when they, not our code, failed.
 */
export const TRANSIENT_ERRORS = [
  'ProviderUnavailableError',
  'IncompleteDownloadError',
  'AwsThrottledError',
  'States.Timeout',
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.Unknown',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Sandbox.Timedout',
];

/**
 * The check function's timeout: above one provider request's worst case with all its retries
 * (a status call), so the transport's own retries end before Lambda's clock does.
 */
export const CHECK_TIMEOUT = Duration.seconds(Math.min(900, Math.ceil(worstCaseRequestMs() / 1000) + 60));

/** Statuses of an execution that ended without its own outcome step having run. */
export const STOPPED_STATUSES = ['TIMED_OUT', 'ABORTED', 'FAILED'];

/**
 * The ingest workflow: one Standard execution per recording.
 * CheckReadiness → Route → (Wait → CheckReadiness)* → Archive → RecordArchived; gone at the
 * provider → RecordSkipped; any failure → RecordFailed → IngestFailed. A recording ready at the
 * first check takes four state transitions.
 */
export class IngestWorkflow extends Construct {
  public readonly stateMachine: StateMachine;
  /** Asks the provider whether the recording is ready (CheckReadiness). */
  public readonly checkFunction: AppFunction;
  /** Streams the audio into the bucket, byte-verified (Archive). */
  public readonly archiveFunction: AppFunction;
  /** Writes the outcome to the index (RecordArchived, RecordSkipped, RecordFailed). */
  public readonly recordFunction: AppFunction;
  /** Records executions that timed out or were aborted as `failed` (EventBridge target). */
  public readonly endedFunction: AppFunction;
  /** Sends timed-out, aborted and failed executions to the ended function. */
  public readonly stoppedExecutionsRule: Rule;
  /** A recording could not be archived. */
  public readonly failedExecutionsAlarm: Alarm;
  /** An execution timed out or was aborted. */
  public readonly stoppedExecutionsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: IngestWorkflowProps) {
    super(scope, id);
    const { store, accounts } = props;
    // Each function is told only the names it uses, and granted exactly what it uses.
    this.checkFunction = new AppFunction(this, 'CheckFunction', {
      handlerName: 'check',
      environment: { [ENV_VARS.readiness]: JSON.stringify(props.readiness) },
      timeout: CHECK_TIMEOUT,
    });
    store.bindIndex(this.checkFunction, 'read');
    store.bindProviderSlots(this.checkFunction);
    accounts.bind(this.checkFunction);

    this.archiveFunction = new AppFunction(this, 'ArchiveFunction', {
      handlerName: 'archive',
      memorySize: props.archiveMemoryMiB ?? 1024,
      timeout: Duration.minutes(15),
    });
    store.bindArchive(
      this.archiveFunction,
      'Object keys are made per recording at run time (recordings/{account}/{date}/{name}.{ext}): ' +
        'get/put/abort-multipart are limited to the archive prefix, no delete.',
    );
    // Reads the recording's entry (erased since the check?); writes only the provider slots.
    store.bindIndex(this.archiveFunction, 'get');
    store.bindProviderSlots(this.archiveFunction);
    accounts.bind(this.archiveFunction);

    this.recordFunction = new AppFunction(this, 'RecordFunction', { handlerName: 'record' });
    store.bindIndex(this.recordFunction, 'readWrite');
    this.endedFunction = new AppFunction(this, 'EndedFunction', { handlerName: 'ended' });
    store.bindIndex(this.endedFunction, 'readWrite');

    const check = invokeStep(this, 'CheckReadiness', {
      lambdaFunction: this.checkFunction,
      taskTimeout: CHECK_TIMEOUT.plus(Duration.seconds(30)),
    });
    const archive = invokeStep(this, 'Archive', {
      lambdaFunction: this.archiveFunction,
      resultPath: '$.archive',
      taskTimeout: Duration.minutes(15).plus(Duration.seconds(30)),
    });
    const record = (name: string, outcome: RecordStepOutcome, resultPath = '$.indexed') =>
      invokeStep(this, name, {
        lambdaFunction: this.recordFunction,
        payload: { 'state.$': '$', outcome },
        resultPath,
        taskTimeout: Duration.seconds(90),
      }).addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 4, backoffRate: 2 });
    const recordArchived = record('RecordArchived', 'archived');
    const recordSkipped = record('RecordSkipped', 'skipped');
    const recordFailed = record('RecordFailed', 'failed').next(
      new Fail(this, 'IngestFailed', { error: 'IngestFailed', causePath: '$.indexed.reason' }),
    );
    // An execution a sweep paced frees its place in the sweep's count however it ends: with no
    // outcome to write, a step of its own does it (without, the count stays high until stale).
    const endWithoutOutcome = (name: string) => {
      const end = new Succeed(this, name);
      const freePlace = record(`${name}FreePlace`, 'none', '$.freed')
        .addCatch(end, { errors: ['States.ALL'], resultPath: '$.error' })
        .next(end);
      return new Choice(this, `${name}Paced`)
        .when(
          Condition.and(Condition.isPresent('$.paced'), Condition.booleanEquals('$.paced', true)),
          freePlace,
        )
        .otherwise(end);
    };
    const wait = new Wait(this, 'WaitForRecording', { time: WaitTime.secondsPath('$.waitSeconds') }).next(
      check,
    );

    const transient = transientRetry(TRANSIENT_ERRORS, Duration.seconds(5), 5);
    check
      .addRetry(PROVIDER_BUSY_RETRY)
      .addRetry(transient)
      .addCatch(recordFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    archive
      .addRetry(PROVIDER_BUSY_RETRY)
      .addRetry(transient)
      .addCatch(wait, { errors: ['RecordingNotReadyError'], resultPath: '$.error' })
      .addCatch(recordSkipped, { errors: ['RecordingGoneError'], resultPath: '$.error' })
      // Erased while this execution ran: the tombstone is its outcome, nothing is written.
      .addCatch(endWithoutOutcome('Erased'), { errors: ['RecordingErasedError'], resultPath: '$.error' })
      .addCatch(recordFailed, { errors: ['States.ALL'], resultPath: '$.error' });

    const route = new Choice(this, 'Route')
      .when(Condition.stringEquals('$.decision', 'archive'), archive.next(recordArchived))
      .when(Condition.stringEquals('$.decision', 'wait'), wait)
      .when(Condition.stringEquals('$.decision', 'skip'), recordSkipped)
      .when(Condition.stringEquals('$.decision', 'timeout'), recordFailed)
      .otherwise(endWithoutOutcome('AlreadyDone'));

    this.stateMachine = loggedStateMachine(this, {
      definition: check.next(route),
      timeout: Duration.seconds(props.readiness.deadlineSeconds + 6 * 3600),
      invokes: 'the three function ARNs',
    });

    this.failedExecutionsAlarm = alarmOnAny(
      this,
      'FailedExecutions',
      this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      'A recording could not be archived: see its index entry for the reason.',
    );

    // An execution that times out or is aborted runs no step of its own: the status-change event
    // records it as failed instead (a FAILED one after RecordFailed is recognized and ignored),
    // with what its last state knew of the call, read from its history.
    this.grantOnExecutions(this.endedFunction, 'states:GetExecutionHistory');
    this.stoppedExecutionsRule = new Rule(this, 'StoppedExecutionsRule', {
      description: 'callvault: ingest executions that ended without recording an outcome',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: STOPPED_STATUSES, stateMachineArn: [this.stateMachine.stateMachineArn] },
      },
      targets: [new LambdaFunction(this.endedFunction, { retryAttempts: 8 })],
    });
    const metric = { period: Duration.minutes(5), statistic: 'Sum' };
    this.stoppedExecutionsAlarm = alarmOnAny(
      this,
      'StoppedExecutions',
      new MathExpression({
        expression: 'timedOut + aborted',
        usingMetrics: {
          timedOut: this.stateMachine.metricTimedOut(metric),
          aborted: this.stateMachine.metricAborted(metric),
        },
        period: Duration.minutes(5),
      }),
      'An ingest execution timed out or was aborted: its recording is indexed as failed.',
    );
  }

  /**
   * Tells a function the ingest workflow and lets it start executions and ask how they ended: a
   * sweep or a webhook that finds an execution of the same name tells a running one from one
   * that ended without an outcome.
   */
  public grantStartAndDescribe(fn: AppFunction): void {
    fn.addEnvironment(ENV_VARS.stateMachineArn, this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(fn);
    this.grantOnExecutions(fn, 'states:DescribeExecution');
  }

  /** An action on every execution of the ingest machine (their names are made at run time). */
  private grantOnExecutions(fn: AppFunction, action: string): void {
    this.stateMachine.grantExecution(fn, action);
    const machineRef = JSON.stringify({ Ref: logicalIdOf(this.stateMachine) });
    acknowledge(defaultPolicyOf(fn.role), {
      rule: 'AwsSolutions-IAM5',
      resource: `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",${machineRef}]}]}:*`,
      reason: `Execution names are made per recording at run time: ${action} only, on executions of the ingest state machine only.`,
    });
  }
}
