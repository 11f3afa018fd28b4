/**
 * The index of a data directory alone (entries and sweep journal): what `recordings list` and
 * `status` open. Neither S3's server nor its client loads.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoRecordingIndex } from '../../lambdas/aws/dynamo-index.ts';
import { DynamoSweepJournal } from '../../lambdas/aws/dynamo-sweep-journal.ts';
import { startIndexServer } from '../servers.ts';
import { randomCredentials } from '../sigv4.ts';
import type { LocalIndex } from '../stack.ts';
import { dynamoClient } from './clients.ts';
import { runningServe } from './serve-file.ts';

export const LOCAL_TABLE = 'callvault-index';

export function indexOf(dynamo: DynamoDBClient, closeServer: () => Promise<void>): LocalIndex {
  return {
    index: new DynamoRecordingIndex(dynamo, LOCAL_TABLE),
    sweeps: new DynamoSweepJournal(dynamo, LOCAL_TABLE),
    dynamo,
    async close() {
      dynamo.destroy();
      await closeServer();
    },
  };
}

/** The index of a data directory (entries and sweep journal): attached to a running `serve`, or with a DynamoDB server of its own. */
export async function openLocalIndex(dataDir: string): Promise<LocalIndex> {
  const serving = await runningServe(dataDir);
  if (serving) return indexOf(dynamoClient(serving), async () => {});
  const credentials = randomCredentials();
  const server = await startIndexServer(dataDir, credentials);
  return indexOf(dynamoClient({ dynamodb: server.endpoint, credentials }), () => server.close());
}
