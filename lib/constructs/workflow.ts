import type { Duration } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  type IChainable,
  LogLevel,
  QueryLanguage,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { acknowledge, defaultPolicyOf } from './nag.ts';

export interface LoggedStateMachineProps {
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
