import { describe, expect, it } from 'vitest';
import { SweepIncompleteError } from '../../lambdas/core/errors.ts';
import { executionName, recordingId } from '../../lambdas/core/ids.ts';
import { recordOutcome } from '../../lambdas/core/ingest.ts';
import type { EntryStatus } from '../../lambdas/core/ports.ts';
import {
  PACING_STALE_MS,
  PACING_WAIT_SECONDS,
  type SweepRequest,
  type SweepState,
  type SweepStepDeps,
  sweepSettings,
  sweepStep,
} from '../../lambdas/core/sweep.ts';
import { FakeAdapter, FakeIndex, FakeLedger, FakeStarter, recording } from './fakes.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 9, minute)).toISOString();
const HOUR = 3_600_000;

function seed(index: FakeIndex, providerRecordingId: string, status: EntryStatus, failures?: number) {
  const rec = recording(providerRecordingId);
  index.entries.set(recordingId(rec), {
    id: recordingId(rec),
    accountId: rec.accountId,
    provider: rec.provider,
    providerRecordingId,
    status,
    failures,
    updatedAt: at(0),
  });
}

function parts(overrides: Partial<SweepStepDeps> = {}) {
  const adapter = new FakeAdapter();
  const index = new FakeIndex();
  const ledger = new FakeLedger();
  const starter = new FakeStarter();
  const deps: SweepStepDeps = {
    adapter,
    index,
    ledger,
    starter,
    settings: sweepSettings({ provider: 'voipbin' }),
    concurrency: 1,
    now: () => ledger.now,
    // The clock moves by what a unit sleeps: its in-process waits take no real time.
    sleep: async (ms: number) => {
      ledger.now += ms;
    },
    ...overrides,
  };
  return { adapter, index, ledger, starter, deps };
}

/** Runs units as the sweep workflow does, until the pass is no longer `running`. */
async function runPass(
  deps: SweepStepDeps,
  request: SweepRequest = { accountId: 'vb-main' },
  execution = 'sweep-1',
): Promise<{ state: SweepState; units: number }> {
  let state: SweepRequest & Partial<SweepState> = request;
  for (let units = 1; ; units += 1) {
    const next = await sweepStep(deps, state, execution);
    if (next.status !== 'running') return { state: next, units };
    state = next;
  }
}

describe('sweepStep: one listing unit per call', () => {
  it('lists page by page, checkpointing each position, and moves the cursor only when the pass completes', async () => {
    const { adapter, index, ledger, starter, deps } = parts();
    adapter.pageSize = 2;
    adapter.listed = [30, 10, 20, 40, 50].map((minute) => recording(`r${minute}`, { startedAt: at(minute) }));
    const first = await sweepStep(deps, { accountId: 'vb-main' }, 'sweep-1');
    expect(first).toMatchObject({ status: 'running', holder: 'sweep-1', units: 1 });
    expect(ledger.records.get('vb-main#scheduled')?.active).toMatchObject({
      position: '2',
      pages: 1,
      listed: 2,
    });
    // Mid-pass, the cursor has not moved.
    expect(index.cursors.size).toBe(0);

    const { state, units } = await runPass(deps, first);
    expect(units).toBe(2);
    expect(state).toMatchObject({ status: 'done', cursor: at(50) });
    expect(state.progress).toMatchObject({ kind: 'deep', pages: 3, listed: 5, started: 5 });
    expect(adapter.pageCalls.map((call) => call.position)).toEqual([undefined, '2', '4']);
    expect(index.cursors.get('vb-main')).toBe(at(50));
    // The listing's metadata travels with the reference: the check need not ask for it again.
    expect(starter.calls[0]?.input).toEqual({
      ref: { accountId: 'vb-main', provider: 'voipbin', providerRecordingId: 'r30', callId: undefined },
      hints: { direction: 'inbound', readiness: 'ready', startedAt: at(30), raw: { id: 'r30' } },
      // Its outcome, once recorded, frees a place in the sweep's pacing.
      paced: true,
    });
    // Between passes: no active checkpoint, the deep pass remembered, the lease given up.
    expect(ledger.records.get('vb-main#scheduled')).toEqual({
      lastDeepAt: new Date(ledger.now).toISOString(),
      lastCompletedAt: new Date(ledger.now).toISOString(),
    });
    expect(ledger.leases.get('vb-main')?.expiresAt).toBe(0);
  });

  it('a pass interrupted between pages resumes from its checkpoint, never from the start', async () => {
    const { adapter, index, ledger, starter, deps } = parts();
    adapter.pageSize = 2;
    adapter.listed = [1, 2, 3, 4, 5, 6].map((minute) => recording(`r${minute}`, { startedAt: at(minute) }));
    adapter.failAt = { position: '4', error: new Error('provider went away') };
    await expect(runPass(deps)).rejects.toThrow(/provider went away/);
    expect(ledger.records.get('vb-main#scheduled')?.active?.position).toBe('4');
    expect(index.cursors.size).toBe(0);

    // The workflow retries the unit (same execution, same holder): it lists from page 3 only.
    adapter.failAt = undefined;
    adapter.pageCalls.length = 0;
    const { state } = await runPass(deps);
    expect(adapter.pageCalls.map((call) => call.position)).toEqual(['4']);
    expect(state.progress).toMatchObject({ listed: 6, started: 6, pages: 3 });
    expect(starter.calls).toHaveLength(6);
    expect(index.cursors.get('vb-main')).toBe(at(6));
  });

  it('a second sweep of the account is busy while the lease is held, and takes the pass over once it expires', async () => {
    const { adapter, ledger, deps } = parts();
    adapter.pageSize = 1;
    adapter.listed = [recording('a', { startedAt: at(1) }), recording('b', { startedAt: at(2) })];
    const first = await sweepStep(deps, { accountId: 'vb-main' }, 'sweep-1');
    expect(first.status).toBe('running');
    // sweep-1 dies here. sweep-2 starts while its lease holds: it ends without listing.
    const busy = await sweepStep(deps, { accountId: 'vb-main' }, 'sweep-2');
    expect(busy).toMatchObject({ status: 'busy', holder: 'sweep-2', units: 0 });
    expect(adapter.pageCalls).toHaveLength(1);

    ledger.now += 16 * 60_000;
    const { state } = await runPass(deps, { accountId: 'vb-main' }, 'sweep-3');
    expect(state.status).toBe('done');
    expect(adapter.pageCalls.map((call) => call.position)).toEqual([undefined, '1']);
  });

  it('incremental passes look back from the cursor by the look-back; a deep pass lists the whole retention when due', async () => {
    const { adapter, index, ledger, deps } = parts();
    await runPass(deps);
    expect(adapter.listWindows).toEqual([{}]);
    index.cursors.set('vb-main', '2026-11-01T09:00:00.000Z');
    await runPass(deps);
    expect(adapter.listWindows[1]).toEqual({ since: '2026-10-31T09:00:00.000Z' });
    await runPass({ ...deps, settings: sweepSettings({ provider: 'voipbin', sweep: { lookbackHours: 3 } }) });
    expect(adapter.listWindows[2]).toEqual({ since: '2026-11-01T06:00:00.000Z' });
    // A week after the last deep pass, the next one is deep again.
    ledger.now += 168 * HOUR;
    const { state } = await runPass(deps);
    expect(state.progress?.kind).toBe('deep');
    expect(adapter.listWindows[3]).toEqual({});
    // Nothing listed: the cursor stays.
    expect(index.cursors.get('vb-main')).toBe('2026-11-01T09:00:00.000Z');
  });

  it('does not window a provider whose listing is client-side anyway', async () => {
    const { adapter, index, deps } = parts();
    adapter.windowedListing = false;
    await runPass(deps);
    index.cursors.set('vb-main', at(0));
    await runPass(deps);
    expect(adapter.listWindows).toEqual([{}, {}]);
  });

  it('a backfill lists its own window, keeps its own checkpoint and never moves the cursor', async () => {
    const { adapter, index, ledger, deps } = parts();
    adapter.listed = [recording('old', { startedAt: '2026-06-01T00:00:00.000Z' })];
    index.cursors.set('vb-main', at(0));
    const backfill = { since: '2026-06-01T00:00:00.000Z', until: '2026-07-01T00:00:00.000Z' };
    const { state } = await runPass(deps, { accountId: 'vb-main', backfill });
    expect(adapter.listWindows).toEqual([backfill]);
    expect(state.progress).toMatchObject({ kind: 'backfill', started: 1 });
    expect(index.cursors.get('vb-main')).toBe(at(0));
    expect([...ledger.records.keys()]).toEqual([
      'vb-main#backfill#2026-06-01T00:00:00.000Z#2026-07-01T00:00:00.000Z',
    ]);
  });

  it('continues a long pass in a fresh execution under the same lease holder', async () => {
    const sweepStarter = new FakeStarter();
    const { adapter, ledger, deps } = parts({ maxUnits: 2 });
    deps.sweepStarter = sweepStarter;
    adapter.pageSize = 1;
    adapter.listed = [1, 2, 3].map((minute) => recording(`r${minute}`, { startedAt: at(minute) }));
    const { state } = await runPass(deps, { accountId: 'vb-main' }, 'sched-abc');
    expect(state).toMatchObject({ status: 'continued', continuedAs: 'sched-abc-c1' });
    expect(sweepStarter.calls).toEqual([
      { name: 'sched-abc-c1', input: { accountId: 'vb-main', holder: 'sched-abc', continuation: 1 } },
    ]);
    expect(ledger.leases.get('vb-main')?.holder).toBe('sched-abc');
    // The continuation (another execution name, same holder) finishes the pass.
    const rest = await runPass(deps, sweepStarter.calls[0]?.input as SweepRequest, 'sched-abc-c1');
    expect(rest.state.status).toBe('done');
    expect(adapter.pageCalls.map((call) => call.position)).toEqual([undefined, '1', '2']);
  });

  it('skips archived and still-gone recordings, restarts failed ones and ready-again ones under a retry-round name', async () => {
    const { adapter, index, starter, deps } = parts();
    adapter.listed = ['done', 'skip', 'failed-twice', 'failed-unknown', 'back', 'new'].map((id, minute) =>
      recording(id, { startedAt: at(minute), readiness: id === 'skip' ? 'gone' : 'ready' }),
    );
    seed(index, 'done', 'archived');
    seed(index, 'skip', 'skipped');
    seed(index, 'failed-twice', 'failed', 2);
    seed(index, 'failed-unknown', 'failed');
    seed(index, 'back', 'skipped');
    const { state } = await runPass(deps);
    expect(state.progress?.alreadyDone).toBe(2);
    expect(starter.calls.map((call) => call.name)).toEqual([
      executionName(recording('failed-twice'), 2),
      executionName(recording('failed-unknown'), 1),
      executionName(recording('back'), 1),
      executionName(recording('new')),
    ]);
    expect(state.cursor).toBe(at(5));
    expect(index.getManyCalls).toHaveLength(1);
  });

  it('counts an existing execution as already running and still completes the pass', async () => {
    const running = executionName(recording('r1'));
    const starter = new FakeStarter((name) => (name === running ? 'exists' : 'started'));
    const { adapter, index, deps } = parts({ starter });
    adapter.listed = [recording('r1', { startedAt: at(1) }), recording('r2', { startedAt: at(2) })];
    const { state } = await runPass(deps);
    expect(state.progress).toMatchObject({ alreadyRunning: 1, started: 1 });
    expect(index.cursors.get('vb-main')).toBe(at(2));
  });

  it('starts the next round when an execution of that name ended without recording any outcome', async () => {
    const lost = [executionName(recording('r1')), executionName(recording('r1'), 1)];
    const starter = new FakeStarter((name) => (lost.includes(name) ? 'exists' : 'started'));
    for (const name of lost) starter.statuses.set(name, 'ended');
    const { adapter, deps } = parts({ starter });
    adapter.listed = [recording('r1', { startedAt: at(1) })];
    await runPass(deps);
    expect(starter.calls.at(-1)?.name).toBe(executionName(recording('r1'), 2));
  });

  it('a page whose recordings could not all be handed over fails the unit: SweepIncompleteError, checkpoint and cursor stay', async () => {
    const failing = executionName(recording('r2'));
    const starter = new FakeStarter((name) =>
      name === failing ? new Error('ThrottlingException') : 'started',
    );
    const { adapter, index, ledger, deps } = parts({ starter });
    index.cursors.set('vb-main', at(0));
    adapter.pageSize = 3;
    adapter.listed = [30, 20, 10, 40].map((minute) =>
      recording(`r${minute / 10}`, { startedAt: at(minute) }),
    );
    const error = await runPass(deps).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SweepIncompleteError);
    const message = (error as Error).message;
    expect(message).toContain('voipbin account "vb-main"');
    expect(message).toContain('1 of 3 recordings');
    expect(message).toContain('r2: ThrottlingException');
    expect(ledger.records.get('vb-main#scheduled')?.active?.position).toBeUndefined();
    expect(index.cursors.get('vb-main')).toBe(at(0));
  });

  it('does not move the cursor for recordings without a start time', async () => {
    const { adapter, index, starter, deps } = parts();
    adapter.listed = [recording('undated')];
    const { state } = await runPass(deps);
    expect(starter.calls).toHaveLength(1);
    expect(state.cursor).toBeUndefined();
    expect(index.cursors.size).toBe(0);
  });
});

describe('sweepStep: paced by the executions in flight', () => {
  const settings = { ...sweepSettings({ provider: 'voipbin' }), maxInFlight: 3 };
  const started = (starter: FakeStarter) =>
    starter.calls.map(
      (call) => (call.input as { ref: { providerRecordingId: string } }).ref.providerRecordingId,
    );

  it('hands a page over in chunks of the room under maxInFlight, waiting in-process as outcomes come in', async () => {
    const { adapter, ledger, starter, deps } = parts({
      settings,
      sleep: async (ms: number) => {
        ledger.now += ms;
        // Meanwhile two executions record their outcome.
        await ledger.addInFlight('vb-main', -2);
      },
    });
    const chunks: number[] = [];
    const addInFlight = ledger.addInFlight.bind(ledger);
    ledger.addInFlight = async (accountId, delta) => {
      if (delta > 0) chunks.push(delta);
      await addInFlight(accountId, delta);
    };
    adapter.listed = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map((id) => recording(id));
    const { state, units } = await runPass(deps);
    expect(units).toBe(1);
    expect(adapter.pageCalls).toHaveLength(1);
    expect(chunks).toEqual([3, 2, 1]);
    expect(started(starter)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(state.progress).toMatchObject({ pages: 1, listed: 6, started: 6 });
  });

  it('archived recordings take no room: a page of them goes by without waiting, in one index read', async () => {
    const { adapter, index, ledger, starter, deps } = parts({
      settings,
      sleep: async () => {
        throw new Error('the unit waited');
      },
    });
    for (const id of ['r1', 'r2', 'r4', 'r5', 'r6']) seed(index, id, 'archived');
    adapter.listed = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'].map((id) => recording(id));
    const { state } = await runPass(deps);
    expect(started(starter)).toEqual(['r3', 'r7']);
    expect(index.getManyCalls).toHaveLength(1);
    expect(await ledger.inFlight('vb-main')).toBe(2);
    expect(state.progress).toMatchObject({ listed: 7, started: 2, alreadyDone: 5 });
  });

  it('when the account stays full for the unit budget, checkpoints after the last recording handed over; the page resumes after it', async () => {
    const { adapter, ledger, starter, deps } = parts({ settings, unitBudgetMs: 5_000 });
    adapter.pageSize = 4;
    adapter.listed = ['r1', 'r2', 'r3', 'r4', 'r5'].map((id) => recording(id));
    const first = await sweepStep(deps, { accountId: 'vb-main' }, 'pace-1');
    expect(first.status).toBe('running');
    expect(await ledger.inFlight('vb-main')).toBe(3);
    expect(ledger.records.get('vb-main#scheduled')?.active).not.toHaveProperty('position');
    expect(ledger.records.get('vb-main#scheduled')?.active).toMatchObject({
      handedThrough: recordingId(recording('r3')),
      listed: 3,
    });
    // Still 3 in flight: no listing, a wait, the checkpoint where it was.
    const waiting = await sweepStep(deps, first, 'pace-1');
    expect(waiting).toMatchObject({ status: 'waiting', waitSeconds: PACING_WAIT_SECONDS });
    expect(adapter.pageCalls).toHaveLength(1);
    // Outcomes recorded: the same page is listed again and goes on after r3, then the next page.
    await ledger.addInFlight('vb-main', -3);
    const resumed = await sweepStep(deps, waiting, 'pace-1');
    expect(resumed).not.toHaveProperty('waitSeconds');
    expect(ledger.records.get('vb-main#scheduled')?.active).not.toHaveProperty('handedThrough');
    await ledger.addInFlight('vb-main', -1);
    const done = await sweepStep(deps, resumed, 'pace-1');
    expect(done.status).toBe('done');
    expect(adapter.pageCalls.map((call) => call.position)).toEqual([undefined, undefined, '4']);
    expect(started(starter)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(done.progress).toMatchObject({ pages: 2, listed: 5, started: 5 });
  });

  it('a part-done page listed again without its last handed-over recording goes over whole: nothing is skipped', async () => {
    const { adapter, ledger, starter, deps } = parts({ settings, unitBudgetMs: 0 });
    adapter.listed = ['r1', 'r2', 'r3', 'r4', 'r5'].map((id) => recording(id));
    const first = await sweepStep(deps, { accountId: 'vb-main' }, 'pace-3');
    expect(started(starter)).toEqual(['r1', 'r2', 'r3']);
    // r3 left the listing (deleted at the provider) while r1–r2 are still running.
    adapter.listed = adapter.listed.filter((item) => item.providerRecordingId !== 'r3');
    await ledger.addInFlight('vb-main', -3);
    const existing = new Set(starter.calls.map((call) => call.name));
    const again = new FakeStarter((name) => (existing.has(name) ? 'exists' : 'started'));
    const { state } = await runPass({ ...deps, starter: again, unitBudgetMs: 60_000 }, first, 'pace-3');
    expect(started(again)).toEqual(['r1', 'r2', 'r4', 'r5']);
    expect(state.progress).toMatchObject({ listed: 7, started: 5, alreadyRunning: 2 });
  });

  it('resets a count that has not fallen for 15 minutes (a lost decrement) instead of waiting forever', async () => {
    const { adapter, ledger, deps } = parts({ settings });
    adapter.pageSize = 3;
    adapter.listed = ['r1', 'r2', 'r3', 'r4'].map((id) => recording(id));
    const first = await sweepStep(deps, { accountId: 'vb-main' }, 'pace-2');
    let state = await sweepStep(deps, first, 'pace-2');
    expect(state.status).toBe('waiting');
    ledger.now += PACING_STALE_MS - 1;
    state = await sweepStep(deps, state, 'pace-2');
    expect(state.status).toBe('waiting');
    ledger.now += 1;
    state = await sweepStep(deps, state, 'pace-2');
    expect(state.progress).toMatchObject({ listed: 4 });
    expect(await ledger.inFlight('vb-main')).toBe(1);
  });

  it('a recorded outcome of a paced execution lowers the count; one not handed over by a sweep does not', async () => {
    const ledger = new FakeLedger();
    await ledger.addInFlight('vb-main', 2);
    const index = new FakeIndex();
    const ref = { accountId: 'vb-main', provider: 'voipbin' as const, providerRecordingId: 'r1' };
    await recordOutcome({ ref, paced: true, reason: 'x' }, 'failed', { index, ledger });
    expect(await ledger.inFlight('vb-main')).toBe(1);
    await recordOutcome({ ref: { ...ref, providerRecordingId: 'r2' }, reason: 'x' }, 'failed', {
      index,
      ledger,
    });
    expect(await ledger.inFlight('vb-main')).toBe(1);
  });
});
