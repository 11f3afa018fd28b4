/**
 * The deployed dependencies, each built once per Lambda container from the environment the
 * stack sets. Separate factories, so a handler's bundle holds only the clients it uses.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SecretsAccountDirectory } from '../aws/accounts.ts';
import { DynamoRecordingIndex } from '../aws/dynamo-index.ts';
import { DynamoProviderSlots } from '../aws/dynamo-slots.ts';
import { DynamoSweepJournal } from '../aws/dynamo-sweep-journal.ts';
import { DynamoSweepLedger } from '../aws/dynamo-sweeps.ts';
import { S3ArchiveStore } from '../aws/s3-store.ts';
import { SfnExecutionHistory } from '../aws/sfn-history.ts';
import { SfnWorkflowStarter } from '../aws/sfn-starter.ts';
import { readinessConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { ENV_VARS } from '../core/names.ts';
import { adapterCache } from '../providers/index.ts';
import { observability } from './observability.ts';
import { once } from './runtime.ts';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

/** Every SDK client is traced (a subsegment per call). */
const traced = <T>(client: T): T => observability().tracer.captureAWSv3Client(client);

export const environmentLogger = /* @__PURE__ */ once(() => observability().logger);

export const environmentMetrics = /* @__PURE__ */ once(() => observability().metrics);

const dynamoClient = /* @__PURE__ */ once(() => traced(new DynamoDBClient({})));
const s3Client = /* @__PURE__ */ once(() => traced(new S3Client({})));
const sfnClient = /* @__PURE__ */ once(() => traced(new SFNClient({})));

/** A store on the stack's one DynamoDB table. */
const onTable = <T>(Store: new (client: DynamoDBClient, tableName: string) => T) =>
  /* @__PURE__ */ once(() => new Store(dynamoClient(), requireEnv(ENV_VARS.tableName)));

/** A starter of the state machine whose ARN the variable holds. */
const startingMachine = (variable: string) =>
  /* @__PURE__ */ once(() => new SfnWorkflowStarter(sfnClient(), requireEnv(variable)));

export const environmentIndex = /* @__PURE__ */ onTable(DynamoRecordingIndex);
export const environmentSweeps = /* @__PURE__ */ onTable(DynamoSweepJournal);
export const environmentSlots = /* @__PURE__ */ onTable(DynamoProviderSlots);
export const environmentLedger = /* @__PURE__ */ onTable(DynamoSweepLedger);

export const environmentStore = /* @__PURE__ */ once(
  () => new S3ArchiveStore(s3Client(), requireEnv(ENV_VARS.bucketName)),
);

export const environmentStarter = /* @__PURE__ */ startingMachine(ENV_VARS.stateMachineArn);
export const environmentSweepStarter = /* @__PURE__ */ startingMachine(ENV_VARS.sweepStateMachineArn);

/** Needs no variable: the status-change event names the execution. */
export const environmentHistory = /* @__PURE__ */ once(() => new SfnExecutionHistory(sfnClient()));

export const environmentAccounts = /* @__PURE__ */ once(() =>
  SecretsAccountDirectory.fromEnvironment(traced(new SecretsManagerClient({})), s3Client()),
);

export const environmentAdapters = /* @__PURE__ */ once(() =>
  adapterCache(environmentAccounts(), { logger: environmentLogger() }),
);

export const environmentReadiness = /* @__PURE__ */ once(() =>
  readinessConfig.parse(JSON.parse(process.env[ENV_VARS.readiness] ?? '{}')),
);

/** What the daily per-account jobs (reconcile, delete-at-source) work with. */
export const environmentAccountJob = () => ({
  accounts: environmentAccounts(),
  adapterFor: environmentAdapters(),
  index: environmentIndex(),
  store: environmentStore(),
  logger: environmentLogger(),
});
