/**
 * The attached stack: the servers and workflow of a running `serve`, reached through the endpoints
 * it published; executions run there, and this process asks its Step Functions endpoint about them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { IngestState } from '../../lambdas/core/ingest.ts';
import type { EndedExecution, LocalEndpoints, LocalStack, LocalStackOptions } from '../stack.ts';
import { LOCAL_REGION } from '../template.ts';
import { archiveOf } from './archive.ts';
import { clients } from './clients.ts';
import { runtimeFor, stackApi, workflowModules } from './wiring.ts';

/** Uses the servers and workflow of a running `serve`; executions run there. */
export async function attachLocalStack(
  options: LocalStackOptions,
  serving: LocalEndpoints & { pid: number },
): Promise<LocalStack> {
  const modules = await workflowModules();
  const {
    DescribeExecutionCommand,
    ListExecutionsCommand,
    LOCAL_STATE_MACHINE_ARN,
    LOCAL_SWEEP_STATE_MACHINE_ARN,
    localExecutionArn,
    SFNClient,
    SfnWorkflowStarter,
  } = modules;
  const { s3, dynamo } = await clients(serving);
  const archive = archiveOf(s3, dynamo, async () => {}, options.config.retention);
  const sfn = new SFNClient({
    region: LOCAL_REGION,
    credentials: serving.credentials,
    endpoint: serving.stepFunctions,
  });
  const runtime = runtimeFor(
    modules,
    options,
    archive,
    new SfnWorkflowStarter(sfn, LOCAL_STATE_MACHINE_ARN),
    new SfnWorkflowStarter(sfn, LOCAL_SWEEP_STATE_MACHINE_ARN),
  );
  // The executions run in `serve`: which ones the sweep started, its Step Functions endpoint says.
  const ingestStartedSince = async (accountId: string, since: string) => {
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: LOCAL_STATE_MACHINE_ARN }));
    const names: string[] = [];
    for (const execution of listed.executions ?? []) {
      if (!execution.startDate || execution.startDate.toISOString() < since || !execution.executionArn)
        continue;
      const described = await sfn.send(
        new DescribeExecutionCommand({ executionArn: execution.executionArn }),
      );
      const input = JSON.parse(described.input ?? 'null') as IngestState | null;
      if (input?.ref?.accountId === accountId && execution.name) names.push(execution.name);
    }
    return names;
  };
  return {
    ...stackApi(modules, options, { runtime, archive, sfn, ingestStartedSince }, async (name) => {
      const executionArn = localExecutionArn(name);
      for (;;) {
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (described.status !== 'RUNNING') {
          return {
            name,
            status: described.status as EndedExecution['status'],
            input: JSON.parse(described.input ?? 'null'),
            output: described.output ? JSON.parse(described.output) : undefined,
            error: described.error,
            cause: described.cause,
          };
        }
        await sleep(250);
      }
    }),
    async close() {
      sfn.destroy();
      await archive.close();
    },
  };
}
