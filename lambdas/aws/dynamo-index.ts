/**
 * The recording index on DynamoDB. One table:
 * - recording items, keyed by `id`, with `sortKey` = `{startedAt}#{id}` for time-ordered queries
 *   on the GSIs `byAccount` (accountId), `byProvider` (provider), `byFrom` / `byTo` (digits of the
 *   phone numbers), so filtered listings are Queries, never Scans;
 * - cursor items (`cursor#{accountId}`), invisible to the GSIs.
 * No transactions (the local DynamoDB has none): every write is a single conditional item write.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { UsageError } from '../core/errors.ts';
import type { ComplianceIndex, EntryStatus, IndexEntry, IndexPage, IndexQuery } from '../core/ports.ts';

export const INDEX_NAMES = {
  byAccount: 'byAccount',
  byProvider: 'byProvider',
  byFrom: 'byFrom',
  byTo: 'byTo',
} as const;

const NO_DATE = '0000-00-00T00:00:00.000Z';
const END_OF_TIME = '9999-12-31T23:59:59.999Z';

type StoredItem = IndexEntry & {
  entity: 'recording';
  sortKey: string;
  fromNumber?: string;
  toNumber?: string;
};

/** Digits only, so `+1 (555) 231-1778` and `15552311778` find the same calls. */
export function normalizeNumber(number: string): string {
  return number.replace(/\D/g, '');
}

export class DynamoRecordingIndex implements ComplianceIndex {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
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
    const item = toItem(entry);
    // Archived and erased entries are final: no workflow outcome overwrites them.
    const notArchived = {
      ConditionExpression: 'attribute_not_exists(id) OR (#status <> :archived AND #status <> :erased)',
      ExpressionAttributeNames: { '#status': 'status' },
    };
    try {
      if (entry.status === 'failed') {
        // An update, so the failure count survives: the next sweep retries under a new name.
        const { id, failures: _ignored, ...fields } = item;
        const names: Record<string, string> = { '#status': 'status' };
        const values: Record<string, unknown> = { ':archived': 'archived', ':erased': 'erased', ':one': 1 };
        const sets = Object.entries(fields)
          .filter(([, value]) => value !== undefined)
          .map(([field, value], position) => {
            names[`#f${position}`] = field;
            values[`:v${position}`] = value;
            return `#f${position} = :v${position}`;
          });
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { id },
            UpdateExpression: `SET ${sets.join(', ')} ADD failures :one`,
            ConditionExpression: notArchived.ConditionExpression,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
      } else {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ...notArchived,
            ExpressionAttributeValues: { ':archived': 'archived', ':erased': 'erased' },
          }),
        );
      }
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

  async patch(
    id: string,
    fields: Partial<IndexEntry>,
    options: { remove?: (keyof IndexEntry)[]; expectStatus?: EntryStatus } = {},
  ): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = (options.remove ?? []).map((field, position) => {
      names[`#r${position}`] = field;
      return `#r${position}`;
    });
    const stored: Record<string, unknown> = { ...fields };
    // The phone-number GSI keys follow the numbers they are made of.
    if (options.remove?.includes('from')) removes.push('fromNumber');
    if (options.remove?.includes('to')) removes.push('toNumber');
    if (fields.status !== undefined) {
      // The sparse `byStatus` GSI holds every entry that is not archived.
      if (fields.status === 'archived') removes.push('openStatus');
      else stored.openStatus = fields.status;
    }
    for (const field of ['fromNumber', 'toNumber', 'openStatus']) {
      if (removes.includes(field)) names[`#${field}`] = field;
    }
    Object.entries(stored)
      .filter(([, value]) => value !== undefined)
      .forEach(([field, value], position) => {
        names[`#s${position}`] = field;
        values[`:s${position}`] = value;
        sets.push(`#s${position} = :s${position}`);
      });
    const removeNames = removes.map((field) => (field.startsWith('#') ? field : `#${field}`));
    names['#id'] = 'id';
    let condition = 'attribute_exists(#id)';
    if (options.expectStatus) {
      names['#status'] = 'status';
      values[':expected'] = options.expectStatus;
      condition += ' AND #status = :expected';
    }
    const update = [
      sets.length ? `SET ${sets.join(', ')}` : '',
      removeNames.length ? `REMOVE ${removeNames.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async query(query: IndexQuery): Promise<IndexPage> {
    const limit = query.limit ?? 100;
    const lower = `${query.since ?? NO_DATE}#`;
    const upper = `${query.until ?? END_OF_TIME}#`;
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const addFilter = (field: keyof StoredItem, value: unknown) => {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      filters.push(`#${field} = :${field}`);
    };

    if (query.number) {
      return this.queryByNumber(query, normalizeNumber(query.number), limit);
    }
    if (query.status) addFilter('status', query.status);
    let partition: { index: string; field: string; value: string } | undefined;
    if (query.accountId) {
      partition = { index: INDEX_NAMES.byAccount, field: 'accountId', value: query.accountId };
      if (query.provider) addFilter('provider', query.provider);
    } else if (query.provider) {
      partition = { index: INDEX_NAMES.byProvider, field: 'provider', value: query.provider };
    }
    if (!partition) {
      // No key to go by: a listing of everything is a Scan by nature.
      names['#entity'] = 'entity';
      values[':entity'] = 'recording';
      filters.push('#entity = :entity');
      if (query.since || query.until) {
        names['#sortKey'] = 'sortKey';
        values[':lower'] = lower;
        values[':upper'] = upper;
        filters.push('#sortKey BETWEEN :lower AND :upper');
      }
      return this.page(
        (startKey) =>
          this.db.send(
            new ScanCommand({
              TableName: this.tableName,
              FilterExpression: filters.join(' AND '),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
              ExclusiveStartKey: startKey,
              Limit: limit,
            }),
          ),
        query.cursor,
        limit,
      );
    }
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: partition.index,
      KeyConditionExpression: '#pk = :pk AND #sortKey BETWEEN :lower AND :upper',
      ExpressionAttributeNames: { ...names, '#pk': partition.field, '#sortKey': 'sortKey' },
      ExpressionAttributeValues: { ...values, ':pk': partition.value, ':lower': lower, ':upper': upper },
      FilterExpression: filters.length ? filters.join(' AND ') : undefined,
      Limit: limit,
    };
    return this.page(
      (startKey) => this.db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey })),
      query.cursor,
      limit,
    );
  }

  async getCursor(accountId: string): Promise<string | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { id: `cursor#${accountId}` }, ConsistentRead: true }),
    );
    return result.Item?.cursor as string | undefined;
  }

  async setCursor(accountId: string, cursor: string): Promise<void> {
    // Never move a cursor backwards, even if two sweeps of one account overlap.
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { id: `cursor#${accountId}`, entity: 'cursor', cursor, updatedAt: new Date().toISOString() },
          ConditionExpression: 'attribute_not_exists(id) OR #cursor < :cursor',
          ExpressionAttributeNames: { '#cursor': 'cursor' },
          ExpressionAttributeValues: { ':cursor': cursor },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  /**
   * A call matches a number if it is its `from` or its `to`: two GSI queries merged in time order.
   * The cursor keeps each side's position.
   */
  private async queryByNumber(query: IndexQuery, number: string, limit: number): Promise<IndexPage> {
    const positions = decodeCursor(query.cursor) as
      | { from?: unknown; to?: unknown; done?: string[] }
      | undefined;
    const sides = [
      { name: 'from', index: INDEX_NAMES.byFrom, field: 'fromNumber' },
      { name: 'to', index: INDEX_NAMES.byTo, field: 'toNumber' },
    ] as const;
    const items = new Map<string, IndexEntry>();
    const next: Record<string, unknown> = {};
    const done: string[] = [...(positions?.done ?? [])];
    for (const side of sides) {
      if (done.includes(side.name)) continue;
      const names: Record<string, string> = { '#pk': side.field, '#sortKey': 'sortKey' };
      const values: Record<string, unknown> = {
        ':pk': number,
        ':lower': `${query.since ?? NO_DATE}#`,
        ':upper': `${query.until ?? END_OF_TIME}#`,
      };
      const filters: string[] = [];
      for (const field of ['accountId', 'provider', 'status'] as const) {
        if (query[field]) {
          names[`#${field}`] = field;
          values[`:${field}`] = query[field];
          filters.push(`#${field} = :${field}`);
        }
      }
      const result = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: side.index,
          KeyConditionExpression: '#pk = :pk AND #sortKey BETWEEN :lower AND :upper',
          FilterExpression: filters.length ? filters.join(' AND ') : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ExclusiveStartKey: positions?.[side.name] as Record<string, unknown> | undefined,
          Limit: limit,
        }),
      );
      for (const item of result.Items ?? []) items.set(String(item.id), toEntry(item));
      if (result.LastEvaluatedKey) next[side.name] = result.LastEvaluatedKey;
      else done.push(side.name);
    }
    const sorted = [...items.values()].sort(byStartThenId);
    const finished = done.length === sides.length;
    return { items: sorted, cursor: finished ? undefined : encodeCursor({ ...next, done }) };
  }

  private async page(
    fetch: (
      startKey: Record<string, unknown> | undefined,
    ) => Promise<{ Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }>,
    cursor: string | undefined,
    limit: number,
  ): Promise<IndexPage> {
    // A filtered page may come back short or empty: keep reading until it is full or done.
    const items: IndexEntry[] = [];
    let startKey = decodeCursor(cursor) as Record<string, unknown> | undefined;
    do {
      const result = await fetch(startKey);
      for (const item of result.Items ?? []) items.push(toEntry(item));
      startKey = result.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return { items: items.sort(byStartThenId), cursor: startKey ? encodeCursor(startKey) : undefined };
  }
}

function toItem(entry: IndexEntry): StoredItem {
  return {
    ...entry,
    entity: 'recording',
    sortKey: `${entry.startedAt ?? NO_DATE}#${entry.id}`,
    fromNumber: entry.from ? normalizeNumber(entry.from) || undefined : undefined,
    toNumber: entry.to ? normalizeNumber(entry.to) || undefined : undefined,
  };
}

function toEntry(item: Record<string, unknown>): IndexEntry {
  const {
    entity: _entity,
    sortKey: _sortKey,
    fromNumber: _from,
    toNumber: _to,
    openStatus: _openStatus,
    ...entry
  } = item;
  return entry as unknown as IndexEntry;
}

function byStartThenId(a: IndexEntry, b: IndexEntry): number {
  return (a.startedAt ?? '').localeCompare(b.startedAt ?? '') || a.id.localeCompare(b.id);
}

function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): unknown {
  if (!cursor) return undefined;
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new UsageError('"cursor" is not one this API issued');
  }
}
