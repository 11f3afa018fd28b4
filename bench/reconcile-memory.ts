/**
 * Reconcile's memory on a large account: `npx tsx bench/reconcile-memory.ts [recordings]`.
 * The provider's listing, the index and the store are generated as they are read (nothing of
 * them is kept), so the process's heap growth is reconcile's own: what it holds of an account.
 * Every recording is archived and verifies; the read-back is time-boxed to nothing, as a deployed
 * run that has spent its time, so the figure is the listing, the index and the orphan walk.
 */
import { Readable } from 'node:stream';
import { recordingId } from '../lambdas/core/ids.ts';
import type {
  ComplianceStore,
  IndexEntry,
  IndexPage,
  IndexQuery,
  RecordingIndex,
  VerificationProgress,
} from '../lambdas/core/ports.ts';
import { reconcileAccount } from '../lambdas/core/reconcile.ts';
import type { Recording } from '../lambdas/core/recording.ts';

const count = Number(process.argv[2] ?? 200_000);
const accountId = 'bench';
const PAGE = 500;

const providerRecordingId = (index: number) => `RE${String(index).padStart(32, '0')}`;
const startedAt = (index: number) => new Date(Date.UTC(2026, 9, 1) + index * 1000).toISOString();
const keyOf = (index: number) => `recordings/${accountId}/2026/10/01/${providerRecordingId(index)}.wav`;
const recordingOf = (index: number): Recording => ({
  accountId,
  provider: 'restcomm',
  providerRecordingId: providerRecordingId(index),
  callId: `CA${index}`,
  direction: 'inbound',
  from: '+15550000001',
  to: '+15550000002',
  startedAt: startedAt(index),
  durationSec: 60,
  readiness: 'ready',
  // What a provider's record weighs, roughly: the index keeps it as `raw`.
  raw: { sid: providerRecordingId(index), uri: `/Accounts/AC1/Recordings/${providerRecordingId(index)}` },
});
const entryOf = (index: number): IndexEntry => ({
  id: recordingId({ accountId, providerRecordingId: providerRecordingId(index) }),
  accountId,
  provider: 'restcomm',
  providerRecordingId: providerRecordingId(index),
  callId: `CA${index}`,
  status: 'archived',
  startedAt: startedAt(index),
  durationSec: 60,
  from: '+15550000001',
  to: '+15550000002',
  direction: 'inbound',
  bytes: 8_000,
  sha256: '0'.repeat(64),
  contentType: 'audio/wav',
  bucket: 'bench',
  key: keyOf(index),
  archivedAt: startedAt(index),
  updatedAt: startedAt(index),
});
const byId = new Map<string, number>();
for (let index = 0; index < count; index += 1) byId.set(entryOf(index).id, index);

const index: RecordingIndex = {
  get: async (id) => (byId.has(id) ? entryOf(byId.get(id) as number) : undefined),
  getMany: async (ids) =>
    new Map(ids.flatMap((id) => (byId.has(id) ? [[id, entryOf(byId.get(id) as number)] as const] : []))),
  query: async (query: IndexQuery): Promise<IndexPage> => {
    const start = Number(query.cursor ?? 0);
    const end = Math.min(start + (query.limit ?? PAGE), count);
    const items = Array.from({ length: end - start }, (_, offset) => entryOf(start + offset));
    return { items, ...(end < count ? { cursor: String(end) } : {}) };
  },
  put: async () => true,
  listFailed: async () => ({ items: [] }),
  // Neither is read by reconcile.
  archivedOn: async function* () {},
  getCursor: async () => undefined,
  setCursor: async () => undefined,
};
const store = {
  bucket: 'bench',
  async *list() {
    for (let at = 0; at < count; at += 1) yield { key: keyOf(at), bytes: 8_000 };
  },
  head: async () => undefined,
  readVersion: async () => Readable.from([]),
} as unknown as ComplianceStore;
let progress: VerificationProgress | undefined;

const heap = () => process.memoryUsage().heapUsed / 2 ** 20;
global.gc?.();
const before = heap();
let peak = before;
const sampler = setInterval(() => {
  peak = Math.max(peak, heap());
}, 5);
const started = performance.now();
const { report } = await reconcileAccount({
  account: { id: accountId, provider: 'restcomm' },
  source: {
    async *list() {
      for (let at = 0; at < count; at += 1) yield recordingOf(at);
    },
  },
  index,
  store,
  verification: {
    progress: {
      getVerification: async () => progress,
      setVerification: async (_accountId, next) => {
        progress = next;
      },
    },
    deadline: 0,
  },
});
clearInterval(sampler);
peak = Math.max(peak, heap());
if (report.listed !== count || report.archived !== count || report.gaps.length > 0)
  throw new Error(`unexpected report: ${JSON.stringify({ ...report, gaps: report.gaps.length })}`);
console.log(
  JSON.stringify({
    recordings: count,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    heapBeforeMiB: Number(before.toFixed(1)),
    heapPeakGrowthMiB: Number((peak - before).toFixed(1)),
  }),
);
