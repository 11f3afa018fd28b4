/**
 * Sweep outcomes in the index table: one item per account (`sweep#{accountId}`), overwritten by
 * each sweep. It carries no `accountId` or `sortKey`, so no GSI and no recording listing sees it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SweepJournal, SweepRun } from '../core/status.ts';

export class DynamoSweepJournal implements SweepJournal {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async record(accountId: string, run: Omit<SweepRun, 'lastSucceededAt'>): Promise<SweepRun | undefined> {
    const fields: [string, unknown][] = [
      ['entity', 'sweep'],
      ['at', run.at],
      ['account', accountId],
      ['provider', run.provider],
      ['outcome', run.outcome],
      ['listed', run.listed],
      ['started', run.started],
      ['error', run.error],
    ];
    if (run.outcome === 'succeeded') fields.push(['lastSucceededAt', run.at]);
    const names = Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name]));
    const sets = fields.flatMap(([, value], i) => (value === undefined ? [] : [`#f${i} = :v${i}`]));
    const removes = fields.flatMap(([, value], i) => (value === undefined ? [`#f${i}`] : []));
    const values = Object.fromEntries(
      fields.flatMap(([, value], i) => (value === undefined ? [] : [[`:v${i}`, value]])),
    );
    // An update, so `lastSucceededAt` survives failed sweeps; the replaced run comes back.
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: `sweep#${accountId}` },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      }),
    );
    return toRun(result.Attributes);
  }

  async last(accountId: string): Promise<SweepRun | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { id: `sweep#${accountId}` }, ConsistentRead: true }),
    );
    return toRun(result.Item);
  }

  async accounts(): Promise<{ id: string; provider: string }[]> {
    const found: { id: string; provider: string }[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      // A Scan, for `status` only: it reads the whole table, which is why it is not on a hot path.
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#entity = :sweep',
          ExpressionAttributeNames: { '#entity': 'entity' },
          ExpressionAttributeValues: { ':sweep': 'sweep' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? [])
        found.push({ id: String(item.account), provider: String(item.provider) });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return found.sort((a, b) => a.id.localeCompare(b.id));
  }
}

function toRun(item: Record<string, unknown> | undefined): SweepRun | undefined {
  if (!item?.at) return undefined;
  const { id: _id, entity: _entity, account: _account, ...run } = item;
  return run as unknown as SweepRun;
}
