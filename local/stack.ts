/**
 * The embedded local stack: the same handlers and SDK calls as in AWS, pointed at local servers.
 * S3 is s3rver, DynamoDB is dynalite, Step Functions is the synthesized definition run in-process.
 *
 * One process owns a data directory's servers at a time (dynalite's LevelDB takes a lock). While
 * `callvault serve` owns it, other commands attach to its endpoints (found in `serve.json`) instead
 * of starting servers of their own: same data, same workflow, no conflict.
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoRecordingIndex } from '../lambdas/aws/dynamo-index.ts';
import { DynamoProviderSlots } from '../lambdas/aws/dynamo-slots.ts';
import { DynamoSweepJournal } from '../lambdas/aws/dynamo-sweep-journal.ts';
import type { CallvaultConfig, RetentionConfig } from '../lambdas/core/config.ts';
import type { IngestState } from '../lambdas/core/ingest.ts';
import type { Logger } from '../lambdas/core/log.ts';
import type { WorkflowStarter } from '../lambdas/core/ports.ts';
import type { SweepRequest, SweepState } from '../lambdas/core/sweep.ts';
import type { RecordEvent } from '../lambdas/handlers/record.ts';
import type { createRetryHandler } from '../lambdas/handlers/retry.ts';
import type { Runtime } from '../lambdas/handlers/runtime.ts';
import type { SweepStepEvent } from '../lambdas/handlers/sweep-step.ts';
import type { AdapterOptions } from '../lambdas/providers/adapter.ts';
import { LocalArchiveStore } from './locked-store.ts';
import { startLocalServers } from './servers.ts';
import { type LocalCredentials, randomCredentials } from './sigv4.ts';
import type {
  ExecutionStatus,
  LocalStepFunctions,
  LocalStepFunctionsOptions,
  TaskHandler,
} from './step-functions.ts';
import { LOCAL_REGION, SWEEP_STATE_MACHINE_PATH } from './template.ts';

export const LOCAL_BUCKET = 'callvault-audio';
export const LOCAL_TABLE = 'callvault-index';

export interface LocalStackOptions {
  config: CallvaultConfig;
  /** Where S3 objects, the DynamoDB data and the execution journal live. */
  dataDir: string;
  logger?: Logger;
  adapterOptions?: AdapterOptions;
  /** See LocalStepFunctions: tests shorten Retry intervals. */
  retryIntervalScale?: number;
  /** Concurrent invocations per handler. */
  concurrency?: number;
  /** See LocalStepFunctions: tests shorten the execution timeout. */
  executionTimeoutSeconds?: number;
}

/** What `sweep` reports: one sweep pass of an account and the ingest executions it started. */
export interface SweepResult {
  accountId: string;
  listed: number;
  /** Ingest executions started for the account while the sweep ran. */
  started: string[];
  alreadyDone: number;
  alreadyRunning: number;
  cursor?: string;
  /** `busy`: another sweep of the account held the lease, and this one ended at once. */
  status: SweepState['status'];
}

/** An execution once it has ended, as DescribeExecution tells it. */
export interface EndedExecution {
  name: string;
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
}

export interface LocalStack {
  runtime: Runtime;
  archive: LocalArchive;
  /**
   * Runs one sweep pass of an account through the sweep workflow, as its schedule does, and
   * resolves when it has ended (following continuations). Throws if the sweep failed.
   */
  sweep(request: SweepRequest, executionName?: string): Promise<SweepResult>;
  /** The final state of a sweep execution, once it (and any continuation) has ended. */
  sweepOutcome(executionName: string): Promise<SweepState>;
  /** Names of the account's ingest executions started at or after `since` (UTC ISO). */
  ingestStartedSince(accountId: string, since: string): Promise<string[]>;
  /** Retries the failed recordings that are due, as the scheduled retry Lambda does. */
  retry: ReturnType<typeof createRetryHandler>;
  /** Resolves each execution when it has ended; `onEnded` is called as each one does. */
  waitFor(names: readonly string[], onEnded?: (execution: EndedExecution) => void): Promise<EndedExecution[]>;
  /**
   * Stops the stack. By default running executions are waited for; with `waitForExecutions:
   * false` they are aborted and resume on the next start.
   */
  close(options?: { waitForExecutions?: boolean }): Promise<void>;
}

/** A stack whose servers and workflow run in this process. */
export interface OwnedLocalStack extends LocalStack {
  stepFunctions: LocalStepFunctions;
  /** The sweep workflow's executions. */
  sweepFunctions: LocalStepFunctions;
  /** Endpoints other processes can attach to (`serve` publishes them). */
  endpoints: LocalEndpoints;
}

export interface LocalEndpoints {
  s3: string;
  dynamodb: string;
  stepFunctions: string;
  /** Random per run: the servers refuse any other (serve.json is readable by its owner only). */
  credentials: LocalCredentials;
}

/** The archive in a data directory: its clients, without the workflow. */
export interface LocalArchive {
  index: DynamoRecordingIndex;
  /** Each account's last sweep (what `callvault status` shows). */
  sweeps: DynamoSweepJournal;
  /** Enforces Object Lock's rules itself: s3rver has none. */
  store: LocalArchiveStore;
  s3: S3Client;
  dynamo: DynamoDBClient;
  close(): Promise<void>;
}

const SERVE_FILE = 'serve.json';

/** Endpoints and credentials of a `callvault serve` that owns this data directory, if one is running. */
export function runningServe(dataDir: string): (LocalEndpoints & { pid: number; url: string }) | undefined {
  const file = join(dataDir, SERVE_FILE);
  if (!existsSync(file)) return undefined;
  const published = JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints & { pid: number; url: string };
  try {
    process.kill(published.pid, 0);
    return published;
  } catch {
    rmSync(file, { force: true }); // left behind by a serve that was killed
    return undefined;
  }
}

/** Writes serve.json, owner read/write only (it holds the credentials), complete or not at all. */
export function publishServe(dataDir: string, endpoints: LocalEndpoints, url: string): () => void {
  const file = join(dataDir, SERVE_FILE);
  const staged = `${file}.${process.pid}.tmp`;
  writeFileSync(staged, JSON.stringify({ ...endpoints, url, pid: process.pid }), { mode: 0o600 });
  chmodSync(staged, 0o600); // the mode above is subject to the umask; this is not
  renameSync(staged, file);
  return () => rmSync(file, { force: true });
}

function clients(endpoints: Omit<LocalEndpoints, 'stepFunctions'>) {
  const credentials = endpoints.credentials;
  const s3 = new S3Client({
    // Failures reach callvault as rejected calls; the SDK's own console notes would only clutter.
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    endpoint: endpoints.s3,
    region: LOCAL_REGION,
    credentials,
    forcePathStyle: true,
    // s3rver stores aws-chunked framing inside objects when the SDK checksums streamed bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const dynamo = new DynamoDBClient({
    endpoint: endpoints.dynamodb,
    region: LOCAL_REGION,
    credentials,
  });
  return { s3, dynamo };
}

function archiveOf(
  s3: S3Client,
  dynamo: DynamoDBClient,
  closeServers: () => Promise<void>,
  retention?: RetentionConfig,
): LocalArchive {
  return {
    index: new DynamoRecordingIndex(dynamo, LOCAL_TABLE),
    sweeps: new DynamoSweepJournal(dynamo, LOCAL_TABLE),
    store: new LocalArchiveStore(s3, LOCAL_BUCKET, retention),
    s3,
    dynamo,
    async close() {
      s3.destroy();
      dynamo.destroy();
      await closeServers();
    },
  };
}

/**
 * The archive of a data directory: attached to a running `serve`, or with servers of its own.
 * `retention` is the default retention given to what this archive writes.
 */
export async function openLocalArchive(
  dataDir: string,
  options: { retention?: RetentionConfig } = {},
): Promise<LocalArchive> {
  const serving = runningServe(dataDir);
  if (serving) {
    const { s3, dynamo } = clients(serving);
    return archiveOf(s3, dynamo, async () => {}, options.retention);
  }
  const credentials = randomCredentials();
  const servers = await startLocalServers(dataDir, [LOCAL_BUCKET], credentials);
  const { s3, dynamo } = clients({ s3: servers.s3Endpoint, dynamodb: servers.dynamoEndpoint, credentials });
  return archiveOf(s3, dynamo, () => servers.close(), options.retention);
}

/** The local stack for a data directory: attached to a running `serve`, or owned by this process. */
export async function openLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const serving = runningServe(options.dataDir);
  return serving ? attachLocalStack(options, serving) : startLocalStack(options);
}

/**
 * What running the workflow takes beyond the archive: handlers, providers, the Step Functions
 * interpreter and client. Loaded when a stack starts, so commands that only read the archive
 * (`recordings list`) never load them.
 */
async function workflowModules() {
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
    stepFunctions,
  ] = await Promise.all([
    import('../lambdas/aws/accounts.ts'),
    import('../lambdas/aws/dynamo-sweeps.ts'),
    import('../lambdas/core/log.ts'),
    import('../lambdas/handlers/runtime.ts'),
    import('../lambdas/handlers/archive.ts'),
    import('../lambdas/handlers/check.ts'),
    import('../lambdas/handlers/sweep-step.ts'),
    import('../lambdas/handlers/record.ts'),
    import('../lambdas/handlers/ended.ts'),
    import('../lambdas/handlers/retry.ts'),
    import('@aws-sdk/client-sfn'),
    import('../lambdas/aws/sfn-starter.ts'),
    import('./step-functions.ts'),
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
    ...stepFunctions,
  };
}
type WorkflowModules = Awaited<ReturnType<typeof workflowModules>>;

function runtimeFor(
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

/** Starts the servers and runs the synthesized workflow in this process. */
export async function startLocalStack(options: LocalStackOptions): Promise<OwnedLocalStack> {
  const credentials = randomCredentials();
  const [modules, workflows, { stateMachineAt }, servers, { ensureIndexTable }] = await Promise.all([
    workflowModules(),
    import('./definitions.ts').then(({ loadWorkflows }) => loadWorkflows(options.config, options.dataDir)),
    import('./template.ts'),
    startLocalServers(options.dataDir, [LOCAL_BUCKET], credentials),
    import('./table-migration.ts'),
  ]);
  const {
    createArchiveHandler,
    createCheckHandler,
    createRecordHandler,
    createEndedHandler,
    createRetryHandler,
    createSweepStepHandler,
    LocalStepFunctions,
    SFNClient,
    SfnWorkflowStarter,
  } = modules;
  const { s3, dynamo } = clients({ s3: servers.s3Endpoint, dynamodb: servers.dynamoEndpoint, credentials });
  const archive = archiveOf(s3, dynamo, () => servers.close(), options.config.retention);
  await ensureIndexTable(
    dynamo,
    { TableName: LOCAL_TABLE, ...workflows.table },
    options.dataDir,
    options.logger ?? modules.jsonLogger,
  );

  // The handlers need a starter and the local Step Functions need the handlers: the starter is
  // wired once the Step Functions endpoint listens.
  const starters: { ingest?: WorkflowStarter; sweep?: WorkflowStarter } = {};
  const wired = (which: 'ingest' | 'sweep') => {
    const starter = starters[which];
    if (!starter) throw new Error('the local Step Functions endpoint is not listening yet');
    return starter;
  };
  const lateStarter = (which: 'ingest' | 'sweep'): WorkflowStarter => ({
    start: (name, input) => wired(which).start(name, input),
    status: (name) => wired(which).status(name),
  });
  const runtime = runtimeFor(modules, options, archive, lateStarter('ingest'), lateStarter('sweep'));
  const check = createCheckHandler(runtime);
  const archiveTask = createArchiveHandler(runtime);
  const record = createRecordHandler(runtime);
  const sweepStep = createSweepStepHandler(runtime);
  const ended = createEndedHandler(runtime);
  const handlers: Record<string, TaskHandler> = {
    check: (input) => check(input as IngestState),
    archive: (input) => archiveTask(input as IngestState),
    record: (input) => record(input as RecordEvent),
    'sweep-step': (input) => sweepStep(input as SweepStepEvent),
  };
  const machine = (
    path: string | undefined,
    machineName: string,
    journal: string,
    extra: Pick<LocalStepFunctionsOptions, 'executionTimeoutSeconds' | 'onStopped'> = {},
  ) =>
    new LocalStepFunctions({
      ...extra,
      local: stateMachineAt(workflows, path),
      machineName,
      handlers,
      journalPath: join(options.dataDir, journal),
      retryIntervalScale: options.retryIntervalScale,
      concurrency: options.concurrency,
      credentials,
      // Another sweep of the account is waited for in seconds, not the deployed minute.
      waitOverridesMs: { WaitForOtherSweep: 1_000 },
      onTaskError: (state, error) =>
        runtime.logger.warn('workflow task failed', { state, error: error.name, reason: error.message }),
    });
  const stepFunctions = machine(undefined, 'callvault-ingest', 'executions.jsonl', {
    executionTimeoutSeconds: options.executionTimeoutSeconds,
    // What the deployed EventBridge rule does with an ingest execution that ended without an
    // outcome; the sweep has no outcome to record: its checkpoint resumes on the next run.
    onStopped: (detail) => ended({ 'detail-type': 'Step Functions Execution Status Change', detail }),
  });
  const sweepFunctions = machine(SWEEP_STATE_MACHINE_PATH, 'callvault-sweep', 'sweeps.jsonl');
  // One endpoint for both, as Step Functions is one service for every state machine.
  const stepFunctionsEndpoint = await stepFunctions.listen(0, [sweepFunctions]);
  const sfn = new SFNClient({ region: LOCAL_REGION, credentials, endpoint: stepFunctionsEndpoint });
  starters.ingest = new SfnWorkflowStarter(sfn, stepFunctions.stateMachineArn);
  starters.sweep = new SfnWorkflowStarter(sfn, sweepFunctions.stateMachineArn);
  const resumed = [...stepFunctions.resumeUnfinished(), ...sweepFunctions.resumeUnfinished()];
  if (resumed.length > 0) {
    runtime.logger.info('resumed executions a previous run left unfinished', { count: resumed.length });
  }
  const ingestStartedSince = async (accountId: string, since: string) =>
    [...stepFunctions.executions.values()]
      .filter(
        (execution) =>
          execution.startDate >= since &&
          (execution.input as IngestState | undefined)?.ref?.accountId === accountId,
      )
      .map((execution) => execution.name);

  return {
    runtime,
    archive,
    stepFunctions,
    sweepFunctions,
    endpoints: {
      s3: servers.s3Endpoint,
      dynamodb: servers.dynamoEndpoint,
      stepFunctions: stepFunctionsEndpoint,
      credentials,
    },
    sweep: sweeper(modules, sfn, ingestStartedSince),
    sweepOutcome: (name) => sweepOutcome(sfn, name),
    ingestStartedSince,
    retry: createRetryHandler({ ...runtime, retry: options.config.retry }),
    async waitFor(names, onEnded) {
      return Promise.all(
        names.map(async (name) => {
          const execution = stepFunctions.executions.get(name);
          if (!execution) throw new Error(`execution ${name} is not known locally`);
          const ended = (await execution.done) as EndedExecution;
          onEnded?.(ended);
          return ended;
        }),
      );
    },
    async close({ waitForExecutions = true } = {}) {
      if (!waitForExecutions) {
        sweepFunctions.abortRunning();
        stepFunctions.abortRunning();
      }
      await Promise.allSettled(
        [...sweepFunctions.executions.values(), ...stepFunctions.executions.values()].map(
          (execution) => execution.done,
        ),
      );
      await stepFunctions.close();
      sfn.destroy();
      await archive.close();
    },
  };
}

/** Uses the servers and workflow of a running `serve`; executions run there. */
async function attachLocalStack(
  options: LocalStackOptions,
  serving: LocalEndpoints & { pid: number },
): Promise<LocalStack> {
  const modules = await workflowModules();
  const {
    createRetryHandler,
    DescribeExecutionCommand,
    ListExecutionsCommand,
    LOCAL_STATE_MACHINE_ARN,
    LOCAL_SWEEP_STATE_MACHINE_ARN,
    localExecutionArn,
    SFNClient,
    SfnWorkflowStarter,
  } = modules;
  const { s3, dynamo } = clients(serving);
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
    runtime,
    archive,
    sweep: sweeper(modules, sfn, ingestStartedSince),
    sweepOutcome: (name) => sweepOutcome(sfn, name),
    ingestStartedSince,
    retry: createRetryHandler({ ...runtime, retry: options.config.retry }),
    async waitFor(names, onEnded) {
      return Promise.all(
        names.map(async (name) => {
          const executionArn = localExecutionArn(name);
          for (;;) {
            const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
            if (described.status !== 'RUNNING') {
              const ended: EndedExecution = {
                name,
                status: described.status as EndedExecution['status'],
                input: JSON.parse(described.input ?? 'null'),
                output: described.output ? JSON.parse(described.output) : undefined,
                error: described.error,
                cause: described.cause,
              };
              onEnded?.(ended);
              return ended;
            }
            await sleep(250);
          }
        }),
      );
    },
    async close() {
      sfn.destroy();
      await archive.close();
    },
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
    import('./step-functions.ts'),
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
    await starter.start(executionName, request);
    const state = await sweepOutcome(sfn, executionName);
    return {
      accountId: request.accountId,
      status: state.status,
      listed: state.progress?.listed ?? 0,
      alreadyDone: state.progress?.alreadyDone ?? 0,
      alreadyRunning: state.progress?.alreadyRunning ?? 0,
      cursor: state.cursor,
      started: await ingestStartedSince(request.accountId, since),
    };
  };
}
