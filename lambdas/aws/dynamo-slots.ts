/**
 * Provider slots in the index table: one item per account (`slots#{accountId}`, invisible to the
 * GSIs), holding slot `i` as `s{i}` = lease expiry (epoch ms) and `h{i}` = its holder. Taking a
 * slot is one conditional UpdateItem (free or expired), so Lambdas anywhere share the limit
 * without transactions; a holder renews its lease while it works and a dead one's lease lapses.
 * After a 429 the item keeps a reduced `limit` until `reducedUntil`.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ProviderBusyError } from '../core/errors.ts';
import type { ProviderSlots, SlotLease } from '../core/ports.ts';
import { documentClient } from './document-client.ts';

export interface DynamoProviderSlotsOptions {
  /** How long a lease lives without renewal. Default 90 s. */
  leaseMs?: number;
  /** How long an account stays slowed down after a 429 (or its Retry-After, if longer). Default 60 s. */
  slowDownMs?: number;
  /**
   * How long `acquire` waits in-process for a slot before ProviderBusyError hands the wait to the
   * workflow's backoff. Short waits are the common case in a backlog. Default 10 s.
   */
  waitMs?: number;
  now?: () => number;
}

/** The item key of an account's slots. */
export const slotsKey = (accountId: string) => `slots#${accountId}`;

interface SlotsItem {
  limit?: number;
  reducedUntil?: number;
  [slot: string]: unknown;
}

export class DynamoProviderSlots implements ProviderSlots {
  private readonly db: DynamoDBDocumentClient;
  private readonly leaseMs: number;
  private readonly slowDownMs: number;
  private readonly waitMs: number;
  private readonly now: () => number;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    options: DynamoProviderSlotsOptions = {},
  ) {
    this.db = documentClient(client);
    this.leaseMs = options.leaseMs ?? 90_000;
    this.slowDownMs = options.slowDownMs ?? 60_000;
    this.waitMs = options.waitMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Frees every slot of the account, and any slow-down. Only for a process that owns the table
   * alone (the local stack owns its data directory): the holders of a previous run are dead.
   */
  async releaseAll(accountId: string): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { id: slotsKey(accountId) } }));
  }

  async acquire(accountId: string, limit: number): Promise<SlotLease> {
    const holder = randomUUID();
    const started = Date.now();
    for (let round = 0; ; round += 1) {
      const item = await this.read(accountId);
      const now = this.now();
      const allowed = this.allowed(item, limit, now);
      // Free slots first, in random order, so concurrent callers rarely race for the same one.
      const free = Array.from({ length: allowed }, (_, slot) => slot)
        .filter((slot) => !(Number(item?.[`s${slot}`] ?? 0) > now))
        .sort(() => Math.random() - 0.5);
      for (const slot of free) {
        if (await this.take(accountId, slot, holder, now)) return this.lease(accountId, slot, holder);
      }
      const waited = Date.now() - started;
      if (waited >= this.waitMs) {
        const slowed = allowed < limit ? ` (slowed down to ${allowed} after a 429)` : '';
        throw new ProviderBusyError(
          `account "${accountId}": all ${allowed} of its provider slots are taken${slowed}; trying again later`,
        );
      }
      // 25 ms growing to 1 s, jittered: waiters neither spin on the item nor wake together.
      const pause = Math.min(1_000, 25 * 2 ** round) * (0.5 + Math.random() / 2);
      await sleep(Math.min(pause, this.waitMs - waited));
    }
  }

  async slowDown(accountId: string, limit: number, retryAfterMs?: number): Promise<void> {
    const item = await this.read(accountId);
    const now = this.now();
    const reduced = Math.max(1, Math.floor(this.allowed(item, limit, now) / 2));
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: slotsKey(accountId) },
        UpdateExpression: 'SET #entity = :entity, #limit = :limit, #until = :until',
        ExpressionAttributeNames: { '#entity': 'entity', '#limit': 'limit', '#until': 'reducedUntil' },
        ExpressionAttributeValues: {
          ':entity': 'slots',
          ':limit': reduced,
          ':until': now + Math.max(this.slowDownMs, retryAfterMs ?? 0),
        },
      }),
    );
  }

  /** Slots usable now: the configured limit, or the reduced one while a slow-down lasts. */
  private allowed(item: SlotsItem | undefined, limit: number, now: number): number {
    if (item?.limit !== undefined && Number(item.reducedUntil ?? 0) > now) return Math.min(limit, item.limit);
    return limit;
  }

  private async read(accountId: string): Promise<SlotsItem | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { id: slotsKey(accountId) }, ConsistentRead: true }),
    );
    return result.Item as SlotsItem | undefined;
  }

  private async take(accountId: string, slot: number, holder: string, now: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: slotsKey(accountId) },
        UpdateExpression: 'SET #entity = :entity, #s = :expires, #h = :holder',
        ConditionExpression: 'attribute_not_exists(#s) OR #s <= :now',
        ExpressionAttributeNames: { '#entity': 'entity', '#s': `s${slot}`, '#h': `h${slot}` },
        ExpressionAttributeValues: {
          ':entity': 'slots',
          ':expires': now + this.leaseMs,
          ':holder': holder,
          ':now': now,
        },
      }),
    );
  }

  private lease(accountId: string, slot: number, holder: string): SlotLease {
    const names = { '#s': `s${slot}`, '#h': `h${slot}` };
    const key = { id: slotsKey(accountId) };
    // A long download keeps its slot; a lost renewal only means the lease may lapse early.
    const renewal = setInterval(() => {
      this.conditional(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #s = :expires',
          ConditionExpression: '#h = :holder',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':expires': this.now() + this.leaseMs, ':holder': holder },
        }),
      ).catch(() => undefined);
    }, this.leaseMs / 3);
    renewal.unref();
    return {
      release: async () => {
        clearInterval(renewal);
        // Only our own lease: once lapsed, the slot may be someone else's.
        await this.conditional(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'REMOVE #s, #h',
            ConditionExpression: '#h = :holder',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':holder': holder },
          }),
        );
      },
    };
  }

  /** Sends a conditional write; false when its condition did not hold. */
  private async conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await this.db.send(command);
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
