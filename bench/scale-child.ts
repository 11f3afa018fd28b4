/**
 * Child process of the scale benchmark (a fresh process per measurement, so heaps do not carry):
 * - `harvest <count>`: a Bandwidth simulator (in this process's sibling) of `count` small ready
 *   recordings, one `harvest` through the local stack's sweep and ingest workflows;
 * - `first-sweep <count>`: the sweep engine alone over `count` listed recordings (pages of 1,000,
 *   generated as the provider would send them), every one already archived, so only listing and
 *   checking is measured; the index answers from memory, the checkpoint is kept in memory.
 * Prints `{ seconds, peakRss, ... }` as one JSON line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { callvaultConfig } from '../lambdas/core/config.ts';
import { silentLogger } from '../lambdas/core/log.ts';
import type {
  IndexEntry,
  ListPage,
  ProviderAdapter,
  SweepLedger,
  SweepRecord,
} from '../lambdas/core/ports.ts';
import type { Recording } from '../lambdas/core/recording.ts';
import { type SweepState, sweepSettings, sweepStep } from '../lambdas/core/sweep.ts';
import { harvest } from '../local/harvest.ts';
import { startLocalStack } from '../local/stack.ts';
import { startSimulators } from './pipeline.ts';

const [mode = 'harvest', countText = '1000', work = '/tmp'] = process.argv.slice(2);
const count = Number(countText);
const kib = (field: string) =>
  Number(readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`))?.[1]) * 1024;
const resetPeak = () => {
  global.gc?.();
  writeFileSync('/proc/self/clear_refs', '5');
};

if (mode === 'harvest') {
  const accounts = await startSimulators([{ accountId: `scale${count}`, count, durationSec: 0.5 }]);
  const account = Object.values(accounts)[0];
  const config = callvaultConfig.parse({ accounts: [account] });
  const stack = await startLocalStack({ config, dataDir: `${work}/scale-${count}`, logger: silentLogger });
  resetPeak();
  const idleRss = kib('VmRSS');
  const started = performance.now();
  const [summary] = await harvest(stack);
  const seconds = (performance.now() - started) / 1000;
  const peakRss = kib('VmHWM');
  await stack.close();
  if (summary?.archived !== count) throw new Error(`archived ${summary?.archived} of ${count}`);
  process.stdout.write(`${JSON.stringify({ count, seconds, rate: count / seconds, idleRss, peakRss })}\n`);
  process.exit(0);
} else {
  const PAGE = 1000;
  const recordingAt = (index: number): Recording => ({
    accountId: 'big',
    provider: 'bandwidth',
    providerRecordingId: `r-${index.toString(16).padStart(8, '0')}`,
    callId: `c-${index}`,
    startedAt: new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString(),
    direction: 'inbound',
    readiness: 'ready',
    raw: { index },
  });
  const adapter = {
    account: { id: 'big' },
    who: 'bandwidth account "big"',
    windowedListing: true,
    async listPage(_window: unknown, position?: string): Promise<ListPage> {
      const start = position ? Number(position) : 0;
      const recordings = Array.from({ length: Math.min(PAGE, count - start) }, (_, i) =>
        recordingAt(start + i),
      );
      return { recordings, next: start + PAGE < count ? String(start + PAGE) : undefined };
    },
  } as unknown as ProviderAdapter;
  const archived = (id: string): IndexEntry => ({
    id,
    accountId: 'big',
    provider: 'bandwidth',
    providerRecordingId: id,
    status: 'archived',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  const records = new Map<string, SweepRecord>();
  let lease: string | undefined;
  const ledger: SweepLedger = {
    async get(accountId, pass) {
      const record = records.get(`${accountId}#${pass}`);
      return record && structuredClone(record);
    },
    async put(accountId, pass, record) {
      records.set(`${accountId}#${pass}`, structuredClone(record));
    },
    async acquire(_accountId, holder) {
      lease ??= holder;
      return lease === holder;
    },
    async release() {
      lease = undefined;
    },
    // Every recording is already archived: nothing is handed over, nothing is in flight.
    inFlight: async () => 0,
    addInFlight: async () => {},
    resetInFlight: async () => {},
  };
  const deps = {
    adapter,
    index: {
      getMany: async (ids: readonly string[]) => new Map(ids.map((id) => [id, archived(id)])),
      getCursor: async () => undefined,
      setCursor: async () => {},
    },
    ledger,
    starter: { start: async () => 'started' as const, status: async () => 'unknown' as const },
    settings: sweepSettings({ provider: 'bandwidth' }),
    maxUnits: Number.POSITIVE_INFINITY,
  };
  resetPeak();
  const idleRss = kib('VmRSS');
  const marks: number[] = [];
  const started = performance.now();
  let state: Partial<SweepState> & { accountId: string } = { accountId: 'big' };
  let units = 0;
  for (;;) {
    const next = await sweepStep(deps, state, 'bench');
    units += 1;
    if ((next.progress?.listed ?? 0) % 100_000 === 0) marks.push(performance.now());
    if (next.status !== 'running') {
      state = next;
      break;
    }
    state = next;
  }
  const seconds = (performance.now() - started) / 1000;
  const per100k = marks.map((mark, i) => (mark - (i === 0 ? started : (marks[i - 1] as number))) / 1000);
  if (state.progress?.alreadyDone !== count)
    throw new Error(`checked ${state.progress?.alreadyDone} of ${count}`);
  process.stdout.write(
    `${JSON.stringify({ count, seconds, units, idleRss, peakRss: kib('VmHWM'), secondsPer100k: per100k })}\n`,
  );
}
