/**
 * Sweep checkpoints (`sweep#{accountId}#{pass}`), leases (`lease#{accountId}`) and in-flight
 * counters (`inflight#{accountId}`) in the index
 * table. Like the cursor items they carry no GSI attribute and `entity` is not `recording`, so no
 * listing or search sees them. Each write is a single (conditional) item write.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SweepLedger, SweepRecord } from '../core/ports.ts';

export class DynamoSweepLedger implements SweepLedger {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(accountId: string, pass: string): Promise<SweepRecord | undefined> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { id: sweepKey(accountId, pass) },
        ConsistentRead: true,
      }),
    );
    return result.Item ? (JSON.parse(result.Item.record as string) as SweepRecord) : undefined;
  }

  async put(accountId: string, pass: string, record: SweepRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          id: sweepKey(accountId, pass),
          entity: 'sweep-pass',
          record: JSON.stringify(record),
          updatedAt: new Date(this.now()).toISOString(),
        },
      }),
    );
  }

  async acquire(accountId: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { id: leaseKey(accountId), entity: 'lease', holder, expiresAt: now + ttlMs },
          ConditionExpression: 'attribute_not_exists(id) OR holder = :holder OR expiresAt < :now',
          ExpressionAttributeValues: { ':holder': holder, ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async release(accountId: string, holder: string): Promise<void> {
    try {
      // Expired rather than deleted: the functions that write the index need no DeleteItem.
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { id: leaseKey(accountId), entity: 'lease', holder, expiresAt: 0 },
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  async inFlight(accountId: string): Promise<number> {
    const result = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { id: inFlightKey(accountId) },
        ConsistentRead: true,
      }),
    );
    return Math.max(0, Number(result.Item?.count ?? 0));
  }

  async addInFlight(accountId: string, delta: number): Promise<void> {
    if (delta === 0) return;
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: inFlightKey(accountId) },
        UpdateExpression: 'ADD #count :delta SET #entity = :entity',
        ExpressionAttributeNames: { '#count': 'count', '#entity': 'entity' },
        ExpressionAttributeValues: { ':delta': delta, ':entity': 'inflight' },
      }),
    );
  }

  async resetInFlight(accountId: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { id: inFlightKey(accountId), entity: 'inflight', count: 0 },
      }),
    );
  }
}

const sweepKey = (accountId: string, pass: string) => `sweep#${accountId}#${pass}`;
const inFlightKey = (accountId: string) => `inflight#${accountId}`;
const leaseKey = (accountId: string) => `lease#${accountId}`;
