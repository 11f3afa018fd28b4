/**
 * A day's manifest reads that day only: its archives from the byArchived index (sharded like the
 * time index, sorted by `archivedAt`) and its erasures from the erased entries, on the local
 * DynamoDB, so its cost follows the day, not the whole index.
 */
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRecordingIndex } from '../../lambdas/aws/dynamo-index.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { LOCAL_TABLE } from '../../local/stack.ts';
import { LOCAL_REGION } from '../../local/template.ts';
import { writeThrough } from '../helpers/manifests.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const DAY = '2025-03-10';
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack([
    { id: 'vb', provider: 'voipbin', baseUrl: 'http://127.0.0.1:9', auth: { token: 't' } } as never,
  ]);
});
afterAll(async () => stack?.dispose());

const archived = (id: string, archivedAt: string, fields: Partial<IndexEntry> = {}): IndexEntry => ({
  id,
  accountId: 'vb',
  provider: 'voipbin',
  providerRecordingId: id,
  status: 'archived',
  startedAt: '2025-01-02T03:04:05.000Z',
  bytes: 10,
  sha256: 'a'.repeat(64),
  key: `recordings/vb/2025/01/02/${id}.wav`,
  archivedAt,
  updatedAt: archivedAt,
  ...fields,
});

describe("a day's manifest", () => {
  it('lists exactly the recordings archived or erased that UTC day, from every shard', async () => {
    const index = stack.archive.index;
    // Forty of the day, over every hour (and so over the eight shards, by id).
    const ofTheDay = Array.from({ length: 40 }, (_, n) => `day-${n}`);
    for (const [n, id] of ofTheDay.entries()) {
      await index.put(archived(id, `${DAY}T${String(n % 24).padStart(2, '0')}:30:00.000Z`));
    }
    await index.put(archived('before', '2025-03-09T23:59:59.999Z'));
    await index.put(archived('after', '2025-03-11T00:00:00.000Z'));
    await index.put({ ...archived('failed', ''), status: 'failed', archivedAt: undefined, reason: 'down' });
    // Archived before, erased that day; and erased another day.
    for (const [id, erasedAt] of [
      ['erased-that-day', `${DAY}T12:00:00.000Z`],
      ['erased-later', '2025-03-12T08:00:00.000Z'],
    ] as const) {
      await index.put(archived(id, '2025-03-01T10:00:00.000Z'));
      await index.patch(
        id,
        { status: 'erased', erasedAt, updatedAt: erasedAt },
        { expectStatus: 'archived' },
      );
    }
    // A patch after archiving (a deletion at source) leaves the entry in its day.
    await index.patch('day-0', { deletedAtSourceAt: '2025-03-20T05:00:00.000Z' });

    const read: string[] = [];
    for await (const entry of index.archivedOn(DAY)) read.push(entry.id);
    expect(read.sort()).toEqual([...ofTheDay].sort());

    const written = await writeThrough(DAY, stack.archive);
    expect(written.recordings).toBe(41);
    const chunks: Buffer[] = [];
    for await (const chunk of await stack.archive.store.read(written.key)) chunks.push(chunk as Buffer);
    const lines = Buffer.concat(chunks)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const recordings = lines.slice(0, -1);
    expect(recordings.map((line) => line.id).sort()).toEqual([...ofTheDay, 'erased-that-day'].sort());
    expect(recordings.find((line) => line.id === 'erased-that-day')).toMatchObject({
      archivedAt: '2025-03-01T10:00:00.000Z',
      erasedAt: `${DAY}T12:00:00.000Z`,
    });
    // In archive order, then by id: the same manifest whatever order the shards answered in.
    const order = recordings.map((line) => `${line.archivedAt}#${line.id}`);
    expect(order).toEqual([...order].sort());
  });

  it("follows every shard's pages to the end", async () => {
    // DynamoDB pages at 1 MB, which this test's entries are far from: a client that asks for two
    // items a page makes dynalite page the same way, so the LastEvaluatedKey loop is what is read.
    const client = new DynamoDBClient({
      endpoint: stack.endpoints.dynamodb,
      region: LOCAL_REGION,
      credentials: stack.endpoints.credentials,
    });
    let queries = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === QueryCommand.name) {
          queries += 1;
          (args.input as { Limit?: number }).Limit = 2;
        }
        return next(args);
      },
      { step: 'initialize', name: 'twoItemPages' },
    );
    const read: string[] = [];
    for await (const entry of new DynamoRecordingIndex(client, LOCAL_TABLE).archivedOn(DAY))
      read.push(entry.id);
    client.destroy();
    expect(read.sort()).toEqual(Array.from({ length: 40 }, (_, n) => `day-${n}`).sort());
    // Eight first pages hold 16 at most: all 40 came from following LastEvaluatedKey, 20 pages or more.
    expect(queries).toBeGreaterThanOrEqual(20);
  });
});
