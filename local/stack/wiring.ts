/**
 * Wiring shared by the owned and the attached stack: the workflow's modules (loaded only when a
 * stack starts), the handlers' Runtime on the archive, and the sweep and wait calls over a Step
 * Functions client.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoProviderSlots } from '../../lambdas/aws/dynamo-slots.ts';
import type { IngestState } from '../../lambdas/core/ingest.ts';
import type { WorkflowStarter } from '../../lambdas/core/ports.ts';
import type { SweepState } from '../../lambdas/core/sweep.ts';
import type { Runtime } from '../../lambdas/handlers/runtime.ts';
import type { EndedExecution, LocalArchive, LocalStack, LocalStackOptions } from '../stack.ts';
import { LOCAL_TABLE } from './local-index.ts';

/**
 * What running the workflow takes beyond the archive: handlers, providers, the Step Functions
 * interpreter and client. Loaded when a stack starts, so commands that only read the archive
 * (`recordings list`) never load them.
 */
export async function workflowModules() {
  const [
    accounts,
    sweeps,
    log,
    runtime,
    archive,
    check,
    sweepStep,
    record,
    ended,
    retry,
    sfn,
    starter,
    history,
    stepFunctions,
  ] = await Promise.all([
    import('../../lambdas/aws/accounts.ts'),
    import('../../lambdas/aws/dynamo-sweeps.ts'),
    import('../../lambdas/core/log.ts'),
    import('../../lambdas/handlers/runtime.ts'),
    import('../../lambdas/handlers/archive.ts'),
    import('../../lambdas/handlers/check.ts'),
    import('../../lambdas/handlers/sweep-step.ts'),
    import('../../lambdas/handlers/record.ts'),
    import('../../lambdas/handlers/ended.ts'),
    import('../../lambdas/handlers/retry.ts'),
    import('@aws-sdk/client-sfn'),
    import('../../lambdas/aws/sfn-starter.ts'),
    import('../../lambdas/aws/sfn-history.ts'),
    import('../step-functions.ts'),
  ]);
  return {
    ...accounts,
    ...sweeps,
    ...log,
    ...runtime,
    ...archive,
    ...check,
    ...sweepStep,
    ...record,
    ...ended,
    ...retry,
    ...sfn,
    ...starter,
    ...history,
    ...stepFunctions,
  };
}
export type WorkflowModules = Awaited<ReturnType<typeof workflowModules>>;

export function runtimeFor(
  modules: WorkflowModules,
  options: LocalStackOptions,
  archive: LocalArchive,
  starter: WorkflowStarter,
  sweepStarter: WorkflowStarter,
): Runtime {
  const { createRuntime, DynamoSweepLedger, StaticAccountDirectory, jsonLogger } = modules;
  return createRuntime({
    accounts: new StaticAccountDirectory(options.config.accounts),
    index: archive.index,
    ledger: new DynamoSweepLedger(archive.dynamo, LOCAL_TABLE),
    sweeps: archive.sweeps,
    store: archive.store,
    starter,
    sweepStarter,
    readiness: options.config.readiness,
    // The same limiter as deployed, in the same table: `serve` and attached commands share it.
    // A waiter holds one of the few local handler slots, so it hands over to the workflow sooner.
    slots: new DynamoProviderSlots(archive.dynamo, LOCAL_TABLE, { waitMs: 1_000 }),
    logger: options.logger ?? jsonLogger,
    adapterOptions: options.adapterOptions,
  });
}

/**
 * What an owned and an attached stack do alike, over the Step Functions client they talk to;
 * `ended` resolves when one execution has ended, however the stack learns it.
 */
export function stackApi(
  modules: WorkflowModules,
  options: LocalStackOptions,
  parts: {
    runtime: Runtime;
    archive: LocalArchive;
    sfn: SFNClient;
    ingestStartedSince: LocalStack['ingestStartedSince'];
  },
  ended: (name: string) => Promise<EndedExecution>,
): Omit<LocalStack, 'close'> {
  const { runtime, archive, sfn, ingestStartedSince } = parts;
  return {
    runtime,
    archive,
    sweep: sweeper(modules, sfn, ingestStartedSince),
    sweepOutcome: (name) => sweepOutcome(sfn, name),
    ingestStartedSince,
    retry: modules.createRetryHandler({ ...runtime, index: archive.index, retry: options.config.retry }),
    waitFor: (names, onEnded) =>
      Promise.all(
        names.map(async (name) => {
          const execution = await ended(name);
          onEnded?.(execution);
          return execution;
        }),
      ),
  };
}

/** A sweep execution's name: unique, as EventBridge Scheduler makes them. */
export function sweepExecutionName(accountId: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 17);
  return `${accountId.slice(0, 40)}-${stamp}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The sweep workflow's final state, following a pass that continued in fresh executions. */
export async function sweepOutcome(sfn: SFNClient, executionName: string): Promise<SweepState> {
  // Loaded here, not at the top: this module stays light for commands that only read the archive.
  const [{ DescribeExecutionCommand }, { localExecutionArn }] = await Promise.all([
    import('@aws-sdk/client-sfn'),
    import('../step-functions.ts'),
  ]);
  let name = executionName;
  for (;;) {
    const executionArn = localExecutionArn(name, 'callvault-sweep');
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status === 'RUNNING') {
      await sleep(100);
      continue;
    }
    if (described.status !== 'SUCCEEDED') {
      throw new Error(
        `sweep ${name} ${described.status?.toLowerCase()}: ${described.cause ?? described.error ?? ''}`,
      );
    }
    const output = JSON.parse(described.output ?? '{}') as SweepState;
    if (output.status !== 'continued' || !output.continuedAs) return output;
    name = output.continuedAs;
  }
}

function sweeper(
  modules: WorkflowModules,
  sfn: SFNClient,
  ingestStartedSince: (accountId: string, since: string) => Promise<string[]>,
): LocalStack['sweep'] {
  const starter = new modules.SfnWorkflowStarter(sfn, modules.LOCAL_SWEEP_STATE_MACHINE_ARN);
  return async (request, executionName = sweepExecutionName(request.accountId)) => {
    const since = new Date().toISOString();
    // The pass only counts the executions its hand-overs find running (alreadyRunning), and
    // those may run in `serve`: what runs before it starts is listed here, by name.
    const runningBefore = await ingestRunning(modules, sfn, request.accountId);
    await starter.start(executionName, request);
    const state = await sweepOutcome(sfn, executionName);
    const started = await ingestStartedSince(request.accountId, since);
    return {
      accountId: request.accountId,
      status: state.status,
      listed: state.progress?.listed ?? 0,
      alreadyDone: state.progress?.alreadyDone ?? 0,
      alreadyRunning: state.progress?.alreadyRunning ?? 0,
      cursor: state.cursor,
      started,
      running: runningBefore.filter((name) => !started.includes(name)),
    };
  };
}

/** Names of the account's ingest executions running now. */
async function ingestRunning(modules: WorkflowModules, sfn: SFNClient, accountId: string): Promise<string[]> {
  const { DescribeExecutionCommand, ListExecutionsCommand, LOCAL_STATE_MACHINE_ARN } = modules;
  // The local service answers in one page.
  const listed = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn: LOCAL_STATE_MACHINE_ARN, statusFilter: 'RUNNING' }),
  );
  const names: string[] = [];
  for (const { name, executionArn } of listed.executions ?? []) {
    if (!name || !executionArn) continue;
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const input = JSON.parse(described.input ?? 'null') as IngestState | null;
    if (input?.ref?.accountId === accountId) names.push(name);
  }
  return names;
}
