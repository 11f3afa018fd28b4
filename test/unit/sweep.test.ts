import { describe, expect, it } from 'vitest';
import { SweepIncompleteError } from '../../lambdas/core/errors.ts';
import { executionName, recordingId } from '../../lambdas/core/ids.ts';
import type { EntryStatus } from '../../lambdas/core/ports.ts';
import { sweepAccount } from '../../lambdas/core/sweep.ts';
import { FakeAdapter, FakeIndex, FakeStarter, recording } from './fakes.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 9, minute)).toISOString();

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

describe('sweepAccount', () => {
  it('lists everything on the first sweep, starts every recording and moves the cursor to the newest', async () => {
    const adapter = new FakeAdapter();
    const index = new FakeIndex();
    const starter = new FakeStarter();
    // Deliberately out of order: the sweep sorts oldest first.
    adapter.listed = [
      recording('r3', { startedAt: at(30), callId: 'c3' }),
      recording('r1', { startedAt: at(10) }),
      recording('r2', { startedAt: at(20) }),
    ];
    const result = await sweepAccount({ adapter, index, starter, concurrency: 1 });
    expect(adapter.listWindows).toEqual([{ since: undefined }]);
    expect(result).toMatchObject({
      accountId: 'vb-main',
      listed: 3,
      alreadyDone: 0,
      alreadyRunning: 0,
      cursor: at(30),
    });
    expect(result.started).toEqual(['r1', 'r2', 'r3'].map((id) => executionName(recording(id))));
    expect(index.cursors.get('vb-main')).toBe(at(30));
    // The listing's metadata travels with the reference: the check need not ask for it again.
    expect(starter.calls[2]?.input).toEqual({
      ref: { accountId: 'vb-main', provider: 'voipbin', providerRecordingId: 'r3', callId: 'c3' },
      hints: { direction: 'inbound', readiness: 'ready', startedAt: at(30), raw: { id: 'r3' } },
    });
  });

  it('looks back from the cursor by the overlap window', async () => {
    const adapter = new FakeAdapter();
    const index = new FakeIndex();
    index.cursors.set('vb-main', '2026-11-01T09:00:00.000Z');
    await sweepAccount({ adapter, index, starter: new FakeStarter() });
    await sweepAccount({ adapter, index, starter: new FakeStarter(), overlapMs: 5 * 60_000 });
    expect(adapter.listWindows).toEqual([
      { since: '2026-11-01T08:00:00.000Z' },
      { since: '2026-11-01T08:55:00.000Z' },
    ]);
    // Nothing listed: the cursor stays.
    expect(index.cursors.get('vb-main')).toBe('2026-11-01T09:00:00.000Z');
  });

  it('skips archived and still-gone recordings, restarts failed ones and ready-again ones under a retry-round name', async () => {
    const adapter = new FakeAdapter();
    const index = new FakeIndex();
    const starter = new FakeStarter();
    adapter.listed = ['done', 'skip', 'failed-twice', 'failed-unknown', 'back', 'new'].map((id, minute) =>
      recording(id, { startedAt: at(minute), readiness: id === 'skip' ? 'gone' : 'ready' }),
    );
    seed(index, 'done', 'archived');
    seed(index, 'skip', 'skipped');
    seed(index, 'failed-twice', 'failed', 2);
    seed(index, 'failed-unknown', 'failed');
    seed(index, 'back', 'skipped');
    const result = await sweepAccount({ adapter, index, starter, concurrency: 1 });
    expect(result.alreadyDone).toBe(2);
    expect(starter.calls.map((call) => call.name)).toEqual([
      executionName(recording('failed-twice'), 2),
      executionName(recording('failed-unknown'), 1),
      executionName(recording('back'), 1),
      executionName(recording('new')),
    ]);
    expect(starter.calls[0]?.name.endsWith('-r2')).toBe(true);
    expect(starter.calls[1]?.name.endsWith('-r1')).toBe(true);
    expect(result.cursor).toBe(at(5));
    expect(index.getManyCalls).toHaveLength(1);
  });

  it('counts an existing execution as already running and still moves the cursor past it', async () => {
    const adapter = new FakeAdapter();
    const index = new FakeIndex();
    const running = executionName(recording('r1'));
    const starter = new FakeStarter((name) => (name === running ? 'exists' : 'started'));
    adapter.listed = [recording('r1', { startedAt: at(1) }), recording('r2', { startedAt: at(2) })];
    const result = await sweepAccount({ adapter, index, starter });
    expect(result.alreadyRunning).toBe(1);
    expect(result.started).toEqual([executionName(recording('r2'))]);
    expect(index.cursors.get('vb-main')).toBe(at(2));
  });

  it('starts the next round when an execution of that name ended without recording any outcome', async () => {
    const adapter = new FakeAdapter();
    const index = new FakeIndex();
    const lost = [executionName(recording('r1')), executionName(recording('r1'), 1)];
    const starter = new FakeStarter((name) => (lost.includes(name) ? 'exists' : 'started'));
    for (const name of lost) starter.statuses.set(name, 'ended');
    adapter.listed = [recording('r1', { startedAt: at(1) })];
    const result = await sweepAccount({ adapter, index, starter });
    expect(result.started).toEqual([executionName(recording('r1'), 2)]);
    expect(result.alreadyRunning).toBe(0);
  });

  it('gives up loudly on a recording whose executions keep ending without an outcome', async () => {
    const adapter = new FakeAdapter();
    const index = new FakeIndex();
    const starter = new FakeStarter(() => 'exists');
    starter.status = async () => 'ended';
    adapter.listed = [recording('r1', { startedAt: at(1) })];
    await expect(sweepAccount({ adapter, index, starter })).rejects.toThrow(
      /ended without recording an outcome/,
    );
    expect(starter.calls).toHaveLength(5);
  });

  it('stops the cursor before a recording that could not be started and throws SweepIncompleteError', async () => {
    const adapter = new FakeAdapter();
    const index = new FakeIndex();
    index.cursors.set('vb-main', at(0));
    const failing = executionName(recording('r2'));
    const starter = new FakeStarter((name) =>
      name === failing ? new Error('ThrottlingException') : 'started',
    );
    adapter.listed = [
      recording('r3', { startedAt: at(30) }),
      recording('r2', { startedAt: at(20) }),
      recording('r1', { startedAt: at(10) }),
    ];
    const error = await sweepAccount({ adapter, index, starter }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SweepIncompleteError);
    const message = (error as Error).message;
    expect(message).toContain('voipbin account "vb-main"');
    expect(message).toContain('1 of 3 recordings');
    expect(message).toContain('r2: ThrottlingException');
    expect(message).toContain(`the cursor stays at ${at(10)}`);
    expect(index.cursors.get('vb-main')).toBe(at(10));
    expect((index.cursors.get('vb-main') ?? '') < at(20)).toBe(true);
    // The later recording was still handed over; the next sweep's "exists" answer covers it.
    expect(starter.calls.map((call) => call.name)).toContain(executionName(recording('r3')));
  });

  it('leaves the cursor untouched when the oldest recording fails', async () => {
    const adapter = new FakeAdapter();
    const index = new FakeIndex();
    const setCursor: string[] = [];
    index.setCursor = async (_account, cursor) => {
      setCursor.push(cursor);
    };
    const starter = new FakeStarter((name) =>
      name === executionName(recording('r1')) ? new Error('boom') : 'started',
    );
    adapter.listed = [recording('r1', { startedAt: at(1) }), recording('r2', { startedAt: at(2) })];
    await expect(sweepAccount({ adapter, index, starter })).rejects.toThrow(/cursor stays at the beginning/);
    expect(setCursor).toEqual([]);
  });

  it('does not move the cursor for recordings without a start time', async () => {
    const adapter = new FakeAdapter();
    const index = new FakeIndex();
    const starter = new FakeStarter();
    adapter.listed = [recording('undated')];
    const result = await sweepAccount({ adapter, index, starter });
    expect(result.started).toHaveLength(1);
    expect(result.cursor).toBeUndefined();
    expect(index.cursors.size).toBe(0);
  });
});
