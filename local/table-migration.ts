/**
 * The local index table, as the current CDK code defines it. A data directory made by an earlier
 * version may hold the table with other GSIs, and dynalite cannot add or change a GSI in place
 * (DynamoDB can, one at a time). So the table is rebuilt: every item is first saved to
 * `index-migration.jsonl` in the data directory, the table is created anew from the definition,
 * and the items are written back with their GSI attributes derived again; the file is removed
 * only once all are back. A crash midway leaves the file, and the next start finishes from it.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type TableDescription,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lambdas/aws/document-client.ts';
import { reindexItem } from '../lambdas/aws/dynamo-index.ts';
import type { Logger } from '../lambdas/core/log.ts';

const MIGRATION_FILE = 'index-migration.jsonl';
const waiting = { maxWaitTime: 60, minDelay: 0.05, maxDelay: 0.2 };

type Item = Record<string, unknown>;

/** The GSIs as a comparable string: names, keys and projections. */
function indexShape(
  indexes: CreateTableCommandInput['GlobalSecondaryIndexes'] | TableDescription['GlobalSecondaryIndexes'],
) {
  return JSON.stringify(
    (indexes ?? [])
      .map((index) => ({
        name: index.IndexName,
        keys: index.KeySchema,
        type: index.Projection?.ProjectionType ?? 'ALL',
        attributes: [...(index.Projection?.NonKeyAttributes ?? [])].sort(),
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
  );
}

async function describe(dynamo: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await dynamo.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

export async function ensureIndexTable(
  dynamo: DynamoDBClient,
  definition: CreateTableCommandInput,
  dataDir: string,
  logger: Logger,
): Promise<void> {
  const tableName = definition.TableName as string;
  // Not destroyed here: it shares the caller's client.
  const db = documentClient(dynamo);
  const saved = join(dataDir, MIGRATION_FILE);
  let table = await describe(dynamo, tableName);
  const current =
    table && indexShape(table.GlobalSecondaryIndexes) === indexShape(definition.GlobalSecondaryIndexes);
  if (current && !existsSync(saved)) {
    await waitUntilTableExists({ client: dynamo, ...waiting }, { TableName: tableName });
    return;
  }
  if (table && !current && !existsSync(saved)) {
    logger.info('rebuilding the local index for the current GSIs', { table: tableName });
    const lines: string[] = [];
    let startKey: Item | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) lines.push(JSON.stringify(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    writeFileSync(`${saved}.tmp`, lines.map((line) => `${line}\n`).join(''), { mode: 0o600 });
    renameSync(`${saved}.tmp`, saved);
  }
  if (table && !current) {
    await dynamo.send(new DeleteTableCommand({ TableName: tableName }));
    await waitUntilTableNotExists({ client: dynamo, ...waiting }, { TableName: tableName });
    table = undefined;
  }
  if (!table) await dynamo.send(new CreateTableCommand(definition));
  await waitUntilTableExists({ client: dynamo, ...waiting }, { TableName: tableName });
  if (!existsSync(saved)) return;

  // Writing an item twice (a restore that was cut short) is harmless: same key, same item.
  const items = readFileSync(saved, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => reindexItem(JSON.parse(line) as Item));
  for (let start = 0; start < items.length; start += 25) {
    let requests = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const result = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
      requests = (result.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  }
  rmSync(saved);
  logger.info('rebuilt the local index', { table: tableName, items: items.length });
}
