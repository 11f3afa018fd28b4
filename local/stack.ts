/**
 * The embedded local stack: the same handlers and SDK calls as in AWS, pointed at local servers.
 * S3 is s3rver, DynamoDB is dynalite, Step Functions is the synthesized definition run in-process.
 *
 * One process owns a data directory's servers at a time (dynalite's LevelDB takes a lock). While
 * `callvault serve` owns it, other commands attach to its endpoints (found in `serve.json`) instead
 * of starting servers of their own: same data, same workflow, no conflict.
 *
 * local/ holds two things:
 * - the embedded stack: this module (its types and entry points) and local/stack/ — serve-file
 *   (serve discovery), clients (SDK client config), archive (the archive without the workflow),
 *   wiring (workflow modules, Runtime, sweep and wait calls), owned and attached (the two stacks);
 *   beside them the pieces they run: servers, step-functions, definitions, template, sigv4,
 *   locked-store, s3rver-patches, table-migration, and what commands do on a stack (harvest,
 *   backfill, compliance, serve, report);
 * - local/simulators/: the provider simulators the demo and the tests harvest from.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoRecordingIndex } from '../lambdas/aws/dynamo-index.ts';
import type { DynamoSweepJournal } from '../lambdas/aws/dynamo-sweep-journal.ts';
import type { CallvaultConfig } from '../lambdas/core/config.ts';
import type { Logger } from '../lambdas/core/log.ts';
import type { SweepRequest, SweepState } from '../lambdas/core/sweep.ts';
import type { createRetryHandler } from '../lambdas/handlers/retry.ts';
import type { Runtime } from '../lambdas/handlers/runtime.ts';
import type { AdapterOptions } from '../lambdas/providers/adapter.ts';
import type { LocalArchiveStore } from './locked-store.ts';
import type { LocalCredentials } from './sigv4.ts';
import { attachLocalStack } from './stack/attached.ts';
import { startLocalStack } from './stack/owned.ts';
import { runningServe } from './stack/serve-file.ts';
import type { ExecutionStatus, LocalStepFunctions } from './step-functions.ts';

export { LOCAL_BUCKET, openLocalArchive } from './stack/archive.ts';
export { LOCAL_TABLE, openLocalIndex } from './stack/local-index.ts';
export { startLocalStack } from './stack/owned.ts';
export { publishServe, runningServe } from './stack/serve-file.ts';
export { sweepExecutionName, sweepOutcome } from './stack/wiring.ts';

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
  /**
   * The account's ingest executions that were running when the pass started, none of them in
   * `started` (resumed from the journal, say, or started by another path first): the pass only
   * counts those its hand-overs find (`alreadyRunning`), and they may run in `serve`.
   */
  running: string[];
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

/** The index in a data directory: its entries and sweep journal, without the store. */
export interface LocalIndex {
  index: DynamoRecordingIndex;
  /** Each account's last sweep (what `callvault status` shows). */
  sweeps: DynamoSweepJournal;
  dynamo: DynamoDBClient;
  close(): Promise<void>;
}

/** The archive in a data directory: its clients, without the workflow. */
export interface LocalArchive extends LocalIndex {
  /** Enforces Object Lock's rules itself: s3rver has none. */
  store: LocalArchiveStore;
  s3: S3Client;
}

/** The local stack for a data directory: attached to a running `serve`, or owned by this process. */
export async function openLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const serving = await runningServe(options.dataDir);
  return serving ? attachLocalStack(options, serving) : startLocalStack(options);
}
