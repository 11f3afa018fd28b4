/**
 * The search API on the real local DynamoDB (dynalite, the table CDK synthesizes): every filter
 * pages through its GSI completely, in time order, listings without the raw record, the whole
 * entry by id, and bad input (a reversed time range, a tampered cursor, a limit that is not a plain
 * number) answered 400 naming it, an id that is not a recording id 404 saying so: never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingId } from '../../lambdas/core/ids.ts';
import type { IndexEntry, IndexQuery } from '../../lambdas/core/ports.ts';
import type { HttpEvent } from '../../lambdas/handlers/http.ts';
import { createQueryHandler } from '../../lambdas/handlers/query.ts';
import { OFFLINE_ACCOUNT, startTestStack, type TestStack } from '../helpers/stack.ts';

const entries: IndexEntry[] = Array.from({ length: 60 }, (_, n) => ({
  // Ids as the index has them: `recordingId`'s 32 hex characters.
  id: recordingId({
    accountId: ['acme', 'globex', 'initech'][n % 3] as string,
    providerRecordingId: `p${n}`,
  }),
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
    const seventh = entries[7] as IndexEntry;
    const one = await get('GET /recordings/{id}', {}, { id: seventh.id });
    expect(one.statusCode).toBe(200);
    expect(JSON.parse(one.body as string)).toMatchObject({ id: seventh.id, raw: seventh.raw });
    const unknown = await get('GET /recordings/{id}', {}, { id: 'f'.repeat(32) });
    expect(unknown.statusCode).toBe(404);
    expect(JSON.parse(unknown.body as string).message).toBe(`no recording with id ${'f'.repeat(32)}`);
  });

  it('answers 404 "not a recording id", never looked up, for an id of another shape (one over 2,048 bytes too)', async () => {
    const seventh = (entries[7] as IndexEntry).id;
    for (const route of ['GET /recordings/{id}', 'GET /recordings/{id}/audio']) {
      for (const id of [
        'x'.repeat(3000),
        'nope',
        seventh.toUpperCase(),
        `${seventh}0`,
        seventh.slice(1),
        '',
      ]) {
        const answer = await get(route, {}, { id });
        expect(answer.statusCode, `${route} ${id.slice(0, 40)}`).toBe(404);
        const { message } = JSON.parse(answer.body as string);
        expect(message).toMatch(/is not a recording id \(32 lowercase hex characters\)/);
        // The id is named, cut short: the answer does not echo kilobytes back.
        expect(message.length).toBeLessThan(200);
      }
    }
  });

  it('answers 400 naming since and until when since is after until; an empty page when they are equal', async () => {
    const reversed = await get('GET /recordings', { since: '2026-11-02', until: '2026-11-01' });
    expect(reversed.statusCode).toBe(400);
    expect(JSON.parse(reversed.body as string).message).toBe(
      '"since" (2026-11-02T00:00:00.000Z) must not be after "until" (2026-11-01T00:00:00.000Z)',
    );
    // Every index answers the same: an account's, a number's, the sharded time index.
    for (const filters of [{ account: 'acme' }, { number: '15550100000' }, { provider: 'voipbin' }] as Record<
      string,
      string
    >[]) {
      const answer = await get('GET /recordings', {
        ...filters,
        since: '2026-11-01T08:30:00Z',
        until: '2026-11-01T08:29:59.999Z',
      });
      expect(answer.statusCode).toBe(400);
      expect(JSON.parse(answer.body as string).message).toMatch(/"since" .* must not be after "until"/);
    }
    // `until` is exclusive: an entry started at exactly that time is not in [since, until).
    const at = (entries[10] as IndexEntry).startedAt as string;
    const equal = await get('GET /recordings', { since: at, until: at });
    expect(equal.statusCode).toBe(200);
    expect(JSON.parse(equal.body as string)).toEqual({ items: [], cursor: null });
    // A year the index's string order cannot hold (`+010000-…` sorts before `2026-…`).
    const far = await get('GET /recordings', { since: '2026-11-01', until: '+010000-01-01' });
    expect(far.statusCode).toBe(400);
    expect(JSON.parse(far.body as string).message).toMatch(/"until" must be in the years 0000 to 9999/);
  });

  it('answers 400 for a limit that is not a plain decimal number from 1 to 1000', async () => {
    for (const limit of ['0x2', '1e2', '2.0', ' 2', '+2', '-1', '0', '1001', '', 'ten', '99999']) {
      const answer = await get('GET /recordings', { limit });
      expect(answer.statusCode, limit).toBe(400);
      expect(JSON.parse(answer.body as string).message).toBe('"limit" must be a whole number from 1 to 1000');
    }
    for (const limit of ['1', '1000', '007']) {
      expect((await get('GET /recordings', { limit })).statusCode, limit).toBe(200);
    }
  });

  it('answers 400, not 500, for a tampered cursor or one from other filters', async () => {
    const first = JSON.parse((await get('GET /recordings', { account: 'acme', limit: '2' })).body as string);
    const decoded = JSON.parse(Buffer.from(first.cursor, 'base64url').toString());
    const edit = (change: (key: Record<string, string>) => void) => {
      const copy = structuredClone(decoded);
      change(copy.s[0]);
      return Buffer.from(JSON.stringify(copy)).toString('base64url');
    };
    const long = 'x'.repeat(2049);
    for (const [filters, cursor] of [
      [{ account: 'acme' }, edit((key) => (key.sortKey = '!'))],
      // Keys DynamoDB refuses in an ExclusiveStartKey: empty, or over its key-size limits.
      [{ account: 'acme' }, edit((key) => (key.id = ''))],
      [{ account: 'acme' }, edit((key) => (key.id = long))],
      [
        { account: 'acme' },
        edit((key) => {
          key.id = long;
          key.sortKey = `${key.sortKey?.split('#')[0]}#${long}`;
        }),
      ],
      [{ account: 'acme' }, edit((key) => (key.sortKey = `${key.sortKey}${'x'.repeat(1024)}`))],
      [{ account: 'acme' }, edit((key) => (key.accountId = ''))],
      [{ account: 'acme' }, edit((key) => (key.accountId = long))],
      [{ account: 'acme' }, 'garbage'],
      [{ account: 'globex' }, first.cursor],
    ] as [Record<string, string>, string][]) {
      const answer = await get('GET /recordings', { ...filters, cursor });
      expect(answer.statusCode).toBe(400);
      expect(JSON.parse(answer.body as string).message).toMatch(
        /^"cursor" is not one this API issued for this query/,
      );
    }
    // The cursor as issued still pages on.
    expect(
      (await get('GET /recordings', { account: 'acme', limit: '2', cursor: first.cursor })).statusCode,
    ).toBe(200);
  });

  it('reads only the index page it needs for a rare status (a Query on the sparse index)', async () => {
    const page = await stack.runtime.index.query({ status: 'failed', limit: 100 } satisfies IndexQuery);
    expect(page.items.map((item) => item.id)).toEqual(
      entries.filter((e) => e.status === 'failed').map((e) => e.id),
    );
    expect(page.cursor).toBeUndefined();
  });
});
