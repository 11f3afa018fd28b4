import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { type Alarm, MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
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
import type { ReadinessConfig } from '../../lambdas/core/config.ts';
import { worstCaseRequestMs } from '../../lambdas/providers/http.ts';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import { grantProviderSlots, PROVIDER_BUSY_RETRY } from './provider-slots.ts';
import {
  ARCHIVE_KEY_PREFIX,
  grantArchiveReadWrite,
  grantIndexRead,
  grantIndexReadWrite,
} from './recording-store.ts';

export interface IngestWorkflowProps {
  readonly bucket: IBucket;
  readonly table: ITable;
  /** Secrets holding each account's credentials; the check and archive functions read them. */
  readonly accountSecrets: ISecret[];
  /** The non-secret account configuration, passed to the functions as `CALLVAULT_ACCOUNTS`. */
  readonly accountsJson: string;
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
/**
 * Lets a function start executions and ask how they ended: a sweep or a webhook that finds an
 * execution of the same name tells a running one from one that ended without an outcome.
 */
export function grantStartAndDescribe(stateMachine: IStateMachine, grantee: AppFunction): void {
  stateMachine.grantStartExecution(grantee);
  stateMachine.grantExecution(grantee, 'states:DescribeExecution');
  const machine = stateMachine.node.defaultChild as CfnElement | undefined;
  const policy = grantee.role?.node.tryFindChild('DefaultPolicy');
  if (!machine || !policy) return;
  const machineRef = JSON.stringify({ Ref: Stack.of(machine).getLogicalId(machine) });
  Validations.of(policy).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",${machineRef}]}]}:*]`,
    reason:
      'Execution names are made per recording at run time: states:DescribeExecution only, on executions of the ingest state machine only.',
  });
}

export class IngestWorkflow extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly checkFunction: AppFunction;
  public readonly archiveFunction: AppFunction;
  public readonly recordFunction: AppFunction;
  /** Records executions that timed out or were aborted as `failed` (EventBridge target). */
  public readonly endedFunction: AppFunction;
  public readonly stoppedExecutionsRule: Rule;
  public readonly failedExecutionsAlarm: Alarm;
  public readonly stoppedExecutionsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: IngestWorkflowProps) {
    super(scope, id);
    // Each function is told only the names it uses.
    this.checkFunction = new AppFunction(this, 'CheckFunction', {
      handlerName: 'check',
      environment: {
        TABLE_NAME: props.table.tableName,
        CALLVAULT_ACCOUNTS: props.accountsJson,
        CALLVAULT_READINESS: JSON.stringify(props.readiness),
      },
      timeout: CHECK_TIMEOUT,
    });
    this.archiveFunction = new AppFunction(this, 'ArchiveFunction', {
      handlerName: 'archive',
      environment: {
        BUCKET_NAME: props.bucket.bucketName,
        CALLVAULT_ACCOUNTS: props.accountsJson,
        // Provider slots only (grantProviderSlots): the archive step never touches recordings.
        TABLE_NAME: props.table.tableName,
      },
      memorySize: props.archiveMemoryMiB ?? 1024,
      timeout: Duration.minutes(15),
    });
    this.recordFunction = new AppFunction(this, 'RecordFunction', {
      handlerName: 'record',
      environment: { TABLE_NAME: props.table.tableName },
    });
    this.endedFunction = new AppFunction(this, 'EndedFunction', {
      handlerName: 'ended',
      environment: { TABLE_NAME: props.table.tableName },
    });

    // Each function gets exactly what it uses.
    grantIndexRead(props.table, this.checkFunction);
    grantIndexReadWrite(props.table, this.recordFunction);
    grantIndexReadWrite(props.table, this.endedFunction);
    grantArchiveReadWrite(props.bucket, this.archiveFunction);
    grantProviderSlots(props.table, this.checkFunction);
    grantProviderSlots(props.table, this.archiveFunction);
    for (const secret of props.accountSecrets) {
      secret.grantRead(this.checkFunction);
      secret.grantRead(this.archiveFunction);
    }
    const bucketResource = props.bucket.node.defaultChild as CfnElement | undefined;
    const archivePolicy = this.archiveFunction.role?.node.tryFindChild('DefaultPolicy');
    if (bucketResource && archivePolicy) {
      const bucketArn = `<${Stack.of(bucketResource).getLogicalId(bucketResource)}.Arn>`;
      Validations.of(archivePolicy).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${bucketArn}/${ARCHIVE_KEY_PREFIX}*]`,
        reason:
          'Object keys are made per recording at run time (recordings/{account}/{date}/{name}.{ext}): ' +
          'get/put/abort-multipart are limited to the archive prefix, no delete.',
      });
    }

    const check = new LambdaInvoke(this, 'CheckReadiness', {
      lambdaFunction: this.checkFunction,
      payloadResponseOnly: true,
      // Above the function's own timeout: a function that runs out of time fails as
      // Sandbox.Timedout (retried), not as a task that Step Functions gave up on.
      taskTimeout: Timeout.duration(CHECK_TIMEOUT.plus(Duration.seconds(30))),
    });
    const archive = new LambdaInvoke(this, 'Archive', {
      lambdaFunction: this.archiveFunction,
      payloadResponseOnly: true,
      resultPath: '$.archive',
      taskTimeout: Timeout.duration(Duration.minutes(15).plus(Duration.seconds(30))),
    });
    const record = (name: string, outcome: 'archived' | 'skipped' | 'failed') =>
      new LambdaInvoke(this, name, {
        lambdaFunction: this.recordFunction,
        payloadResponseOnly: true,
        payload: TaskInput.fromObject({ 'state.$': '$', outcome }),
        resultPath: '$.indexed',
        taskTimeout: Timeout.duration(Duration.seconds(90)),
      }).addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 4, backoffRate: 2 });
    const recordArchived = record('RecordArchived', 'archived');
    const recordSkipped = record('RecordSkipped', 'skipped');
    const recordFailed = record('RecordFailed', 'failed').next(
      new Fail(this, 'IngestFailed', { error: 'IngestFailed', causePath: '$.indexed.reason' }),
    );
    const wait = new Wait(this, 'WaitForRecording', { time: WaitTime.secondsPath('$.waitSeconds') }).next(
      check,
    );

    const transientRetry = {
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(5),
      maxAttempts: 5,
      backoffRate: 2,
      maxDelay: Duration.minutes(5),
      jitterStrategy: JitterType.FULL,
    };
    check
      .addRetry(PROVIDER_BUSY_RETRY)
      .addRetry(transientRetry)
      .addCatch(recordFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    archive
      .addRetry(PROVIDER_BUSY_RETRY)
      .addRetry(transientRetry)
      .addCatch(wait, { errors: ['RecordingNotReadyError'], resultPath: '$.error' })
      .addCatch(recordSkipped, { errors: ['RecordingGoneError'], resultPath: '$.error' })
      .addCatch(recordFailed, { errors: ['States.ALL'], resultPath: '$.error' });

    const route = new Choice(this, 'Route')
      .when(Condition.stringEquals('$.decision', 'archive'), archive.next(recordArchived))
      .when(Condition.stringEquals('$.decision', 'wait'), wait)
      .when(Condition.stringEquals('$.decision', 'skip'), recordSkipped)
      .when(Condition.stringEquals('$.decision', 'timeout'), recordFailed)
      .otherwise(new Succeed(this, 'AlreadyDone'));

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      // The local interpreter ignores JSONata: the workflow stays in JSONPath (a test enforces it).
      queryLanguage: QueryLanguage.JSON_PATH,
      definitionBody: DefinitionBody.fromChainable(check.next(route)),
      timeout: Duration.seconds(props.readiness.deadlineSeconds + 6 * 3600),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'ExecutionLogs', { retention: RetentionDays.THREE_MONTHS }),
        level: LogLevel.ALL,
        // Execution data holds phone numbers: keep it out of the logs.
        includeExecutionData: false,
      },
    });
    const stateMachinePolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (stateMachinePolicy) {
      Validations.of(stateMachinePolicy).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'Execution logging and tracing (AwsSolutions-SF1/SF2): the CloudWatch Logs log-delivery actions ' +
          '(logs:*LogDelivery, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and ' +
          'X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions. ' +
          'lambda:InvokeFunction is on the three function ARNs only.',
      });
    }

    this.failedExecutionsAlarm = alarmOnAny(
      this,
      'FailedExecutions',
      this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      'A recording could not be archived: see its index entry for the reason.',
    );

    // An execution that times out or is aborted runs no step of its own: the status-change event
    // records it as failed instead (a FAILED one after RecordFailed is recognized and ignored).
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
}
