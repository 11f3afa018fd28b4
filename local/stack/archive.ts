/**
 * The archive of a data directory (index, sweep journal, locked store) without the workflow: what
 * `recordings`, `manifest` and `verify` open. Nothing here loads a handler or the interpreter.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RetentionConfig } from '../../lambdas/core/config.ts';
import { LocalArchiveStore } from '../locked-store.ts';
import { startLocalServers } from '../servers.ts';
import { randomCredentials } from '../sigv4.ts';
import type { LocalArchive } from '../stack.ts';
import { clients } from './clients.ts';
import { indexOf } from './local-index.ts';
import { runningServe } from './serve-file.ts';

export const LOCAL_BUCKET = 'callvault-audio';

export function archiveOf(
  s3: S3Client,
  dynamo: DynamoDBClient,
  closeServers: () => Promise<void>,
  retention?: RetentionConfig,
): LocalArchive {
  const index = indexOf(dynamo, closeServers);
  return {
    ...index,
    store: new LocalArchiveStore(s3, LOCAL_BUCKET, retention),
    s3,
    async close() {
      s3.destroy();
      await index.close();
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
  const serving = await runningServe(dataDir);
  if (serving) {
    const { s3, dynamo } = await clients(serving);
    return archiveOf(s3, dynamo, async () => {}, options.retention);
  }
  const credentials = randomCredentials();
  const servers = await startLocalServers(dataDir, [LOCAL_BUCKET], credentials);
  const { s3, dynamo } = await clients({
    s3: servers.s3Endpoint,
    dynamodb: servers.dynamoEndpoint,
    credentials,
  });
  return archiveOf(s3, dynamo, () => servers.close(), options.retention);
}
