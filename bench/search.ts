/**
 * The search API at 100,000 index entries on the local stack (dynalite, the table CDK
 * synthesizes): time of each filter's first page, median of 3, and the same page the old way
 * (a Scan that reads until `limit` matches) for the filters that used to be Scans.
 *
 *   npx tsx bench/search.ts [entries]     # default 100000; writes bench/results-search.json
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { planQuery } from '../lambdas/aws/dynamo-index.ts';
import type { EntryStatus, IndexEntry, IndexQuery } from '../lambdas/core/ports.ts';
import { PROVIDERS } from '../lambdas/core/recording.ts';
import { LOCAL_TABLE } from '../local/stack.ts';
import { seededStack } from './seed-index.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const count = Number(process.argv[2] ?? 100_000);
const dataDir = join(import.meta.dirname, '.work-search');
const RAW = JSON.stringify({ provider: 'record', padding: 'x'.repeat(2_000) });
const DAY = 86_400_000;
const start = Date.UTC(2026, 8, 1);

function entry(n: number): IndexEntry {
  // 0.5 % failed, 1.5 % skipped, the rest archived; 20 accounts; 2,000 numbers; 90 days.
  const status: EntryStatus = n % 200 === 0 ? 'failed' : n % 200 < 4 ? 'skipped' : 'archived';
  const startedAt = new Date(start + Math.floor((n / count) * 90 * DAY)).toISOString();
  return {
    id: `rec-${n}`,
    accountId: `acct-${n % 20}`,
    provider: PROVIDERS[n % PROVIDERS.length] as IndexEntry['provider'],
    providerRecordingId: `p-${n}`,
    status,
    reason: status === 'archived' ? undefined : 'gone at the provider',
    startedAt,
    endedAt: startedAt,
    durationSec: 60,
    from: `+1555${String(n % 2_000).padStart(7, '0')}`,
    to: `+1666${String(n % 3_001).padStart(7, '0')}`,
    direction: 'inbound',
    bytes: 1_000_000,
    sha256: 'a'.repeat(64),
    contentType: 'audio/wav',
    bucket: 'callvault-audio',
    key: `recordings/acct-${n % 20}/${n}.wav`,
    archivedAt: startedAt,
    updatedAt: startedAt,
    raw: RAW,
  };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function main() {
  const { stack, seedSeconds } = await seededStack(dataDir, count, entry);
  try {
    console.log(`seeded ${count} entries in ${seedSeconds.toFixed(1)} s`);

    const filters: [string, IndexQuery][] = [
      ['(none)', {}],
      ['account', { accountId: 'acct-7' }],
      ['provider', { provider: 'bandwidth' }],
      ['number', { number: '+1 555 000 1234' }],
      ['status=failed', { status: 'failed' }],
      ['status=skipped, account', { status: 'skipped', accountId: 'acct-3' }],
      ['status=archived', { status: 'archived' }],
      ['since/until (one day)', { since: '2026-10-15T00:00:00.000Z', until: '2026-10-16T00:00:00.000Z' }],
      [
        'account, since/until',
        { accountId: 'acct-7', since: '2026-10-15T00:00:00.000Z', until: '2026-10-16T00:00:00.000Z' },
      ],
      ['(none), limit=1000', { limit: 1000 }],
    ];
    const rows: {
      filter: string;
      index: string;
      ms: number;
      items: number;
      bytes: number;
      scanMs?: number;
    }[] = [];
    for (const [name, query] of filters) {
      const times: number[] = [];
      let items = 0;
      let bytes = 0;
      for (let run = 0; run < 3; run += 1) {
        const began = performance.now();
        const page = await stack.runtime.index.query({ limit: 100, ...query });
        times.push(performance.now() - began);
        items = page.items.length;
        bytes = Buffer.byteLength(JSON.stringify(page));
      }
      rows.push({
        filter: name,
        index: planQuery(query, LOCAL_TABLE).index,
        ms: median(times),
        items,
        bytes,
      });
      console.log(`${name}: ${median(times).toFixed(0)} ms, ${items} items, ${bytes} bytes`);
    }

    // The old way for a rare status: a filtered Scan reading until 100 matches (one run: slow).
    const began = performance.now();
    let matches = 0;
    let scanned = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await stack.archive.dynamo.send(
        new ScanCommand({
          TableName: LOCAL_TABLE,
          FilterExpression: '#s = :s AND #e = :e',
          ExpressionAttributeNames: { '#s': 'status', '#e': 'entity' },
          ExpressionAttributeValues: { ':s': { S: 'failed' }, ':e': { S: 'recording' } },
          ExclusiveStartKey: startKey as never,
          Limit: 100,
        }),
      );
      matches += result.Items?.length ?? 0;
      scanned += result.ScannedCount ?? 0;
      startKey = result.LastEvaluatedKey;
    } while (startKey && matches < 100);
    const scanMs = performance.now() - began;
    console.log(`status=failed the old way (Scan): ${scanMs.toFixed(0)} ms, ${scanned} items read`);
    const failed = rows.find((row) => row.filter === 'status=failed');
    if (failed) failed.scanMs = scanMs;
    writeFileSync(
      join(import.meta.dirname, 'results-search.json'),
      `${JSON.stringify({ entries: count, seedSeconds, scanned, rows, measuredAt: new Date().toISOString() }, null, 2)}\n`,
    );
  } finally {
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
