/**
 * Delete-at-source's throughput at modeled latencies: `npx tsx bench/delete-at-source.ts
 * [recordings] [storeMs] [providerMs]`. Every recording is due and verifies; the store answers its
 * HeadObject and GetObject after `storeMs` each, the provider its DELETE after `providerMs`, the
 * index a patch after 5 ms. It runs the same account one recording at a time (`maxConcurrency: 1`,
 * what every run did before) and at Bandwidth's default (8), and says how many a 14-minute run
 * (the function's 15 minutes less the margin) gets through.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteAtSource } from '../lambdas/core/delete-at-source.ts';
import type { ComplianceIndex, ComplianceStore, IndexEntry } from '../lambdas/core/ports.ts';

const count = Number(process.argv[2] ?? 400);
const storeMs = Number(process.argv[3] ?? 20);
const providerMs = Number(process.argv[4] ?? 150);
const body = Buffer.alloc(8_000, 7);
const sha256 = createHash('sha256').update(body).digest('hex');
const entryOf = (index: number): IndexEntry => ({
  id: `id${String(index).padStart(8, '0')}`,
  accountId: 'bench',
  provider: 'bandwidth',
  providerRecordingId: `r-${index}`,
  callId: `c-${index}`,
  status: 'archived',
  key: `recordings/bench/2026/10/01/r-${index}.wav`,
  bytes: body.length,
  sha256,
  archivedAt: '2026-10-01T00:00:00.000Z',
  updatedAt: '2026-10-01T00:00:00.000Z',
});
const index = {
  query: async ({ cursor }: { cursor?: string }) => {
    const start = Number(cursor ?? 0);
    const end = Math.min(start + 500, count);
    const items = Array.from({ length: end - start }, (_, offset) => entryOf(start + offset));
    return { items, ...(end < count ? { cursor: String(end) } : {}) };
  },
  patch: async () => {
    await sleep(5);
    return true;
  },
} as unknown as ComplianceIndex;
const store = {
  head: async () => {
    await sleep(storeMs);
    return { bytes: body.length };
  },
  readVersion: async () => {
    await sleep(storeMs);
    return Readable.from([body]);
  },
} as unknown as ComplianceStore;

for (const maxConcurrency of [1, 8]) {
  const started = performance.now();
  const result = await deleteAtSource({
    accounts: [{ id: 'bench', provider: 'bandwidth', deleteAtSource: { afterDays: 30 }, maxConcurrency }],
    deleterFor: async () => ({
      canDelete: () => true,
      delete: async () => {
        await sleep(providerMs);
        return { status: 204, alreadyGone: false };
      },
    }),
    index,
    store,
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.deleted.length !== count) throw new Error(`deleted ${result.deleted.length} of ${count}`);
  console.log(
    JSON.stringify({
      maxConcurrency,
      recordings: count,
      seconds: Number(seconds.toFixed(2)),
      perFourteenMinuteRun: Math.floor((count / seconds) * 14 * 60),
    }),
  );
}
