/**
 * Compliance patches (hold, release, delete-at-source, erasure) on the real local DynamoDB: the
 * GSIs answer listings from the projected `listing` map and their own keys, so a patch must
 * rewrite those too, or list and search would show the entry as it was before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planQuery } from '../../lambdas/aws/dynamo-index.ts';
import type { IndexEntry, IndexQuery } from '../../lambdas/core/ports.ts';
import type { HttpEvent } from '../../lambdas/handlers/http.ts';
import { createQueryHandler } from '../../lambdas/handlers/query.ts';
import { OFFLINE_ACCOUNT, startTestStack, type TestStack } from '../helpers/stack.ts';

const entry = (n: number, status: IndexEntry['status'] = 'archived'): IndexEntry => ({
  id: `cl-${n}`,
  accountId: 'acme',
  provider: 'voipbin',
  providerRecordingId: `p${n}`,
  status,
  startedAt: new Date(Date.UTC(2026, 10, 1, 8, n)).toISOString(),
  from: '+1 (555) 010-0001',
  to: `+1555014200${n}`,
  key: `recordings/voipbin/cl-${n}.mp3`,
  sha256: String(n).repeat(64),
  updatedAt: '2026-11-02T00:00:00.000Z',
  raw: JSON.stringify({ id: `p${n}` }),
});

describe('compliance fields in listings and search (local DynamoDB GSIs)', () => {
  let stack: TestStack;
  const listed = async (query: IndexQuery) => {
    const page = await stack.archive.index.query({ ...query, limit: 100 });
    return new Map(page.items.map((item) => [item.id, item]));
  };
  // Every GSI: byAccount, byProvider (sharded), byTime (sharded), byFrom, byTo.
  const everyIndex = (n: number): IndexQuery[] => [
    { accountId: 'acme' },
    { provider: 'voipbin' },
    {},
    { number: '15550100001' },
    { number: `1555014200${n}` },
  ];

  beforeAll(async () => {
    stack = await startTestStack([{ ...OFFLINE_ACCOUNT, id: 'acme' }]);
    for (const n of [1, 2, 3]) await stack.archive.index.put(entry(n));
    await stack.archive.index.put(entry(4, 'failed'));
  });
  afterAll(() => stack?.dispose());

  it('a legal hold and a delete at source show on every index; a release removes the hold', async () => {
    const legalHold = { by: 'legal', at: '2026-12-01T09:00:00.000Z', reason: 'case 42' };
    expect(await stack.archive.index.patch('cl-1', { legalHold })).toBe(true);
    expect(
      await stack.archive.index.patch(
        'cl-2',
        { deletedAtSourceAt: '2026-12-01T05:00:00.000Z' },
        { expectStatus: 'archived' },
      ),
    ).toBe(true);
    for (const query of everyIndex(1)) {
      expect((await listed(query)).get('cl-1')?.legalHold, JSON.stringify(query)).toEqual(legalHold);
    }
    for (const query of everyIndex(2)) {
      expect((await listed(query)).get('cl-2')?.deletedAtSourceAt, JSON.stringify(query)).toBe(
        '2026-12-01T05:00:00.000Z',
      );
    }

    await stack.archive.index.patch(
      'cl-1',
      { updatedAt: '2026-12-01T10:00:00.000Z' },
      { remove: ['legalHold'] },
    );
    for (const query of everyIndex(1)) {
      const found = (await listed(query)).get('cl-1');
      expect(found?.updatedAt, JSON.stringify(query)).toBe('2026-12-01T10:00:00.000Z');
      expect(found, JSON.stringify(query)).not.toHaveProperty('legalHold');
    }
  });

  it('an erased entry is listed by the sparse status index with its tombstone; its numbers no longer find it', async () => {
    const tombstone = { status: 'erased' as const, erasedAt: '2026-12-01T11:00:00.000Z', reason: 'GDPR' };
    expect(
      await stack.archive.index.patch('cl-3', tombstone, {
        remove: ['raw', 'from', 'to'],
        expectStatus: 'archived',
      }),
    ).toBe(true);
    expect(planQuery({ status: 'erased' }, stack.archive.index.tableName).index).toBe('byStatus');
    const erased = await listed({ status: 'erased' });
    expect([...erased.keys()]).toEqual(['cl-3']);
    expect(erased.get('cl-3')).toMatchObject({ ...tombstone, sha256: '3'.repeat(64) });
    expect(erased.get('cl-3')).not.toHaveProperty('from');
    expect(erased.get('cl-3')).not.toHaveProperty('to');
    expect((await listed({ accountId: 'acme' })).get('cl-3')).toMatchObject({ status: 'erased' });
    expect((await listed({ accountId: 'acme', status: 'archived' })).has('cl-3')).toBe(false);
    expect((await listed({ number: '15550100001' })).has('cl-3')).toBe(false);
    expect((await listed({ number: '15550142003' })).has('cl-3')).toBe(false);
    const whole = await stack.archive.index.get('cl-3');
    expect(whole?.raw).toBeUndefined();
    expect(whole?.from).toBeUndefined();

    const query = createQueryHandler({ index: stack.archive.index, signer: { presign: async () => '' } });
    const answer = await query({
      routeKey: 'GET /recordings',
      queryStringParameters: { status: 'erased' },
    } as unknown as HttpEvent);
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body as string).items).toEqual([
      expect.objectContaining({ id: 'cl-3', status: 'erased', erasedAt: tombstone.erasedAt }),
    ]);
  });

  it('an entry patched to archived leaves the sparse index; a status it no longer has refuses the patch', async () => {
    expect((await listed({ status: 'failed' })).has('cl-4')).toBe(true);
    expect(await stack.archive.index.patch('cl-4', { status: 'archived' }, { expectStatus: 'failed' })).toBe(
      true,
    );
    expect((await listed({ status: 'failed' })).has('cl-4')).toBe(false);
    expect((await listed({ status: 'archived' })).get('cl-4')).toMatchObject({ status: 'archived' });
    expect(await stack.archive.index.patch('cl-4', { reason: 'x' }, { expectStatus: 'failed' })).toBe(false);
  });
});
