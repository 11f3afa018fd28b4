/**
 * The local stack runs what CDK synthesizes: this module synthesizes the stack in-process (no
 * bundling) and turns its template into what the local servers need: every state machine's ASL
 * with its intrinsics resolved (keyed by its construct path), which handler each Task state
 * invokes, and the table definition. aws-cdk-lib and the stack are imported only when a
 * synthesis is asked for: the template-reading functions stay cheap to load (see definitions.ts).
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { CallvaultConfig, DeployConfig } from '../lambdas/core/config.ts';
import type { HandlerName } from '../lib/constructs/app-function.ts';

export type CfnTemplate = {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
};

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

/** Construct path of the ingest workflow's state machine (the one `harvest` and webhooks start). */
export const INGEST_STATE_MACHINE_PATH = 'Callvault/Workflow/StateMachine/Resource';
/** Construct path of the sweep workflow's state machine (schedules, `harvest` and `backfill` start it). */
export const SWEEP_STATE_MACHINE_PATH = 'Callvault/SweepWorkflow/StateMachine/Resource';

/** Synthesizes the stack for these accounts and returns its CloudFormation template. */
export async function synthesizeTemplate(config: CallvaultConfig | DeployConfig): Promise<CfnTemplate> {
  const [{ App }, { deployConfig }, { CallvaultStack }, { CDK_CONTEXT }] = await Promise.all([
    import('aws-cdk-lib'),
    import('../lambdas/core/config.ts'),
    import('../lib/callvault-stack.ts'),
    import('../lib/feature-flags.ts'),
  ]);
  const app = new App({
    // The built-in CloudFormation validation checks the template without changing it, and costs
    // seconds: `cdk synth` and the CDK tests run it; here only the definitions are read.
    builtinCloudFormationValidation: false,
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true },
  });
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

/** Everything the local stack takes from a template. */
export interface LocalWorkflows {
  /** Every AWS::StepFunctions::StateMachine, keyed by its `aws:cdk:path`. */
  stateMachines: Record<string, LocalDefinition>;
  /** The index table's CreateTable input, without its name (the local stack names it). */
  table: Omit<CreateTableCommandInput, 'TableName'>;
}

function resourcesOfType(template: CfnTemplate, type: string) {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** `Fn::Join`, `Fn::GetAtt` of a function and the pseudo parameters, as plain text. */
function resolveIntrinsics(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveIntrinsics).join(separator);
  }
  if (node['Fn::GetAtt']) {
    const [logicalId] = node['Fn::GetAtt'] as [string, string];
    return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
  }
  if (node.Ref === 'AWS::Partition') return 'aws';
  if (node.Ref === 'AWS::Region') return LOCAL_REGION;
  if (node.Ref === 'AWS::AccountId') return LOCAL_ACCOUNT;
  throw new Error(`cannot resolve ${JSON.stringify(value)} in a state machine definition`);
}

/** Every state of a definition, nested ones (Parallel branches, Map iterators) included. */
function* statesOf(definition: {
  States?: Record<string, unknown>;
}): Generator<[string, { Type: string; Resource?: string }]> {
  for (const [name, state] of Object.entries(definition.States ?? {})) {
    const typed = state as {
      Type: string;
      Resource?: string;
      Branches?: { States: Record<string, unknown> }[];
      Iterator?: { States: Record<string, unknown> };
      ItemProcessor?: { States: Record<string, unknown> };
    };
    yield [name, typed];
    for (const branch of typed.Branches ?? []) yield* statesOf(branch);
    if (typed.Iterator) yield* statesOf(typed.Iterator);
    if (typed.ItemProcessor) yield* statesOf(typed.ItemProcessor);
  }
}

/** Every state machine of the template as plain ASL, each Task mapped to its callvault handler. */
export function localWorkflows(template: CfnTemplate): LocalWorkflows {
  const handlerOfFunction = new Map<string, HandlerName>();
  for (const [logicalId, resource] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const variables = (resource.Properties?.Environment as { Variables?: Record<string, string> } | undefined)
      ?.Variables;
    if (variables?.CALLVAULT_HANDLER)
      handlerOfFunction.set(logicalId, variables.CALLVAULT_HANDLER as HandlerName);
  }
  const stateMachines: Record<string, LocalDefinition> = {};
  for (const [logicalId, machine] of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
    const path = machine.Metadata?.['aws:cdk:path'];
    if (typeof path !== 'string')
      throw new Error(
        `state machine ${logicalId} has no aws:cdk:path metadata (synthesize with path metadata)`,
      );
    const definition = JSON.parse(resolveIntrinsics(machine.Properties?.DefinitionString)) as {
      States: Record<string, unknown>;
    };
    const taskHandlers: Record<string, HandlerName> = {};
    for (const [stateName, state] of statesOf(definition)) {
      if (state.Type !== 'Task') continue;
      const functionId = state.Resource?.split(':function:')[1]?.split(':')[0];
      const handler = functionId ? handlerOfFunction.get(functionId) : undefined;
      if (!handler)
        throw new Error(`Task state ${stateName} does not invoke a callvault function (${state.Resource})`);
      taskHandlers[stateName] = handler;
    }
    stateMachines[path] = { definition, taskHandlers };
  }
  return { stateMachines, table: tableOf(template) };
}

/** The state machine at construct path `path` (the ingest workflow by default). */
export function stateMachineAt(workflows: LocalWorkflows, path = INGEST_STATE_MACHINE_PATH): LocalDefinition {
  const machine = workflows.stateMachines[path];
  if (!machine)
    throw new Error(
      `no state machine at ${path}; the template has ${Object.keys(workflows.stateMachines).join(', ') || 'none'}`,
    );
  return machine;
}

/** The ingest workflow's definition, as the local stack runs it. */
export function localDefinition(template: CfnTemplate): LocalDefinition {
  return stateMachineAt(localWorkflows(template));
}

function tableOf(template: CfnTemplate): LocalWorkflows['table'] {
  const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
  if (tables.length !== 1) throw new Error(`expected one table in the template, found ${tables.length}`);
  const properties = (tables[0] as [string, CfnTemplate['Resources'][string]])[1].Properties ?? {};
  return {
    BillingMode: properties.BillingMode as 'PAY_PER_REQUEST',
    KeySchema: properties.KeySchema as CreateTableCommandInput['KeySchema'],
    AttributeDefinitions: properties.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    GlobalSecondaryIndexes:
      properties.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'],
  };
}

/** CreateTable input for the index table, taken from the template's AWS::DynamoDB::Table. */
export function tableDefinition(template: CfnTemplate, tableName: string): CreateTableCommandInput {
  return { TableName: tableName, ...tableOf(template) };
}
