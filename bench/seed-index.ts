/**
 * A local stack in a fresh data directory whose index is filled fast: BatchWriteItem, 25 items a
 * call, 8 calls at once.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import pMap from 'p-map';
import { documentClient } from '../lambdas/aws/document-client.ts';
import { toItem } from '../lambdas/aws/dynamo-index.ts';
import { parseConfig } from '../lambdas/core/config.ts';
import { silentLogger } from '../lambdas/core/log.ts';
import type { IndexEntry } from '../lambdas/core/ports.ts';
import { LOCAL_TABLE, type LocalStack, startLocalStack } from '../local/stack.ts';

/** The stack (one placeholder account) and the seconds the seeding took. */
export async function seededStack(
  dataDir: string,
  count: number,
  entryOf: (n: number) => IndexEntry,
): Promise<{ stack: LocalStack; seedSeconds: number }> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const config = parseConfig({
    accounts: [{ id: 'acct-0', provider: 'voipbin', baseUrl: 'http://127.0.0.1:9', auth: { token: 't' } }],
  });
  const stack = await startLocalStack({ config, dataDir, logger: silentLogger });
  return { stack, seedSeconds: await seedIndex(stack, count, entryOf) };
}

/** Writes entries 0 … count − 1 of `entryOf`; returns the seconds it took. */
async function seedIndex(
  stack: LocalStack,
  count: number,
  entryOf: (n: number) => IndexEntry,
): Promise<number> {
  const db = documentClient(stack.archive.dynamo);
  const began = performance.now();
  const batches = Array.from({ length: Math.ceil(count / 25) }, (_, batch) => batch);
  await pMap(
    batches,
    async (batch) => {
      let requests = Array.from({ length: Math.min(25, count - batch * 25) }, (_, k) => ({
        PutRequest: { Item: toItem(entryOf(batch * 25 + k)) },
      }));
      while (requests.length > 0) {
        const result = await db.send(new BatchWriteCommand({ RequestItems: { [LOCAL_TABLE]: requests } }));
        requests = (result.UnprocessedItems?.[LOCAL_TABLE] ?? []) as typeof requests;
      }
    },
    { concurrency: 8 },
  );
  return (performance.now() - began) / 1000;
}
