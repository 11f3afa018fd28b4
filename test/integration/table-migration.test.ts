/**
 * A data directory from before the search GSIs changed: the local index table is rebuilt with the
 * current GSIs and every item kept, and a rebuild cut short by a crash is finished on the next start.
 */

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalServers } from '../../local/servers.ts';
import { randomCredentials } from '../../local/sigv4.ts';
import { LOCAL_BUCKET, LOCAL_TABLE } from '../../local/stack.ts';
import { OFFLINE_ACCOUNT, startTestStack } from '../helpers/stack.ts';

/** Items as the previous version wrote them: no listing, no shards, no open status. */
const oldItems = [
  { id: 'r1', status: 'archived', startedAt: '2026-11-01T08:00:00.000Z', from: '+15550100' },
  { id: 'r2', status: 'failed', startedAt: '2026-11-01T09:00:00.000Z', reason: 'boom', failures: 2 },
  { id: 'r3', status: 'skipped', startedAt: '2026-11-01T10:00:00.000Z' },
].map((item) => ({
  ...item,
  accountId: 'vb',
  provider: 'voipbin',
  providerRecordingId: item.id,
  updatedAt: '2026-11-02T00:00:00.000Z',
  raw: '{"x":1}',
  entity: 'recording',
  sortKey: `${item.startedAt}#${item.id}`,
  fromNumber: item.from ? '15550100' : undefined,
}));

async function oldDataDir(options: { crashedAfterSaving?: boolean } = {}): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'callvault-migrate-'));
  const credentials = randomCredentials();
  const servers = await startLocalServers(dataDir, [LOCAL_BUCKET], credentials);
  const dynamo = new DynamoDBClient({ endpoint: servers.dynamoEndpoint, region: 'us-east-1', credentials });
  const string = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  await dynamo.send(
    new CreateTableCommand({
      TableName: LOCAL_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [
        string('id'),
        string('sortKey'),
        string('accountId'),
        string('provider'),
        string('fromNumber'),
      ],
      GlobalSecondaryIndexes: ['accountId', 'provider', 'fromNumber'].map((partition) => ({
        IndexName: { accountId: 'byAccount', provider: 'byProvider', fromNumber: 'byFrom' }[partition],
        KeySchema: [
          { AttributeName: partition, KeyType: 'HASH' as const },
          { AttributeName: 'sortKey', KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      })),
    }),
  );
  await waitUntilTableExists(
    { client: dynamo, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 },
    { TableName: LOCAL_TABLE },
  );
  const db = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const cursor = { id: 'cursor#vb', entity: 'cursor', cursor: '2026-11-01T10:00:00.000Z' };
  if (options.crashedAfterSaving) {
    // Saved to the file, then the process died before the old table was dropped.
    writeFileSync(
      join(dataDir, 'index-migration.jsonl'),
      [...oldItems, cursor].map((item) => `${JSON.stringify(item)}\n`).join(''),
    );
  } else {
    for (const item of [...oldItems, cursor])
      await db.send(new PutCommand({ TableName: LOCAL_TABLE, Item: item }));
  }
  dynamo.destroy();
  await servers.close();
  return dataDir;
}

describe('the local index table from an earlier version', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['with its items in the old table', {}],
    ['after a crash that left only the saved items', { crashedAfterSaving: true }],
  ])(
    'is rebuilt %s, every item kept and found through the new GSIs',
    async (_case, options) => {
      const dataDir = await oldDataDir(options);
      dirs.push(dataDir);
      const stack = await startTestStack([OFFLINE_ACCOUNT], { dataDir });
      try {
        const index = stack.runtime.index;
        expect((await index.query({})).items.map((item) => item.id)).toEqual(['r1', 'r2', 'r3']);
        expect((await index.query({ status: 'failed' })).items).toMatchObject([
          { id: 'r2', reason: 'boom', failures: 2 },
        ]);
        expect(
          (await index.query({ provider: 'voipbin', status: 'archived' })).items.map((item) => item.id),
        ).toEqual(['r1']);
        expect((await index.query({ number: '1 555 0100' })).items.map((item) => item.id)).toEqual(['r1']);
        expect(await index.get('r3')).toMatchObject({ status: 'skipped', raw: '{"x":1}' });
        expect(await index.getCursor('vb')).toBe('2026-11-01T10:00:00.000Z');
        expect(existsSync(join(dataDir, 'index-migration.jsonl'))).toBe(false);
      } finally {
        await stack.dispose();
      }
    },
    90_000,
  );
});
