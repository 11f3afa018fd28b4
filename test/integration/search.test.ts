/**
 * The search API on the real local DynamoDB (dynalite, the table CDK synthesizes): every filter
 * pages through its GSI completely, in time order, listings without the raw record, the whole
 * entry by id, and a tampered cursor answered 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexEntry, IndexQuery } from '../../lambdas/core/ports.ts';
import type { HttpEvent } from '../../lambdas/handlers/http.ts';
import { createQueryHandler } from '../../lambdas/handlers/query.ts';
import { OFFLINE_ACCOUNT, startTestStack, type TestStack } from '../helpers/stack.ts';

const entries: IndexEntry[] = Array.from({ length: 60 }, (_, n) => ({
  id: `rec-${String(n).padStart(2, '0')}`,
  accountId: ['acme', 'globex', 'initech'][n % 3] as string,
  provider: n % 2 === 0 ? ('voipbin' as const) : ('bandwidth' as const),
  providerRecordingId: `p${n}`,
  status: n % 9 === 0 ? ('failed' as const) : n % 11 === 0 ? ('skipped' as const) : ('archived' as const),
  startedAt: new Date(Date.UTC(2026, 10, 1, 8, n)).toISOString(),
  from: n % 5 === 0 ? '+1 (555) 010-0000' : '+15550199999',
  to: n % 8 === 0 ? '15550100000' : '+15550142000',
  updatedAt: '2026-11-02T00:00:00.000Z',
  raw: JSON.stringify({ id: `p${n}`, note: 'the provider record' }),
}));

describe('search on the local DynamoDB', () => {
  let stack: TestStack;
  let query: ReturnType<typeof createQueryHandler>;
  const signer = { presign: async () => 'http://127.0.0.1:9/unused' };
  const get = (
    routeKey: string,
    parameters: Record<string, string>,
    pathParameters?: Record<string, string>,
  ) => query({ routeKey, queryStringParameters: parameters, pathParameters } as unknown as HttpEvent);

  beforeAll(async () => {
    stack = await startTestStack([{ ...OFFLINE_ACCOUNT, id: 'acme' }]);
    for (const entry of entries) await stack.runtime.index.put(entry);
    query = createQueryHandler({ index: stack.runtime.index, signer });
  });
  afterAll(() => stack?.dispose());

  async function everyPage(filters: Record<string, string>, limit: number) {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const result = await get('GET /recordings', {
        ...filters,
        limit: String(limit),
        ...(cursor ? { cursor } : {}),
      });
      expect(result.statusCode).toBe(200);
      const page = JSON.parse(result.body as string) as { items: IndexEntry[]; cursor: string | null };
      if (page.cursor) expect(page.items).toHaveLength(limit);
      for (const item of page.items) expect(item.raw).toBeUndefined();
      ids.push(...page.items.map((item) => item.id));
      cursor = page.cursor;
    } while (cursor);
    return ids;
  }

  it.each<[Record<string, string>, (entry: IndexEntry) => boolean]>([
    [{}, () => true],
    [{ number: '15550100000' }, (e) => e.from?.startsWith('+1 (555)') === true || e.to === '15550100000'],
    [
      { number: '+1 555 010 0000', account: 'acme' },
      (e) => e.accountId === 'acme' && (e.from?.startsWith('+1 (555)') === true || e.to === '15550100000'),
    ],
    [{ status: 'failed' }, (e) => e.status === 'failed'],
    [
      { status: 'skipped', provider: 'bandwidth' },
      (e) => e.status === 'skipped' && e.provider === 'bandwidth',
    ],
    [{ status: 'archived' }, (e) => e.status === 'archived'],
    [{ account: 'globex' }, (e) => e.accountId === 'globex'],
    [
      { account: 'globex', status: 'archived', provider: 'voipbin' },
      (e) => e.accountId === 'globex' && e.status === 'archived' && e.provider === 'voipbin',
    ],
    [{ provider: 'voipbin' }, (e) => e.provider === 'voipbin'],
    [
      { since: '2026-11-01T08:10:00Z', until: '2026-11-01T08:40:00Z' },
      (e) => (e.startedAt as string) >= '2026-11-01T08:10' && (e.startedAt as string) < '2026-11-01T08:40',
    ],
  ])('%j: every match once, oldest first, full pages', async (filters, keep) => {
    const ids = await everyPage(filters, 4);
    expect(ids).toEqual(entries.filter(keep).map((entry) => entry.id));
  });

  it('answers GET /recordings/{id} with the whole entry, raw record included; 404 for an unknown id', async () => {
    const one = await get('GET /recordings/{id}', {}, { id: 'rec-07' });
    expect(one.statusCode).toBe(200);
    expect(JSON.parse(one.body as string)).toMatchObject({ id: 'rec-07', raw: entries[7]?.raw });
    expect((await get('GET /recordings/{id}', {}, { id: 'nope' })).statusCode).toBe(404);
  });

  it('answers 400, not 500, for a tampered cursor or one from other filters', async () => {
    const first = JSON.parse((await get('GET /recordings', { account: 'acme', limit: '2' })).body as string);
    const decoded = JSON.parse(Buffer.from(first.cursor, 'base64url').toString());
    decoded.s[0].sortKey = '!';
    const tampered = Buffer.from(JSON.stringify(decoded)).toString('base64url');
    for (const [filters, cursor] of [
      [{ account: 'acme' }, tampered],
      [{ account: 'acme' }, 'garbage'],
      [{ account: 'globex' }, first.cursor],
    ] as [Record<string, string>, string][]) {
      const answer = await get('GET /recordings', { ...filters, cursor });
      expect(answer.statusCode).toBe(400);
      expect(JSON.parse(answer.body as string).message).toMatch(/cursor/);
    }
  });

  it('reads only the index page it needs for a rare status (a Query on the sparse index)', async () => {
    const page = await stack.runtime.index.query({ status: 'failed', limit: 100 } satisfies IndexQuery);
    expect(page.items.map((item) => item.id)).toEqual(
      entries.filter((e) => e.status === 'failed').map((e) => e.id),
    );
    expect(page.cursor).toBeUndefined();
  });
});
