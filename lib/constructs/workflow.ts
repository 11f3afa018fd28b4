import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  type IChainable,
  JitterType,
  LogLevel,
  QueryLanguage,
  type RetryProps,
  StateMachine,
  StateMachineType,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { acknowledge, defaultPolicyOf } from './nag.ts';

export interface LoggedStateMachineProps {
  /** The first state, chained to the rest. */
  readonly definition: IChainable;
  /** The longest an execution may run. */
  readonly timeout: Duration;
  /**
   * A fixed name, for a machine whose ARN must be known before it exists.
   * @default a name CloudFormation generates
   */
  readonly stateMachineName?: string;
  /** The functions the machine invokes, as the acknowledgement of its role's `Resource: *` names them. */
  readonly invokes: string;
}

/**
 * A callvault workflow (`StateMachine` and `ExecutionLogs` in `scope`): Standard, JSONPath (the
 * local interpreter ignores JSONata; a test enforces it), traced, every event logged without the
 * execution data, which holds phone numbers.
 */
export function loggedStateMachine(scope: Construct, props: LoggedStateMachineProps): StateMachine {
  const stateMachine = new StateMachine(scope, 'StateMachine', {
    stateMachineName: props.stateMachineName,
    stateMachineType: StateMachineType.STANDARD,
    queryLanguage: QueryLanguage.JSON_PATH,
    definitionBody: DefinitionBody.fromChainable(props.definition),
    timeout: props.timeout,
    tracingEnabled: true,
    logs: {
      destination: new LogGroup(scope, 'ExecutionLogs', { retention: RetentionDays.THREE_MONTHS }),
      level: LogLevel.ALL,
      includeExecutionData: false,
    },
  });
  acknowledge(defaultPolicyOf(stateMachine.role), {
    rule: 'AwsSolutions-IAM5',
    resource: '*',
    reason:
      'Execution logging and tracing (AwsSolutions-SF1/SF2): the CloudWatch Logs log-delivery actions ' +
      '(logs:*LogDelivery, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and ' +
      'X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions. ' +
      `lambda:InvokeFunction is on ${props.invokes} only.`,
  });
  return stateMachine;
}

export interface InvokeStepProps {
  /** The function the task invokes. */
  readonly lambdaFunction: IFunction;
  /**
   * When Step Functions gives up on the task: above the function's own timeout, so a function
   * that runs out of time fails as Sandbox.Timedout (retried), not as an abandoned task.
   */
  readonly taskTimeout: Duration;
  /**
   * The function's input, JSONPath (`'key.$': '$'`).
   * @default the state as it is
   */
  readonly payload?: Record<string, unknown>;
  /**
   * Where the function's answer goes in the state.
   * @default the answer replaces the state
   */
  readonly resultPath?: string;
}

/** A Task that invokes one function and takes its answer (not Lambda's envelope) as its result. */
export function invokeStep(scope: Construct, id: string, props: InvokeStepProps): LambdaInvoke {
  return new LambdaInvoke(scope, id, {
    lambdaFunction: props.lambdaFunction,
    payloadResponseOnly: true,
    payload: props.payload && TaskInput.fromObject(props.payload),
    resultPath: props.resultPath,
    taskTimeout: Timeout.duration(props.taskTimeout),
  });
}

/** Retries of errors a later attempt may not meet: doubling waits up to 5 minutes, full jitter. */
export function transientRetry(errors: string[], interval: Duration, maxAttempts: number): RetryProps {
  return {
    errors,
    interval,
    maxAttempts,
    backoffRate: 2,
    maxDelay: Duration.minutes(5),
    jitterStrategy: JitterType.FULL,
  };
}
