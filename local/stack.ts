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
import { DynamoRecordingIndex } from '../lambdas/aws/dynamo-index.ts';
import { DynamoProviderSlots } from '../lambdas/aws/dynamo-slots.ts';
import { DynamoSweepJournal } from '../lambdas/aws/dynamo-sweep-journal.ts';
import type { CallvaultConfig, RetentionConfig } from '../lambdas/core/config.ts';
import type { IngestState } from '../lambdas/core/ingest.ts';
import type { Logger } from '../lambdas/core/log.ts';
import type { WorkflowStarter } from '../lambdas/core/ports.ts';
import type { createPollHandler } from '../lambdas/handlers/poll.ts';
import type { RecordEvent } from '../lambdas/handlers/record.ts';
import type { createRetryHandler } from '../lambdas/handlers/retry.ts';
import type { Runtime } from '../lambdas/handlers/runtime.ts';
import type { AdapterOptions } from '../lambdas/providers/adapter.ts';
import { LocalArchiveStore } from './locked-store.ts';
import { startLocalServers } from './servers.ts';
import { type LocalCredentials, randomCredentials } from './sigv4.ts';
import type { ExecutionStatus, LocalStepFunctions } from './step-functions.ts';
import { LOCAL_REGION } from './template.ts';

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
  /** Sweeps one account, as the scheduled poll Lambda does. */
  poll: ReturnType<typeof createPollHandler>;
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
  const [accounts, log, runtime, archive, check, poll, record, ended, retry, sfn, starter, stepFunctions] =
    await Promise.all([
      import('../lambdas/aws/accounts.ts'),
      import('../lambdas/core/log.ts'),
      import('../lambdas/handlers/runtime.ts'),
      import('../lambdas/handlers/archive.ts'),
      import('../lambdas/handlers/check.ts'),
      import('../lambdas/handlers/poll.ts'),
      import('../lambdas/handlers/record.ts'),
      import('../lambdas/handlers/ended.ts'),
      import('../lambdas/handlers/retry.ts'),
      import('@aws-sdk/client-sfn'),
      import('../lambdas/aws/sfn-starter.ts'),
      import('./step-functions.ts'),
    ]);
  return {
    ...accounts,
    ...log,
    ...runtime,
    ...archive,
    ...check,
    ...poll,
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
): Runtime {
  const { createRuntime, StaticAccountDirectory, jsonLogger } = modules;
  return createRuntime({
    accounts: new StaticAccountDirectory(options.config.accounts),
    index: archive.index,
    sweeps: archive.sweeps,
    store: archive.store,
    starter,
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
    createPollHandler,
    createRecordHandler,
    createEndedHandler,
    createRetryHandler,
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
  let starter: WorkflowStarter | undefined;
  const wired = () => {
    if (!starter) throw new Error('the local Step Functions endpoint is not listening yet');
    return starter;
  };
  const runtime = runtimeFor(modules, options, archive, {
    start: (name, input) => wired().start(name, input),
    status: (name) => wired().status(name),
  });
  const check = createCheckHandler(runtime);
  const archiveTask = createArchiveHandler(runtime);
  const record = createRecordHandler(runtime);
  const ended = createEndedHandler(runtime);
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {
    check: (input) => check(input as IngestState),
    archive: (input) => archiveTask(input as IngestState),
    record: (input) => record(input as RecordEvent),
  };
  const stepFunctions = new LocalStepFunctions({
    local: stateMachineAt(workflows),
    handlers,
    journalPath: join(options.dataDir, 'executions.jsonl'),
    retryIntervalScale: options.retryIntervalScale,
    concurrency: options.concurrency,
    credentials,
    onTaskError: (state, error) =>
      runtime.logger.warn('workflow task failed', { state, error: error.name, reason: error.message }),
    executionTimeoutSeconds: options.executionTimeoutSeconds,
    // What the deployed EventBridge rule does with an execution that ended without an outcome.
    onStopped: (detail) => ended({ 'detail-type': 'Step Functions Execution Status Change', detail }),
  });
  const stepFunctionsEndpoint = await stepFunctions.listen();
  const sfn = new SFNClient({ region: LOCAL_REGION, credentials, endpoint: stepFunctionsEndpoint });
  starter = new SfnWorkflowStarter(sfn, stepFunctions.stateMachineArn);
  const resumed = stepFunctions.resumeUnfinished();
  if (resumed.length > 0) {
    runtime.logger.info('resumed executions a previous run left unfinished', { count: resumed.length });
  }

  return {
    runtime,
    archive,
    stepFunctions,
    endpoints: {
      s3: servers.s3Endpoint,
      dynamodb: servers.dynamoEndpoint,
      stepFunctions: stepFunctionsEndpoint,
      credentials,
    },
    poll: createPollHandler(runtime),
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
      if (!waitForExecutions) stepFunctions.abortRunning();
      await Promise.allSettled([...stepFunctions.executions.values()].map((execution) => execution.done));
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
    createPollHandler,
    createRetryHandler,
    DescribeExecutionCommand,
    LOCAL_STATE_MACHINE_ARN,
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
  const runtime = runtimeFor(modules, options, archive, new SfnWorkflowStarter(sfn, LOCAL_STATE_MACHINE_ARN));
  return {
    runtime,
    archive,
    poll: createPollHandler(runtime),
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
