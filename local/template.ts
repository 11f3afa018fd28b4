/**
 * The local stack runs what CDK synthesizes: this module synthesizes the stack in-process (no
 * bundling) and turns its template into what the local servers need: the state machine's ASL
 * with its intrinsics resolved, which handler each Task state invokes, and the table definition.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { App } from 'aws-cdk-lib';
import { type CallvaultConfig, type DeployConfig, deployConfig } from '../lambdas/core/config.ts';
import { CallvaultStack } from '../lib/callvault-stack.ts';
import type { HandlerName } from '../lib/constructs/app-function.ts';
import { CDK_CONTEXT } from '../lib/feature-flags.ts';

export type CfnTemplate = {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
};

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

/** Synthesizes the stack for these accounts and returns its CloudFormation template. */
export function synthesizeTemplate(config: CallvaultConfig | DeployConfig): CfnTemplate {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new CallvaultStack(app, 'Callvault', {
    config: deployConfig.parse(config),
    env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
  });
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}

export interface LocalDefinition {
  /** Plain ASL, every intrinsic resolved. */
  definition: Record<string, unknown>;
  /** Task state name → the handler its Lambda runs (from the function's CALLVAULT_HANDLER). */
  taskHandlers: Record<string, HandlerName>;
}

function resourcesOfType(template: CfnTemplate, type: string) {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The state machine's definition with `Fn::Join`, `Fn::GetAtt` and `Ref` resolved to plain ASL. */
export function localDefinition(template: CfnTemplate): LocalDefinition {
  const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1)
    throw new Error(`expected one state machine in the template, found ${machines.length}`);
  const [, machine] = machines[0] as [string, CfnTemplate['Resources'][string]];
  const handlerOfFunction = new Map<string, HandlerName>();
  for (const [logicalId, resource] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const variables = (resource.Properties?.Environment as { Variables?: Record<string, string> } | undefined)
      ?.Variables;
    if (variables?.CALLVAULT_HANDLER)
      handlerOfFunction.set(logicalId, variables.CALLVAULT_HANDLER as HandlerName);
  }
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const node = value as Record<string, unknown>;
    if (node['Fn::Join']) {
      const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(separator);
    }
    if (node['Fn::GetAtt']) {
      const [logicalId] = node['Fn::GetAtt'] as [string, string];
      return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
    }
    if (node.Ref === 'AWS::Partition') return 'aws';
    if (node.Ref === 'AWS::Region') return LOCAL_REGION;
    if (node.Ref === 'AWS::AccountId') return LOCAL_ACCOUNT;
    throw new Error(`cannot resolve ${JSON.stringify(value)} in the state machine definition`);
  };
  const definition = JSON.parse(resolve(machine.Properties?.DefinitionString)) as {
    States: Record<string, { Type: string; Resource?: string }>;
  };
  const taskHandlers: Record<string, HandlerName> = {};
  for (const [stateName, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const functionId = state.Resource?.split(':function:')[1]?.split(':')[0];
    const handler = functionId ? handlerOfFunction.get(functionId) : undefined;
    if (!handler)
      throw new Error(`Task state ${stateName} does not invoke a callvault function (${state.Resource})`);
    taskHandlers[stateName] = handler;
  }
  return { definition, taskHandlers };
}

/** CreateTable input for the index table, taken from the template's AWS::DynamoDB::Table. */
export function tableDefinition(template: CfnTemplate, tableName: string): CreateTableCommandInput {
  const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
  if (tables.length !== 1) throw new Error(`expected one table in the template, found ${tables.length}`);
  const properties = (tables[0] as [string, CfnTemplate['Resources'][string]])[1].Properties ?? {};
  return {
    TableName: tableName,
    BillingMode: properties.BillingMode as 'PAY_PER_REQUEST',
    KeySchema: properties.KeySchema as CreateTableCommandInput['KeySchema'],
    AttributeDefinitions: properties.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    GlobalSecondaryIndexes:
      properties.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'],
  };
}
