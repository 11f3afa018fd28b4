/**
 * The search planner (which GSI answers each filter) and the page loop (refill, merge, byte cap,
 * cursor) over an in-memory Query with DynamoDB's semantics (Limit counts items read before the
 * filter; LastEvaluatedKey when it stopped early). The same loop on the real local DynamoDB:
 * test/integration/search.test.ts.
 */
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_PAGE_BYTES,
  INDEX_PARTITIONS,
  mergedPage,
  PROJECTED_ATTRIBUTES,
  planQuery,
  SHARDS,
  toItem,
} from '../../lambdas/aws/dynamo-index.ts';
import { UsageError } from '../../lambdas/core/errors.ts';
import type { IndexEntry, IndexPage, IndexQuery } from '../../lambdas/core/ports.ts';
import { isRecordingId, parseRecordingQuery } from '../../lambdas/core/query.ts';

type Item = Record<string, unknown>;

function entries(count: number): IndexEntry[] {
  return Array.from({ length: count }, (_, n) => ({
    id: `rec-${String(n).padStart(3, '0')}`,
    accountId: n % 3 === 0 ? 'acme' : 'other',
    provider: n % 2 === 0 ? ('voipbin' as const) : ('bandwidth' as const),
    providerRecordingId: `p${n}`,
    status: n % 10 === 0 ? ('failed' as const) : ('archived' as const),
    startedAt: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(),
    // Every 7th call is from the number to itself; every 4th from it to another.
    from: n % 4 === 0 || n % 7 === 0 ? '+1 555 0100' : '+1 555 0199',
    to: n % 7 === 0 ? '15550100' : '+1 555 0142',
    updatedAt: '2026-11-02T00:00:00.000Z',
    raw: JSON.stringify({ padding: 'x'.repeat(500) }),
  }));
}

/** DynamoDB's Query over a GSI, in memory: key condition, Limit before FilterExpression, projection. */
function memoryQuery(source: IndexEntry[]) {
  const items = source.map((entry) => toItem(entry) as unknown as Item);
  const calls: QueryCommandInput[] = [];
  const fetch = async (input: QueryCommandInput) => {
    calls.push(input);
    const names = input.ExpressionAttributeNames as Record<string, string>;
    const values = input.ExpressionAttributeValues as Record<string, unknown>;
    const partition = names['#pk'] as string;
    const start = input.ExclusiveStartKey as Item | undefined;
    const inKey = items
      .filter(
        (item) =>
          item[partition] === values[':pk'] &&
          String(item.sortKey) >= String(values[':lower']) &&
          String(item.sortKey) <= String(values[':upper']) &&
          (!start || String(item.sortKey) > String(start.sortKey)),
      )
      .sort((a, b) => String(a.sortKey).localeCompare(String(b.sortKey)));
    const read = inKey.slice(0, input.Limit ?? inKey.length);
    const conditions = (input.FilterExpression ?? '').split(' AND ').filter(Boolean);
    const matches = read.filter((item) =>
      conditions.every((condition) => {
        const [path, value] = condition.split(' = ') as [string, string];
        const [map, name] = path.split('.') as [string, string];
        const listed = item[names[map] as string] as Item;
        return listed[names[name] as string] === values[value];
      }),
    );
    const projected = matches.map((item) =>
      Object.fromEntries(
        Object.entries(item).filter(([field]) =>
          ['id', 'sortKey', partition, ...PROJECTED_ATTRIBUTES].includes(field),
        ),
      ),
    );
    const last = read.at(-1);
    const more = read.length < inKey.length && last;
    return {
      Items: projected,
      LastEvaluatedKey: more
        ? { id: last.id, sortKey: last.sortKey, [partition]: last[partition] }
        : undefined,
    };
  };
  return { fetch, calls };
}

async function allPages(source: IndexEntry[], query: IndexQuery, maxBytes = DEFAULT_MAX_PAGE_BYTES) {
  const { fetch, calls } = memoryQuery(source);
  const pages: IndexPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await mergedPage(planQuery(query, 't'), fetch, {
      limit: query.limit ?? 100,
      maxBytes,
      cursor,
    });
    pages.push(page);
    cursor = page.cursor;
  } while (cursor && pages.length < 1000);
  return { pages, calls };
}

describe('planQuery', () => {
  const indexOf = (query: IndexQuery) => {
    const plan = planQuery(query, 'table');
    return `${plan.index}×${plan.streams.length}`;
  };

  it('answers every filter with a Query on the most selective GSI', () => {
    expect(indexOf({ number: '+1 (555) 010-0' })).toBe('byFrom×2');
    expect(indexOf({ number: '5550100', accountId: 'acme', status: 'failed' })).toBe('byFrom×2');
    expect(indexOf({ status: 'failed' })).toBe('byStatus×1');
    expect(indexOf({ status: 'skipped', accountId: 'acme', provider: 'voipbin' })).toBe('byStatus×1');
    expect(indexOf({ accountId: 'acme' })).toBe('byAccount×1');
    expect(indexOf({ accountId: 'acme', status: 'archived', provider: 'voipbin' })).toBe('byAccount×1');
    expect(indexOf({ provider: 'voipbin' })).toBe(`byProvider×${SHARDS}`);
    expect(indexOf({ status: 'archived' })).toBe(`byTime×${SHARDS}`);
    expect(indexOf({ since: '2026-11-01T00:00:00.000Z' })).toBe(`byTime×${SHARDS}`);
    expect(indexOf({})).toBe(`byTime×${SHARDS}`);
  });

  it('puts the time range in the key condition and everything else in the filter', () => {
    const plan = planQuery(
      {
        number: '+1 555 0100',
        accountId: 'acme',
        since: '2026-11-01T00:00:00.000Z',
        until: '2026-11-02T00:00:00.000Z',
      },
      'table',
    );
    expect(plan.streams.map((stream) => [stream.input.IndexName, stream.partition])).toEqual([
      ['byFrom', '15550100'],
      ['byTo', '15550100'],
    ]);
    const input = plan.streams[1]?.input as QueryCommandInput;
    expect(input).toMatchObject({
      TableName: 'table',
      KeyConditionExpression: '#pk = :pk AND #sortKey BETWEEN :lower AND :upper',
      // Read inside the projected listing: a GSI filter sees only what the GSI projects.
      FilterExpression: '#listing.#accountId = :accountId',
      ExpressionAttributeNames: {
        '#pk': INDEX_PARTITIONS.byTo,
        '#sortKey': 'sortKey',
        '#listing': 'listing',
        '#accountId': 'accountId',
      },
      ExpressionAttributeValues: {
        ':pk': '15550100',
        ':lower': '2026-11-01T00:00:00.000Z#',
        ':upper': '2026-11-02T00:00:00.000Z#',
        ':accountId': 'acme',
      },
    });
    expect(planQuery({ provider: 'bandwidth' }, 't').streams.map((stream) => stream.partition)).toEqual(
      Array.from({ length: SHARDS }, (_, shard) => `bandwidth#${shard}`),
    );
  });

  it('refuses a number without digits', () => {
    expect(() => planQuery({ number: 'abc' }, 't')).toThrow(UsageError);
  });

  it('refuses a range DynamoDB would refuse (lower bound after upper), naming since and until', () => {
    const reversed = { since: '2026-11-02T00:00:00.000Z', until: '2026-11-01T00:00:00.000Z' };
    for (const query of [reversed, { ...reversed, accountId: 'acme' }, { ...reversed, number: '5550100' }]) {
      expect(() => planQuery(query, 't')).toThrow(UsageError);
      expect(() => planQuery(query, 't')).toThrow(
        '"since" (2026-11-02T00:00:00.000Z) must not be after "until" (2026-11-01T00:00:00.000Z)',
      );
    }
    // Equal bounds are a valid (empty: `until` is exclusive) range; so is either bound alone.
    const at = '2026-11-01T00:00:00.000Z';
    const equal = planQuery({ since: at, until: at }, 't');
    expect([equal.lower, equal.upper]).toEqual([`${at}#`, `${at}#`]);
    expect(() => planQuery({ since: '9999-12-31T00:00:00.000Z' }, 't')).not.toThrow();
    expect(() => planQuery({ until: '0000-01-01T00:00:00.000Z' }, 't')).not.toThrow();
  });
});

describe('parseRecordingQuery', () => {
  it('refuses since after until, naming both; equal is an empty range, not an error', () => {
    expect(() => parseRecordingQuery({ since: '2026-11-02', until: '2026-11-01' })).toThrow(
      '"since" (2026-11-02T00:00:00.000Z) must not be after "until" (2026-11-01T00:00:00.000Z)',
    );
    // Compared in UTC, whatever offset each is written with: 10:00+02:00 is 08:00Z, before 09:00Z.
    expect(
      parseRecordingQuery({ since: '2026-11-01T10:00:00+02:00', until: '2026-11-01T09:00:00Z' }),
    ).toMatchObject({ since: '2026-11-01T08:00:00.000Z', until: '2026-11-01T09:00:00.000Z' });
    expect(() =>
      parseRecordingQuery({ since: '2026-11-01T10:00:00Z', until: '2026-11-01T12:00:00+03:00' }),
    ).toThrow(/"since" .* must not be after "until"/);
    expect(parseRecordingQuery({ since: '2026-11-01', until: '2026-11-01' })).toMatchObject({
      since: '2026-11-01T00:00:00.000Z',
      until: '2026-11-01T00:00:00.000Z',
    });
  });

  it('refuses times outside the years 0000-9999, which would not sort as strings in the index', () => {
    expect(() => parseRecordingQuery({ until: '+010000-01-01' })).toThrow(
      /"until" must be in the years 0000 to 9999/,
    );
    expect(() => parseRecordingQuery({ since: '-000001-01-01' })).toThrow(
      /"since" must be in the years 0000 to 9999/,
    );
    // 9999-12-31T23:59 at -01:00 is already year 10000 in UTC.
    expect(() => parseRecordingQuery({ until: '9999-12-31T23:59:00-01:00' })).toThrow(UsageError);
    expect(() => parseRecordingQuery({ since: 'yesterday' })).toThrow(
      '"since" must be an ISO-8601 time or date',
    );
  });

  it('takes a limit only as plain decimal digits from 1 to 1000', () => {
    for (const limit of [
      '0x2',
      '1e2',
      '2.0',
      '2.',
      ' 2',
      '2 ',
      '+2',
      '-1',
      '0',
      '1001',
      '',
      'Infinity',
      '0b1',
    ]) {
      expect(() => parseRecordingQuery({ limit }), JSON.stringify(limit)).toThrow(
        '"limit" must be a whole number from 1 to 1000',
      );
    }
    expect(parseRecordingQuery({ limit: '1' }).limit).toBe(1);
    expect(parseRecordingQuery({ limit: '1000' }).limit).toBe(1000);
    expect(parseRecordingQuery({ limit: '0042' }).limit).toBe(42);
    expect(parseRecordingQuery({}).limit).toBe(100);
  });

  it('knows a recording id by its shape: 32 lowercase hex characters', () => {
    expect(isRecordingId('0123456789abcdef0123456789abcdef')).toBe(true);
    for (const id of [
      '',
      'nope',
      '0123456789ABCDEF0123456789ABCDEF',
      `${'a'.repeat(32)}\n`,
      'a'.repeat(33),
      'a'.repeat(3000),
    ]) {
      expect(isRecordingId(id), id.slice(0, 40)).toBe(false);
    }
  });
});

describe('mergedPage', () => {
  const source = entries(120);
  const expected = (keep: (entry: IndexEntry) => boolean) =>
    source
      .filter(keep)
      .map((entry) => entry.id)
      .sort();

  it.each<[string, IndexQuery, (entry: IndexEntry) => boolean]>([
    [
      'number (from or to, each call once)',
      { number: '15550100', limit: 4 },
      (e) => e.from === '+1 555 0100' || e.to === '15550100',
    ],
    [
      'number and account',
      { number: '15550100', accountId: 'acme', limit: 3 },
      (e) => e.accountId === 'acme' && (e.from === '+1 555 0100' || e.to === '15550100'),
    ],
    ['a rare status', { status: 'failed', limit: 5 }, (e) => e.status === 'failed'],
    ['provider (sharded)', { provider: 'bandwidth', limit: 7 }, (e) => e.provider === 'bandwidth'],
    [
      'account and provider',
      { accountId: 'acme', provider: 'voipbin', limit: 6 },
      (e) => e.accountId === 'acme' && e.provider === 'voipbin',
    ],
    [
      'time range (sharded)',
      { since: '2026-11-01T00:30:00.000Z', until: '2026-11-01T01:10:00.000Z', limit: 9 },
      (e) =>
        (e.startedAt as string) >= '2026-11-01T00:30:00.000Z' &&
        (e.startedAt as string) < '2026-11-01T01:10:00.000Z',
    ],
  ])(
    'pages %s: full pages in time order, never empty with a cursor, never over the limit',
    async (_name, query, keep) => {
      const { pages } = await allPages(source, query);
      const ids = pages.flatMap((page) => page.items.map((item) => item.id));
      expect([...ids].sort()).toEqual(expected(keep));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(
        [...ids].sort((a, b) => {
          const start = (id: string) => source.find((entry) => entry.id === id)?.startedAt as string;
          return start(a).localeCompare(start(b));
        }),
      );
      for (const page of pages) {
        expect(page.items.length).toBeLessThanOrEqual(query.limit as number);
        if (page.cursor) expect(page.items.length).toBe(query.limit);
      }
      // Listings come from the projection: no raw record.
      expect(pages[0]?.items[0]?.raw).toBeUndefined();
      expect(pages[0]?.items[0]?.providerRecordingId).toBeDefined();
    },
  );

  it('pages a number query through the refill loop: never over the limit, never an empty page with a cursor', async () => {
    // Matches are sparse on both sides (a rare status), so a side's chunk is often filtered to nothing.
    const number = (e: IndexEntry) => e.from === '+1 555 0100' || e.to === '15550100';
    for (const limit of [1, 2, 3]) {
      const query: IndexQuery = { number: '15550100', status: 'failed', limit };
      const { pages, calls } = await allPages(source, query);
      const ids = pages.flatMap((page) => page.items.map((item) => item.id));
      expect([...ids].sort()).toEqual(expected((e) => e.status === 'failed' && number(e)));
      expect(new Set(ids).size).toBe(ids.length);
      for (const page of pages) {
        expect(page.items.length).toBeLessThanOrEqual(limit);
        if (page.cursor) expect(page.items.length).toBe(limit);
      }
      // Both sides of the number were read: the from side (byFrom) and the to side (byTo).
      expect(new Set(calls.map((call) => call.IndexName))).toEqual(new Set(['byFrom', 'byTo']));
    }
  });

  it('caps a page by bytes whatever the limit, with a cursor that loses nothing', async () => {
    const wide = source.map((entry) => ({ ...entry, reason: 'r'.repeat(2_000) }));
    const maxBytes = 10_000;
    const { pages } = await allPages(wide, { limit: 1000 }, maxBytes);
    expect(pages.length).toBeGreaterThan(20);
    for (const page of pages) {
      expect(Buffer.byteLength(JSON.stringify(page.items))).toBeLessThanOrEqual(maxBytes);
      expect(page.items.length).toBeGreaterThan(0);
    }
    expect(pages.flatMap((page) => page.items.map((item) => item.id)).sort()).toEqual(expected(() => true));
    // With the default cap, 1,000 listings of this size fit well under Lambda's 6 MB.
    const whole = await allPages(wide, { limit: 1000 });
    expect(Buffer.byteLength(JSON.stringify(whole.pages[0]?.items))).toBeLessThan(DEFAULT_MAX_PAGE_BYTES);
  });

  it('refuses a tampered cursor, or one issued for other filters, as a usage error (400)', async () => {
    const { fetch } = memoryQuery(source);
    const first = await mergedPage(planQuery({ accountId: 'acme' }, 't'), fetch, { limit: 2, maxBytes: 1e6 });
    const cursor = first.cursor as string;
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as {
      s: Record<string, string>[];
    };
    const edit = (change: (value: typeof decoded) => void) => {
      const copy = structuredClone(decoded);
      change(copy);
      return Buffer.from(JSON.stringify(copy)).toString('base64url');
    };
    const page = (query: IndexQuery, at: string) =>
      mergedPage(planQuery(query, 't'), fetch, { limit: 2, maxBytes: 1e6, cursor: at });
    await expect(page({ accountId: 'acme' }, 'not-base64-json')).rejects.toThrow(UsageError);
    await expect(page({ accountId: 'other' }, cursor)).rejects.toThrow(/other filters/);
    for (const tampered of [
      edit((value) => {
        (value.s[0] as Record<string, string>).accountId = 'other';
      }),
      edit((value) => {
        // Outside the query's key range: DynamoDB would refuse it with a ValidationException (a 500).
        (value.s[0] as Record<string, string>).sortKey = '0';
      }),
      edit((value) => {
        (value.s[0] as Record<string, unknown>).extra = 'x';
      }),
      edit((value) => {
        value.s.push({});
      }),
      // Keys DynamoDB refuses in an ExclusiveStartKey (a ValidationException, a 500): an empty
      // string, or one over its key-size limits (2,048 bytes for a partition key, 1,024 for a sort key).
      edit((value) => {
        (value.s[0] as Record<string, string>).id = '';
      }),
      edit((value) => {
        (value.s[0] as Record<string, string>).id = 'x'.repeat(2049);
      }),
      edit((value) => {
        const key = value.s[0] as Record<string, string>;
        key.id = 'é'.repeat(1025); // 2,050 bytes in 1,025 characters
        key.sortKey = `${key.sortKey?.split('#')[0]}#${key.id}`;
      }),
      edit((value) => {
        const key = value.s[0] as Record<string, string>;
        key.id = 'x'.repeat(1100);
        key.sortKey = `${key.sortKey?.split('#')[0]}#${key.id}`;
      }),
      edit((value) => {
        // In the range, but not the position of any item: an item's sortKey ends with its id.
        (value.s[0] as Record<string, string>).sortKey = '2026-11-01T00:00:00.000Z#someone-else';
      }),
      edit((value) => {
        (value.s[0] as Record<string, unknown>).id = 7;
      }),
    ]) {
      await expect(page({ accountId: 'acme' }, tampered)).rejects.toThrow(UsageError);
    }
    expect((await page({ accountId: 'acme' }, cursor)).items).toHaveLength(2);
  });
});
