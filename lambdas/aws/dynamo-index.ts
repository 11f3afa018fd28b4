/**
 * The recording index on DynamoDB. One table:
 * - recording items, keyed by `id`, with `sortKey` = `{startedAt}#{id}` for time-ordered queries
 *   on the GSIs of INDEX_PARTITIONS, so every listing is a Query, never a Scan; the sparse
 *   `byStatus` (`openStatus`, only while an entry is not archived) lists failed entries of any age,
 *   and `byArchived` (sorted by `archivedAt`) a day's archives, for its manifest;
 * - cursor items (`cursor#{accountId}`) and reconcile's read-back progress (`verify#{accountId}`),
 *   invisible to the GSIs.
 * The GSIs project the `listing` map (the entry without `raw`) and the `failures` counter, not the
 * provider's raw record: a listing reads and writes a fraction of the item, and `get` returns it whole.
 * No transactions (the local DynamoDB has none): every write is a single conditional item write.
 */

import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { UsageError } from '../core/errors.ts';
import { listingOrder, UNDATED } from '../core/ids.ts';
import { INDEX_NAMES, INDEX_PARTITIONS, INDEX_SORT_KEYS, type IndexName } from '../core/names.ts';
import type {
  ComplianceIndex,
  EntryStatus,
  IndexEntry,
  IndexPage,
  IndexQuery,
  VerificationProgress,
  VerificationProgressStore,
} from '../core/ports.ts';
import { CALL_FIELDS } from '../core/recording.ts';
import { documentClient } from './document-client.ts';
import { ExpressionBuilder, updateExpression } from './dynamo-expressions.ts';

// The index's names live with the stack's (core/names.ts); re-exported for the index's own callers.
export { INDEX_NAMES, INDEX_PARTITIONS, type IndexName, PROJECTED_ATTRIBUTES } from '../core/names.ts';

export const SHARDS = 8;

/**
 * Responses stay far below Lambda's 6 MB and API Gateway's 10 MB whatever `limit` says (the
 * JSON body is escaped once more inside Lambda's response): a page ends early, with a cursor.
 */
export const DEFAULT_MAX_PAGE_BYTES = 2 * 1024 * 1024;

/**
 * Fields that belong to one outcome: a write that does not carry them removes them, so an
 * archived entry keeps no stale failure reason and a failed one no stale `openStatus`.
 */
const OUTCOME_FIELDS = [
  'reason',
  'errorName',
  'openStatus',
  'bucket',
  'key',
  'bytes',
  'sha256',
  'contentType',
  'container',
  'archivedAt',
] as const;

/** What the provider said of the call: no outcome changes it. */
const DESCRIPTION_FIELDS = [
  'callId',
  ...CALL_FIELDS,
  'channels',
  'providerStatus',
  'readiness',
] as const satisfies readonly (keyof IndexEntry)[];

const END_OF_TIME = '9999-12-31T23:59:59.999Z';

type StoredItem = Omit<IndexEntry, 'failures'> & {
  entity: 'recording';
  sortKey: string;
  fromNumber?: string;
  toNumber?: string;
  providerShard: string;
  timeShard: string;
  openStatus?: string;
  listing: Omit<IndexEntry, 'raw' | 'failures'>;
  failures?: number;
};

/** Digits only, so `+1 (555) 231-1778` and `15552311778` find the same calls. */
export function normalizeNumber(number: string): string {
  return number.replace(/\D/g, '');
}

export class DynamoRecordingIndex implements ComplianceIndex, VerificationProgressStore {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.db = documentClient(client);
  }

  async get(id: string): Promise<IndexEntry | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    return result.Item ? toEntry(result.Item) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, IndexEntry>> {
    const found = new Map<string, IndexEntry>();
    const unique = [...new Set(ids)];
    for (let start = 0; start < unique.length; start += 100) {
      let keys: Record<string, unknown>[] | undefined = unique
        .slice(start, start + 100)
        .map((id) => ({ id }));
      // BatchGet may leave keys unprocessed under load: ask again for those.
      for (let round = 0; keys && keys.length > 0 && round < 10; round += 1) {
        const result: BatchGetCommandOutput = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of result.Responses?.[this.tableName] ?? [])
          found.set(String(item.id), toEntry(item));
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys;
        if (keys?.length) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      }
    }
    return found;
  }

  async put(entry: IndexEntry): Promise<boolean> {
    // One UpdateItem for every outcome, never a Put: counters (failures, round) survive it.
    const { id, failures: _counted, ...fields } = toItem(await this.described(entry));
    const expression = new ExpressionBuilder();
    const set = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([field, value]) => `${expression.name(field)} = ${expression.value(value)}`);
    const remove = OUTCOME_FIELDS.filter((field) => fields[field] === undefined).map((field) =>
      expression.name(field),
    );
    const add = entry.status === 'failed' ? [`failures ${expression.value(1)}`] : [];
    // Archived and erased entries are final: no workflow outcome overwrites them.
    const status = expression.name('status');
    let condition = `(attribute_not_exists(id) OR (${status} <> ${expression.value('archived')} AND ${status} <> ${expression.value('erased')}))`;
    if (entry.status !== 'archived' && entry.round !== undefined) {
      // A later round's outcome wins; the same round writing the same status again (a retried
      // task, a duplicate event) changes nothing, so a failure is counted once per round.
      const round = expression.name('round');
      const value = expression.value(entry.round);
      condition += ` AND (attribute_not_exists(${round}) OR ${round} < ${value} OR (${round} = ${value} AND ${status} <> ${expression.value(entry.status)}))`;
    }
    return this.conditionalUpdate(id, updateExpression({ set, remove, add }), condition, expression);
  }

  /**
   * An outcome written without the recording (a timed-out execution, a failure before Check)
   * keeps what an earlier round learnt of the call: the update leaves those attributes as they
   * are, and the `listing` map and `sortKey` it sets whole must say the same.
   */
  private async described(entry: IndexEntry): Promise<IndexEntry> {
    if (entry.startedAt !== undefined) return entry;
    const stored = await this.get(entry.id);
    if (!stored) return entry;
    const known = Object.fromEntries(
      DESCRIPTION_FIELDS.filter((field) => entry[field] === undefined && stored[field] !== undefined).map(
        (field) => [field, stored[field]],
      ),
    );
    return { ...entry, ...known };
  }

  async *archivedOn(day: string): AsyncGenerator<IndexEntry> {
    for (let shard = 0; shard < SHARDS; shard += 1) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEX_NAMES.byArchived,
            KeyConditionExpression: '#pk = :shard AND begins_with(#at, :day)',
            ExpressionAttributeNames: {
              '#pk': INDEX_PARTITIONS.byArchived,
              '#at': INDEX_SORT_KEYS.byArchived,
            },
            ExpressionAttributeValues: { ':shard': String(shard), ':day': day },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) yield toEntry(item);
        start = page.LastEvaluatedKey;
      } while (start);
    }
  }

  async listFailed(query: { accountId?: string; cursor?: string; limit?: number }): Promise<IndexPage> {
    // The planner sends a non-archived status to the sparse byStatus GSI, the account as a filter.
    return this.query({
      status: 'failed',
      accountId: query.accountId,
      cursor: query.cursor,
      limit: query.limit,
    });
  }

  async patch(
    id: string,
    fields: Partial<IndexEntry>,
    options: { remove?: (keyof IndexEntry)[]; expectStatus?: EntryStatus } = {},
  ): Promise<boolean> {
    const remove = options.remove ?? [];
    const expression = new ExpressionBuilder();
    const sets: string[] = [];
    const removes: string[] = [];
    const set = (path: string, value: unknown) => sets.push(`${path} = ${expression.value(value)}`);
    // The GSIs answer listings from the projected `listing` map: it changes with the fields.
    const inListing = (field: string) => `${expression.name('listing')}.${expression.name(field)}`;
    for (const [field, value] of Object.entries(fields)) {
      if (value === undefined || field === 'id') continue;
      set(expression.name(field), value);
      if (!UNLISTED.has(field)) set(inListing(field), value);
    }
    for (const field of remove) {
      removes.push(expression.name(field));
      if (!UNLISTED.has(field)) removes.push(inListing(field));
    }
    for (const [attribute, value] of derivedKeys(id, fields, remove)) {
      if (value === undefined) removes.push(expression.name(attribute));
      else set(expression.name(attribute), value);
    }
    const update = updateExpression({ set: sets, remove: removes });
    if (!update) return (await this.get(id)) !== undefined;
    let condition = `attribute_exists(${expression.name('id')})`;
    if (options.expectStatus)
      condition += ` AND ${expression.name('status')} = ${expression.value(options.expectStatus)}`;
    return this.conditionalUpdate(id, update, condition, expression);
  }

  /** One UpdateItem under a condition: false when the condition refused it. */
  private async conditionalUpdate(
    id: string,
    update: string,
    condition: string,
    expression: ExpressionBuilder,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: update,
          ConditionExpression: condition,
          ...expression.attributes(),
        }),
      );
      return true;
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === 'ConditionalCheckFailedException'
      ) {
        return false;
      }
      throw error;
    }
  }

  async query(query: IndexQuery): Promise<IndexPage> {
    const plan = planQuery(query, this.tableName);
    return mergedPage(plan, (input) => this.db.send(new QueryCommand(input)), {
      limit: query.limit ?? 100,
      maxBytes: query.maxBytes ?? DEFAULT_MAX_PAGE_BYTES,
      cursor: query.cursor,
    });
  }

  async getCursor(accountId: string): Promise<string | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { id: `cursor#${accountId}` }, ConsistentRead: true }),
    );
    return result.Item?.cursor as string | undefined;
  }

  async setCursor(accountId: string, cursor: string): Promise<void> {
    // Never move a cursor backwards, even if two sweeps of one account overlap.
    const expression = new ExpressionBuilder();
    const condition = `attribute_not_exists(id) OR ${expression.name('cursor')} < ${expression.value(cursor, 'cursor')}`;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { id: `cursor#${accountId}`, entity: 'cursor', cursor, updatedAt: new Date().toISOString() },
          ConditionExpression: condition,
          ...expression.attributes(),
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  async getVerification(accountId: string): Promise<VerificationProgress | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { id: `verify#${accountId}` }, ConsistentRead: true }),
    );
    return result.Item?.progress as VerificationProgress | undefined;
  }

  async setVerification(accountId: string, progress: VerificationProgress): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { id: `verify#${accountId}`, entity: 'verify', progress, updatedAt: new Date().toISOString() },
      }),
    );
  }
}

/** Which of SHARDS partitions an entry lives in: stable, and even over ids. */
export function shardOf(id: string): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % SHARDS;
}

export function toItem(entry: IndexEntry): StoredItem {
  const { raw: _raw, failures, ...listing } = entry;
  const shard = shardOf(entry.id);
  return {
    ...entry,
    entity: 'recording',
    sortKey: listingOrder(entry),
    fromNumber: entry.from ? normalizeNumber(entry.from) || undefined : undefined,
    toNumber: entry.to ? normalizeNumber(entry.to) || undefined : undefined,
    providerShard: `${entry.provider}#${shard}`,
    timeShard: String(shard),
    openStatus: entry.status === 'archived' ? undefined : entry.status,
    listing,
    failures,
  };
}

/** Entry fields kept out of the `listing` map that the GSIs project. */
const UNLISTED = new Set(['raw', 'failures']);

/**
 * The GSI keys a patch changes, as `toItem` derives them (undefined: removed): numbers follow
 * `from`/`to`, the sparse `openStatus` the status, the provider shard the provider, `sortKey`
 * the start time. `timeShard` depends on the id alone.
 */
function derivedKeys(
  id: string,
  fields: Partial<IndexEntry>,
  remove: readonly (keyof IndexEntry)[],
): [string, string | undefined][] {
  const keys: [string, string | undefined][] = [];
  const number = (value: string | undefined) => (value ? normalizeNumber(value) || undefined : undefined);
  if (fields.from !== undefined || remove.includes('from')) keys.push(['fromNumber', number(fields.from)]);
  if (fields.to !== undefined || remove.includes('to')) keys.push(['toNumber', number(fields.to)]);
  if (fields.status !== undefined)
    keys.push(['openStatus', fields.status === 'archived' ? undefined : fields.status]);
  if (fields.provider !== undefined) keys.push(['providerShard', `${fields.provider}#${shardOf(id)}`]);
  if (fields.startedAt !== undefined || remove.includes('startedAt'))
    keys.push(['sortKey', listingOrder({ startedAt: fields.startedAt, id })]);
  return keys;
}

/** Attributes of the item that are not fields of the entry (keys derived for the GSIs). */
const INTERNAL = new Set([
  'entity',
  'sortKey',
  'listing',
  'fromNumber',
  'toNumber',
  'providerShard',
  'timeShard',
  'openStatus',
]);

/** An item as the current version writes it (GSI attributes derived again); cursor items as they are. */
export function reindexItem(item: Record<string, unknown>): Record<string, unknown> {
  return item.entity === 'recording' ? (toItem(toEntry(item)) as unknown as Record<string, unknown>) : item;
}

/** A whole item, or a GSI's projection of one (its `listing` and `failures`), as an entry. */
function toEntry(item: Record<string, unknown>): IndexEntry {
  const top = Object.fromEntries(Object.entries(item).filter(([name]) => !INTERNAL.has(name)));
  // Top-level attributes win: `failures` is counted there by updates, not in the listing.
  return { ...(item.listing as object | undefined), ...top } as unknown as IndexEntry;
}

/** A Query's key condition (a partition and a sort-key range) and its filter: equality on listed fields. */
export function buildExpressions(
  key: { partition: [string, string]; lower: string; upper: string },
  filters: Record<string, string | undefined>,
): Pick<
  QueryCommandInput,
  'KeyConditionExpression' | 'FilterExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
> {
  const expression = new ExpressionBuilder();
  // `#pk` by that name: the page loop and the cursor read the partition attribute from it.
  const partition = `${expression.name(key.partition[0], '#pk')} = ${expression.value(key.partition[1], 'pk')}`;
  const range = `${expression.name('sortKey')} BETWEEN ${expression.value(key.lower, 'lower')} AND ${expression.value(key.upper, 'upper')}`;
  const conditions = Object.entries(filters).flatMap(([field, value]) =>
    // A GSI filter sees only what it projects: the fields are read inside `listing`.
    value === undefined
      ? []
      : [`${expression.name('listing')}.${expression.name(field)} = ${expression.value(value, field)}`],
  );
  return {
    KeyConditionExpression: `${partition} AND ${range}`,
    FilterExpression: conditions.length ? conditions.join(' AND ') : undefined,
    ...expression.attributes(),
  };
}

export interface QueryPlan {
  index: IndexName;
  /** One Query per partition (a number's two sides, or the shards), merged in `sortKey` order. */
  streams: { partition: string; input: QueryCommandInput }[];
  lower: string;
  upper: string;
  /** Identifies the query a cursor belongs to. */
  fingerprint: string;
}

/**
 * Which GSI answers a query, and the Query inputs (without Limit and ExclusiveStartKey). The most
 * selective key wins: a number; then a status other than archived (the sparse index); then the
 * account; then the provider; anything else is a time range over every entry. Whatever is not the
 * key is a filter.
 */
export function planQuery(query: IndexQuery, tableName: string): QueryPlan {
  const lower = `${query.since ?? UNDATED}#`;
  const upper = `${query.until ?? END_OF_TIME}#`;
  // DynamoDB refuses `BETWEEN lower AND upper` with lower > upper (a ValidationException, a 500).
  if (lower > upper) {
    throw new UsageError(`"since" (${query.since}) must not be after "until" (${query.until})`);
  }
  const shards = (prefix: string) => Array.from({ length: SHARDS }, (_, shard) => `${prefix}${shard}`);
  const { accountId, provider, status } = query;
  let sides: { index: IndexName; partition: string }[];
  let filters: Record<string, string | undefined>;
  const number = query.number === undefined ? undefined : normalizeNumber(query.number);
  if (number !== undefined) {
    if (!number) throw new UsageError('"number" must contain digits');
    sides = [
      { index: INDEX_NAMES.byFrom, partition: number },
      { index: INDEX_NAMES.byTo, partition: number },
    ];
    filters = { accountId, provider, status };
  } else if (status !== undefined && status !== 'archived') {
    sides = [{ index: INDEX_NAMES.byStatus, partition: status }];
    filters = { accountId, provider };
  } else if (accountId !== undefined) {
    sides = [{ index: INDEX_NAMES.byAccount, partition: accountId }];
    filters = { provider, status };
  } else if (provider !== undefined) {
    sides = shards(`${provider}#`).map((partition) => ({ index: INDEX_NAMES.byProvider, partition }));
    filters = { status };
  } else {
    sides = shards('').map((partition) => ({ index: INDEX_NAMES.byTime, partition }));
    filters = { status };
  }
  const streams = sides.map((side) => ({
    partition: side.partition,
    input: {
      TableName: tableName,
      IndexName: side.index,
      ...buildExpressions(
        { partition: [INDEX_PARTITIONS[side.index], side.partition], lower, upper },
        filters,
      ),
    },
  }));
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([tableName, sides, filters, lower, upper]))
    .digest('base64url')
    .slice(0, 16);
  return { index: (sides[0] as { index: IndexName }).index, streams, lower, upper, fingerprint };
}

type Item = Record<string, unknown>;
type Key = Record<string, string>;
type QueryFetch = (input: QueryCommandInput) => Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>;

/** Where each stream stands between pages: not started, after a key, or exhausted. */
type Position = 'start' | 'done' | Key;

interface Stream {
  input: QueryCommandInput;
  partitionAttribute: string;
  buffer: Item[];
  /** Where the next Query of this stream starts; undefined once it has read everything. */
  next: Key | undefined;
  started: boolean;
  /** What the cursor says for this stream: after the last item taken, or after what was read. */
  position: Position;
}

/**
 * One page of a plan: its streams read a chunk at a time (a filtered chunk may come back short or
 * empty, so a stream is refilled until it yields or ends) and merged by `sortKey`, until `limit`
 * entries or `maxBytes` of them; the cursor records each stream's position. An entry two streams
 * hold (a call from and to the same number) is taken once.
 */
export async function mergedPage(
  plan: QueryPlan,
  fetch: QueryFetch,
  options: { limit: number; maxBytes: number; cursor?: string },
): Promise<IndexPage> {
  const positions = readCursor(options.cursor, plan);
  const chunk = Math.min(options.limit, Math.ceil(options.limit / plan.streams.length) + 4);
  const streams: Stream[] = plan.streams.map((stream, position) => {
    const at = positions?.[position] ?? 'start';
    return {
      input: stream.input,
      partitionAttribute: (stream.input.ExpressionAttributeNames as Record<string, string>)['#pk'] as string,
      buffer: [],
      next: typeof at === 'object' ? at : undefined,
      started: at !== 'start',
      position: at,
    };
  });
  const more = (stream: Stream) => !stream.started || stream.next !== undefined;
  const refill = async (stream: Stream) => {
    while (stream.buffer.length === 0 && more(stream)) {
      const result = await fetch({ ...stream.input, ExclusiveStartKey: stream.next, Limit: chunk });
      stream.started = true;
      stream.buffer = result.Items ?? [];
      stream.next = result.LastEvaluatedKey as Key | undefined;
      // Everything read so far was filtered out or taken: the cursor may skip past it.
      if (stream.buffer.length === 0) stream.position = stream.next ?? 'done';
    }
  };

  const items: IndexEntry[] = [];
  let bytes = 2;
  while (items.length < options.limit) {
    await Promise.all(streams.filter((stream) => stream.buffer.length === 0).map(refill));
    const heads = streams.filter((stream) => stream.buffer.length > 0);
    if (heads.length === 0) break;
    const first = heads.reduce((best, stream) =>
      String(stream.buffer[0]?.sortKey) < String(best.buffer[0]?.sortKey) ? stream : best,
    );
    const item = first.buffer[0] as Item;
    const entry = toEntry(item);
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (items.length > 0 && bytes + size > options.maxBytes) break;
    bytes += size;
    items.push(entry);
    for (const stream of heads) {
      if (stream.buffer[0]?.sortKey !== item.sortKey) continue;
      const taken = stream.buffer.shift() as Item;
      stream.position =
        stream.buffer.length === 0 && !stream.next
          ? 'done'
          : {
              id: String(taken.id),
              sortKey: String(taken.sortKey),
              [stream.partitionAttribute]: String(taken[stream.partitionAttribute]),
            };
    }
  }
  const finished = streams.every((stream) => stream.position === 'done');
  return {
    items,
    cursor: finished
      ? undefined
      : encodeCursor({ v: 1, q: plan.fingerprint, s: streams.map((stream) => stream.position) }),
  };
}

function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** DynamoDB's limits on a key attribute's value: a partition key's, and a sort key's. */
const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;

/** A string DynamoDB accepts as a key attribute's value: not empty, and at most `maxBytes` of UTF-8. */
function keyString(value: unknown, maxBytes: number): value is string {
  return typeof value === 'string' && value !== '' && Buffer.byteLength(value) <= maxBytes;
}

/**
 * Each stream's position from a cursor this plan issued. Anything else (edited, cut, or from
 * another query) is a UsageError (400), never a Query DynamoDB refuses.
 */
function readCursor(cursor: string | undefined, plan: QueryPlan): Position[] | undefined {
  if (!cursor) return undefined;
  const refuse = (why: string) =>
    new UsageError(`"cursor" is not one this API issued for this query (${why})`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse('unreadable');
  }
  const { v, q, s } = (value ?? {}) as { v?: unknown; q?: unknown; s?: unknown };
  if (v !== 1 || !Array.isArray(s) || s.length !== plan.streams.length) throw refuse('unreadable');
  if (q !== plan.fingerprint) throw refuse('it belongs to other filters');
  return s.map((position: unknown, index) => {
    if (position === 'start' || position === 'done') return position;
    const stream = plan.streams[index] as QueryPlan['streams'][number];
    const attribute = (stream.input.ExpressionAttributeNames as Record<string, string>)['#pk'] as string;
    const key = position as Record<string, unknown> | null;
    const names = key && typeof key === 'object' ? Object.keys(key).sort() : [];
    // An ExclusiveStartKey DynamoDB takes: the item's own keys, as an item of this stream has them
    // (`sortKey` is `{startedAt}#{id}`), inside the query's range and DynamoDB's key-size limits.
    const valid =
      key !== null &&
      names.join() === ['id', attribute, 'sortKey'].sort().join() &&
      keyString(key.id, MAX_PARTITION_KEY_BYTES) &&
      key[attribute] === stream.partition &&
      keyString(key.sortKey, MAX_SORT_KEY_BYTES) &&
      key.sortKey.endsWith(`#${key.id}`) &&
      key.sortKey >= plan.lower &&
      key.sortKey <= plan.upper;
    if (!valid) throw refuse('unreadable');
    return key as Key;
  });
}
