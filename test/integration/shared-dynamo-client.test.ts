/**
 * Every DynamoDB adapter over one DynamoDBClient keeps the project's marshalling options, in
 * whichever order they are made. lib-dynamodb keeps a document client's options on the config it
 * shares with its DynamoDBClient: provider slots made after the index, on the local stack's one
 * client, used to make the index refuse every entry with an absent optional field (absent inside
 * its nested `listing` map too), so each execution failed at its record step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRecordingIndex } from '../../lambdas/aws/dynamo-index.ts';
import { DynamoProviderSlots } from '../../lambdas/aws/dynamo-slots.ts';
import { parseConfig } from '../../lambdas/core/config.ts';
import { ProviderBusyError } from '../../lambdas/core/errors.ts';
import { silentLogger } from '../../lambdas/core/log.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { LOCAL_TABLE, type OwnedLocalStack, startLocalStack } from '../../local/stack.ts';

/** An entry as the record step writes it for a recording the provider told little about. */
const sparse = (id: string, status: IndexEntry['status']): IndexEntry => ({
  id,
  accountId: 'vb',
  provider: 'voipbin',
  providerRecordingId: id,
  callId: undefined,
  status,
  reason: 'gone at the provider (deleted or expired)',
  startedAt: undefined,
  from: undefined,
  to: undefined,
  durationSec: undefined,
  readiness: undefined,
  raw: undefined,
  updatedAt: '2026-12-01T12:00:00.000Z',
});

describe('DynamoDB adapters sharing one client', () => {
  let dataDir: string;
  let stack: OwnedLocalStack;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'callvault-shared-'));
    stack = await startLocalStack({
      config: parseConfig({
        accounts: [{ id: 'vb', provider: 'voipbin', baseUrl: 'http://127.0.0.1:9', auth: { token: 't' } }],
      }),
      dataDir,
      logger: silentLogger,
    });
  });

  afterAll(async () => {
    await stack?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("the stack's index writes entries with absent fields, though provider slots were made on its client after it", async () => {
    const { index } = stack.archive;
    expect(await index.put(sparse('vb:skipped', 'skipped'))).toBe(true);
    expect(await index.get('vb:skipped')).toMatchObject({
      status: 'skipped',
      providerRecordingId: 'vb:skipped',
    });
    // A listing reads the nested `listing` map the GSI projects.
    const listed = await index.query({ status: 'skipped' });
    expect(listed.items.map((entry) => entry.id)).toEqual(['vb:skipped']);
    expect(listed.items[0]).not.toHaveProperty('startedAt');
  });

  it('holds for slots and index made in any order, on both write paths of the index', async () => {
    const first = new DynamoProviderSlots(stack.archive.dynamo, LOCAL_TABLE, { waitMs: 0 });
    const index = new DynamoRecordingIndex(stack.archive.dynamo, LOCAL_TABLE);
    const last = new DynamoProviderSlots(stack.archive.dynamo, LOCAL_TABLE, { waitMs: 0 });
    // A failure is an UpdateItem (its count survives), anything else a PutItem.
    expect(await index.put({ ...sparse('vb:failed', 'failed'), errorName: 'ProviderAuthError' })).toBe(true);
    expect(await index.put(sparse('vb:put', 'skipped'))).toBe(true);
    expect(await index.get('vb:failed')).toMatchObject({ status: 'failed', failures: 1 });
    // The slots still share one limit whichever instance asks.
    const lease = await last.acquire('shared', 1);
    await expect(first.acquire('shared', 1)).rejects.toBeInstanceOf(ProviderBusyError);
    await lease.release();
    await (await first.acquire('shared', 1)).release();
  });
});
