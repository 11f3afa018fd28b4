/**
 * The dependencies every handler needs, built once per Lambda container from the environment
 * (the deployed stack) or handed in by the local stack. Handlers take a Runtime, so the same
 * handler code runs against AWS, the local servers, or a test's fakes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SecretsAccountDirectory } from '../aws/accounts.ts';
import { DynamoRecordingIndex } from '../aws/dynamo-index.ts';
import { S3ArchiveStore } from '../aws/s3-store.ts';
import { SfnWorkflowStarter } from '../aws/sfn-starter.ts';
import { type ReadinessConfig, readinessConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { jsonLogger, type Logger } from '../core/log.ts';
import type { AccountDirectory, ArchiveStore, RecordingIndex, WorkflowStarter } from '../core/ports.ts';
import type { AdapterOptions, ProviderAdapter } from '../providers/adapter.ts';
import { createAdapter } from '../providers/index.ts';

export interface Runtime {
  accounts: AccountDirectory;
  index: RecordingIndex;
  store: ArchiveStore;
  starter: WorkflowStarter;
  readiness: ReadinessConfig;
  logger: Logger;
  adapterFor(accountId: string): Promise<ProviderAdapter>;
}

export interface RuntimeParts extends Omit<Runtime, 'adapterFor' | 'logger'> {
  logger?: Logger;
  adapterOptions?: AdapterOptions;
}

export function createRuntime(parts: RuntimeParts): Runtime {
  const logger = parts.logger ?? jsonLogger;
  const adapters = new Map<string, { account: unknown; adapter: ProviderAdapter }>();
  return {
    ...parts,
    logger,
    async adapterFor(accountId) {
      const account = await parts.accounts.get(accountId);
      const cached = adapters.get(accountId);
      // A new account object means rotated credentials: build a new adapter.
      if (cached && cached.account === account) return cached.adapter;
      const adapter = createAdapter(account, { logger, ...parts.adapterOptions });
      adapters.set(accountId, { account, adapter });
      return adapter;
    },
  };
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

let fromEnvironment: Runtime | undefined;

/** The deployed runtime: clients made once per container, names from the environment. */
export function runtimeFromEnvironment(): Runtime {
  fromEnvironment ??= createRuntime({
    accounts: SecretsAccountDirectory.fromEnvironment(new SecretsManagerClient({})),
    index: new DynamoRecordingIndex(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    store: new S3ArchiveStore(new S3Client({}), requireEnv('BUCKET_NAME')),
    starter: new SfnWorkflowStarter(new SFNClient({}), process.env.STATE_MACHINE_ARN ?? ''),
    readiness: readinessConfig.parse(JSON.parse(process.env.CALLVAULT_READINESS ?? '{}')),
  });
  return fromEnvironment;
}
