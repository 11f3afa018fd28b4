/**
 * The index's writes on the local DynamoDB: counters survive every outcome, a round's outcome
 * is counted once and never overwritten by an older round's, and the sparse byStatus GSI holds
 * exactly the entries that are not archived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack([
    { id: 'vb', provider: 'voipbin', baseUrl: 'http://127.0.0.1:9', auth: { token: 't' } } as never,
  ]);
});
afterAll(async () => stack?.dispose());

const entry = (id: string, fields: Partial<IndexEntry>): IndexEntry => ({
  id,
  accountId: 'vb',
  provider: 'voipbin',
  providerRecordingId: id,
  status: 'failed',
  startedAt: '2026-01-02T03:04:05.000Z',
  updatedAt: '2026-01-02T04:00:00.000Z',
  ...fields,
});

describe('index writes', () => {
  it('keeps failures and round across a skipped write, and counts a round’s failure once', async () => {
    const index = stack.runtime.index;
    expect(
      await index.put(entry('a', { round: 0, reason: 'cut short', errorName: 'IncompleteDownloadError' })),
    ).toBe(true);
    // The same round reporting the same failure again (a retried task, a duplicate event).
    expect(await index.put(entry('a', { round: 0, reason: 'cut short' }))).toBe(false);
    expect(await index.put(entry('a', { round: 1, status: 'skipped', reason: 'gone at the provider' }))).toBe(
      true,
    );
    expect(await index.get('a')).toMatchObject({
      status: 'skipped',
      failures: 1,
      round: 1,
      reason: 'gone at the provider',
    });
    expect((await index.get('a'))?.errorName).toBeUndefined();
    // An older round's outcome arriving late does not overwrite the newer one.
    expect(await index.put(entry('a', { round: 0, reason: 'late' }))).toBe(false);
    expect(await index.get('a')).toMatchObject({ status: 'skipped', failures: 1, round: 1 });
  });

  it('lists failed entries from the sparse byStatus index, and drops them once archived', async () => {
    const index = stack.runtime.index;
    await index.put(entry('b', { round: 0, reason: 'provider down' }));
    await index.put(entry('c', { round: 0, accountId: 'other', reason: 'provider down' }));
    const failedIds = async (accountId?: string) =>
      (await index.listFailed({ accountId })).items.map((item) => item.id).sort();
    expect(await failedIds()).toEqual(['b', 'c']);
    expect(await failedIds('vb')).toEqual(['b']);

    await index.put(
      entry('b', {
        status: 'archived',
        round: 1,
        bucket: 'callvault-audio',
        key: 'recordings/vb/b.wav',
        bytes: 10,
        sha256: 'f'.repeat(64),
        archivedAt: '2026-01-02T05:00:00.000Z',
      }),
    );
    expect(await failedIds()).toEqual(['c']);
    const archived = await index.get('b');
    expect(archived).toMatchObject({ status: 'archived', failures: 1 });
    expect(archived?.reason).toBeUndefined();
    expect(archived).not.toHaveProperty('openStatus');
  });

  it('an outcome written without the recording keeps what an earlier round learnt, in the entry and its listing', async () => {
    const index = stack.runtime.index;
    const known = { accountId: 'timed', from: '+1 (555) 000-1111', raw: '{"provider":"record"}' };
    await index.put(entry('d', { ...known, round: 0, reason: 'provider down' }));
    // A timed-out execution of the next round: its input never carried the recording.
    await index.put(
      entry('d', { accountId: 'timed', startedAt: undefined, round: 1, reason: 'the execution timed out' }),
    );
    expect(await index.get('d')).toMatchObject({
      ...known,
      startedAt: '2026-01-02T03:04:05.000Z',
      failures: 2,
    });
    const [listed, ...others] = (await index.listFailed({ accountId: 'timed' })).items;
    expect(others).toEqual([]);
    // The byStatus GSI projects the listing: the description, the round and the count, not `raw`.
    expect(listed).toMatchObject({
      id: 'd',
      from: known.from,
      startedAt: '2026-01-02T03:04:05.000Z',
      round: 1,
      failures: 2,
      reason: 'the execution timed out',
    });
    expect(listed).not.toHaveProperty('raw');
    const byNumber = await index.query({ number: '15550001111', since: '2026-01-02T00:00:00.000Z' });
    expect(byNumber.items.map((item) => item.id)).toEqual(['d']);
  });
});
