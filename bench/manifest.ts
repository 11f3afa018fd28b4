/**
 * The daily manifest on a large index: the local stack's table (dynalite, the table CDK
 * synthesizes) holding `entries` recordings archived over 90 days; the time to write one day's
 * manifest, now (the day's archives from the byArchived GSI, object versions 16 at a time) and
 * as before 61a2f15 (every entry of the index walked, the day's kept, one HEAD at a time).
 *
 *   npx tsx bench/manifest.ts [entries=30000]     # prints one JSON line
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { eachIndexEntry } from '../lambdas/core/index-walk.ts';
import { writeManifests } from '../lambdas/core/manifest.ts';
import type { IndexEntry } from '../lambdas/core/ports.ts';
import { seededStack } from './seed-index.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const count = Number(process.argv[2] ?? 30_000);
const DAYS = 90;
const DAY_MS = 86_400_000;
const start = Date.UTC(2026, 8, 1);
const dataDir = join(import.meta.dirname, '.work-manifest');

function entry(n: number): IndexEntry {
  const at = new Date(start + Math.floor((n / count) * DAYS * DAY_MS)).toISOString();
  return {
    id: `rec-${n}`,
    accountId: `acct-${n % 20}`,
    provider: 'voipbin',
    providerRecordingId: `p-${n}`,
    status: 'archived',
    startedAt: at,
    bytes: 1_000_000,
    sha256: 'a'.repeat(64),
    bucket: 'callvault-audio',
    key: `recordings/acct-${n % 20}/${n}.wav`,
    archivedAt: at,
    updatedAt: at,
  };
}

const { stack, seedSeconds } = await seededStack(dataDir, count, entry);
try {
  const day = new Date(start + 45 * DAY_MS).toISOString().slice(0, 10);
  const { index, store } = stack.archive;

  let began = performance.now();
  let before = 0;
  for await (const found of eachIndexEntry(index, {})) {
    if (!found.archivedAt?.startsWith(day)) continue;
    if (found.key) await store.head(found.key);
    before += 1;
  }
  const beforeSeconds = (performance.now() - began) / 1000;

  began = performance.now();
  let read = 0;
  for await (const _ of index.archivedOn(day)) read += 1;
  const indexSeconds = (performance.now() - began) / 1000;

  began = performance.now();
  const [written] = (await writeManifests(stack.archive, { through: day })).written;
  if (!written) throw new Error(`no manifest written for ${day}`);
  const nowSeconds = (performance.now() - began) / 1000;
  console.log(
    JSON.stringify({
      entries: count,
      seedSeconds: Number(seedSeconds.toFixed(1)),
      day,
      dayRecordings: written.recordings,
      beforeRecordings: before,
      beforeSeconds: Number(beforeSeconds.toFixed(2)),
      nowSeconds: Number(nowSeconds.toFixed(2)),
      // Of which the day's entries from the index alone (the rest: the HEADs, the erased entries).
      nowIndexSeconds: Number(indexSeconds.toFixed(2)),
      nowIndexRead: read,
    }),
  );
} finally {
  await stack.close();
  rmSync(dataDir, { recursive: true, force: true });
}
