/**
 * The embedded local stack: the same handlers and SDK calls as in AWS, pointed at local servers.
 * S3 is s3rver, DynamoDB is dynalite, Step Functions is the synthesized definition run in-process.
 */

import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { StaticAccountDirectory } from '../lambdas/aws/accounts.ts';
import { DynamoRecordingIndex } from '../lambdas/aws/dynamo-index.ts';
import { S3ArchiveStore } from '../lambdas/aws/s3-store.ts';
import { SfnWorkflowStarter } from '../lambdas/aws/sfn-starter.ts';
import type { CallvaultConfig } from '../lambdas/core/config.ts';
import type { IngestState } from '../lambdas/core/ingest.ts';
import { jsonLogger, type Logger } from '../lambdas/core/log.ts';
import type { WorkflowStarter } from '../lambdas/core/ports.ts';
import { createArchiveHandler } from '../lambdas/handlers/archive.ts';
import { createCheckHandler } from '../lambdas/handlers/check.ts';
import { createPollHandler } from '../lambdas/handlers/poll.ts';
import { createRecordHandler, type RecordEvent } from '../lambdas/handlers/record.ts';
import { createRuntime, type Runtime } from '../lambdas/handlers/runtime.ts';
import type { AdapterOptions } from '../lambdas/providers/adapter.ts';
import { type LocalServers, startLocalServers } from './servers.ts';
import { LocalStepFunctions, type TaskHandler } from './step-functions.ts';
import { LOCAL_REGION, localDefinition, synthesizeTemplate, tableDefinition } from './template.ts';

export const LOCAL_BUCKET = 'callvault-audio';
export const LOCAL_TABLE = 'callvault-index';

const localCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

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
}

export interface LocalStack {
  runtime: Runtime;
  stepFunctions: LocalStepFunctions;
  archive: LocalArchive;
  /** Sweeps one account, as the scheduled poll Lambda does. */
  poll: ReturnType<typeof createPollHandler>;
  close(): Promise<void>;
}

/** The archive in a data directory: its servers and clients, without the workflow. */
export interface LocalArchive {
  index: DynamoRecordingIndex;
  store: S3ArchiveStore;
  s3: S3Client;
  dynamo: DynamoDBClient;
  close(): Promise<void>;
}

export async function openLocalArchive(dataDir: string): Promise<LocalArchive> {
  const servers: LocalServers = await startLocalServers(dataDir, [LOCAL_BUCKET]);
  const s3 = new S3Client({
    endpoint: servers.s3Endpoint,
    region: LOCAL_REGION,
    credentials: localCredentials,
    forcePathStyle: true,
    // s3rver stores aws-chunked framing inside objects when the SDK checksums streamed bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const dynamo = new DynamoDBClient({
    endpoint: servers.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: localCredentials,
  });
  return {
    index: new DynamoRecordingIndex(dynamo, LOCAL_TABLE),
    store: new S3ArchiveStore(s3, LOCAL_BUCKET),
    s3,
    dynamo,
    async close() {
      s3.destroy();
      dynamo.destroy();
      await servers.close();
    },
  };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const template = synthesizeTemplate(options.config);
  const archive = await openLocalArchive(options.dataDir);
  await ensureTable(archive.dynamo, tableDefinition(template, LOCAL_TABLE));

  // The handlers need a starter and the local Step Functions need the handlers: the starter is
  // wired once the Step Functions endpoint listens.
  let starter: WorkflowStarter | undefined;
  const runtime = createRuntime({
    accounts: new StaticAccountDirectory(options.config.accounts),
    index: archive.index,
    store: archive.store,
    starter: {
      start: (name, input) => {
        if (!starter) throw new Error('the local Step Functions endpoint is not listening yet');
        return starter.start(name, input);
      },
    },
    readiness: options.config.readiness,
    logger: options.logger ?? jsonLogger,
    adapterOptions: options.adapterOptions,
  });
  const check = createCheckHandler(runtime);
  const archiveTask = createArchiveHandler(runtime);
  const record = createRecordHandler(runtime);
  const handlers: Record<string, TaskHandler> = {
    check: (input) => check(input as IngestState),
    archive: (input) => archiveTask(input as IngestState),
    record: (input) => record(input as RecordEvent),
  };
  const stepFunctions = new LocalStepFunctions({
    local: localDefinition(template),
    handlers,
    journalPath: join(options.dataDir, 'executions.log'),
    retryIntervalScale: options.retryIntervalScale,
    concurrency: options.concurrency,
    onTaskError: (state, error) =>
      runtime.logger.warn('workflow task failed', { state, error: error.name, reason: error.message }),
  });
  const sfn = new SFNClient({
    region: LOCAL_REGION,
    credentials: localCredentials,
    endpoint: await stepFunctions.listen(),
  });
  starter = new SfnWorkflowStarter(sfn, stepFunctions.stateMachineArn);

  return {
    runtime,
    stepFunctions,
    archive,
    poll: createPollHandler(runtime),
    async close() {
      await Promise.allSettled([...stepFunctions.executions.values()].map((execution) => execution.done));
      await stepFunctions.close();
      sfn.destroy();
      await archive.close();
    },
  };
}

async function ensureTable(
  dynamo: DynamoDBClient,
  definition: ConstructorParameters<typeof CreateTableCommand>[0],
) {
  try {
    await dynamo.send(new DescribeTableCommand({ TableName: definition.TableName }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    await dynamo.send(new CreateTableCommand(definition));
  }
  // Tables are CREATING for a moment, in dynalite as in DynamoDB.
  await waitUntilTableExists(
    { client: dynamo, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 },
    { TableName: definition.TableName },
  );
}
