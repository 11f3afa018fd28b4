/**
 * What keeps a recording's object key stable across rounds: the archive step looks at every key
 * the recording can have (its date's, the hints' date's, `undated/`), the ended handler keeps the
 * input's hints on the failed entry, and the retry job and reconcile's repair hand the entry's
 * description back as hints; repair re-downloads into the entry's own key.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { retryConfig } from '../../lambdas/core/config.ts';
import { recordingId } from '../../lambdas/core/ids.ts';
import { type ArchiveDeps, archiveRecording, type IngestState } from '../../lambdas/core/ingest.ts';
import { silentLogger } from '../../lambdas/core/log.ts';
import type { ComplianceIndex, IndexEntry } from '../../lambdas/core/ports.ts';
import { repairGaps } from '../../lambdas/core/reconcile.ts';
import type { RecordingRef } from '../../lambdas/core/recording.ts';
import { retryFailed, retryInput } from '../../lambdas/core/retry.ts';
import { recordStoppedExecution } from '../../lambdas/core/stopped-execution.ts';
import { createEndedHandler } from '../../lambdas/handlers/ended.ts';
import { FakeAdapter, FakeIndex, FakeStarter, FakeStore } from './fakes.ts';

const REF: RecordingRef = { accountId: 'vb-main', provider: 'voipbin', providerRecordingId: 'rec-1' };
const DATE = '2026-11-01T09:00:00.000Z';
const DATED = 'recordings/vb-main/2026/11/01/rec-1.wav';
const UNDATED = 'recordings/vb-main/undated/rec-1.wav';
const WAV = Buffer.from('RIFF\0\0\0\0WAVEfmt data');

function setup() {
  const adapter = new FakeAdapter();
  const store = new FakeStore();
  const deps: ArchiveDeps = { adapterFor: async () => adapter, store, index: new FakeIndex() };
  const put = (key: string) =>
    store.objects.set(key, {
      body: WAV,
      contentType: 'audio/wav',
      metadata: { 'callvault-recording-id': recordingId(REF) },
    });
  return { adapter, store, deps, put };
}

const state = (startedAt: string | undefined, hints?: IngestState['hints']): IngestState => ({
  ref: REF,
  hints,
  recording: { ...REF, direction: 'inbound', readiness: 'ready', startedAt },
});

describe('archiveRecording across rounds', () => {
  it('finds the object a round without a date stored, once the date is known', async () => {
    const { adapter, store, deps, put } = setup();
    put(UNDATED);
    expect(await archiveRecording(state(DATE), deps)).toMatchObject({ key: UNDATED, recovered: true });
    expect(adapter.downloads).toEqual([]);
    expect(store.writes).toEqual([]);
  });

  it('finds the object stored under the hints’ date when the provider tells no date now', async () => {
    const { adapter, deps, put } = setup();
    put(DATED);
    expect(await archiveRecording(state(undefined, { startedAt: DATE }), deps)).toMatchObject({
      key: DATED,
      recovered: true,
    });
    expect(adapter.downloads).toEqual([]);
  });

  it('prefers its own key, and downloads when no key holds this recording', async () => {
    const { adapter, store, deps, put } = setup();
    put(DATED);
    put(UNDATED);
    expect(await archiveRecording(state(DATE), deps)).toMatchObject({ key: DATED, recovered: true });
    store.objects.clear();
    expect(await archiveRecording(state(DATE), deps)).toMatchObject({ key: DATED, recovered: false });
    expect(adapter.downloads).toHaveLength(1);
  });
});

describe('the failed entry and the next round', () => {
  it('the ended handler keeps what the input told of the call, not its readiness or raw record', async () => {
    const index = new FakeIndex();
    const input = JSON.stringify({
      ref: REF,
      hints: {
        startedAt: DATE,
        from: '+1555',
        direction: 'inbound',
        readiness: 'ready',
        raw: { id: 'rec-1' },
      },
    });
    const entry = (
      await recordStoppedExecution(
        { name: 'n', status: 'FAILED', error: 'Lambda.TooManyRequestsException', input },
        { index, now: () => new Date('2026-11-02T00:00:00.000Z') },
      )
    )?.entry;
    expect(entry).toMatchObject({ status: 'failed', startedAt: DATE, from: '+1555', direction: 'inbound' });
    expect(entry?.readiness).toBeUndefined();
    expect(entry?.raw).toBeUndefined();
  });

  it('the ended handler keeps the date the execution learnt, and the input’s fields when its history cannot be read', async () => {
    const detail = {
      executionArn: 'arn:aws:states:us-east-1:1:execution:ingest:n',
      name: 'n',
      status: 'FAILED',
      error: 'States.TaskFailed',
      input: JSON.stringify({ ref: REF }),
    };
    const learnt = { ...REF, startedAt: DATE, direction: 'inbound' };
    const history = { lastState: async () => ({ ref: REF, recording: learnt, decision: 'archive' }) };
    const index = new FakeIndex();
    await createEndedHandler({ index, history, logger: silentLogger })({ detail });
    expect(await index.get(recordingId(REF))).toMatchObject({ status: 'failed', startedAt: DATE });

    const warnings: string[] = [];
    const unreadable = new FakeIndex();
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    await createEndedHandler({
      index: unreadable,
      history: { lastState: () => Promise.reject(throttled) },
      logger: { ...silentLogger, warn: (message) => warnings.push(message) },
    })({ detail });
    expect(await unreadable.get(recordingId(REF))).toMatchObject({ status: 'failed' });
    expect(warnings).toEqual([
      'execution history unreadable; the entry keeps what the input knew',
      'execution ended without an outcome; recorded as failed',
    ]);
  });

  it('the retry job hands the entry’s description over as hints', async () => {
    const index = new FakeIndex();
    const failed: IndexEntry = {
      id: recordingId(REF),
      ...REF,
      status: 'failed',
      startedAt: DATE,
      durationSec: 30,
      providerStatus: 'ended',
      readiness: 'ready',
      updatedAt: '2026-11-01T10:00:00.000Z',
      failures: 1,
      round: 0,
    };
    index.entries.set(failed.id, failed);
    const starter = new FakeStarter();
    const retry = retryConfig.parse({ initialDelaySeconds: 1, maxDelaySeconds: 1, maxAttempts: 3 });
    await retryFailed({ ignoreBackoff: true }, { index, starter, retry });
    expect(starter.calls.map((call) => call.input)).toEqual([
      { ref: REF, hints: { startedAt: DATE, durationSec: 30 }, round: 1 },
    ]);
    expect(retryInput({ ...failed, startedAt: undefined, durationSec: undefined })).toEqual({ ref: REF });
  });
});

describe('repairGaps', () => {
  function repairDeps(entry: IndexEntry) {
    const { adapter, store, deps } = setup();
    const index = Object.assign(new FakeIndex(), {
      patch: async (id: string, fields: Partial<IndexEntry>) => {
        const existing = index.entries.get(id);
        if (!existing) return false;
        index.entries.set(id, { ...existing, ...fields });
        return true;
      },
    }) as FakeIndex & ComplianceIndex;
    index.entries.set(entry.id, entry);
    const starter = new FakeStarter();
    return { adapter, store, starter, deps: { ...deps, index, starter } };
  }
  const archived: IndexEntry = {
    id: recordingId(REF),
    ...REF,
    status: 'archived',
    startedAt: DATE,
    key: UNDATED,
    // What was archived: the provider's bytes, so a re-download restores them.
    bytes: WAV.length,
    sha256: createHash('sha256').update(WAV).digest('hex'),
    updatedAt: DATE,
  };

  it('re-downloads a broken object into the entry’s own key, whatever its date folder', async () => {
    const { store, deps } = repairDeps(archived);
    const gap = { kind: 'object-missing' as const, detail: 'gone', ref: REF, entry: archived };
    const result = await repairGaps([gap], deps);
    expect(result).toMatchObject({ rearchived: [archived.id], failed: [] });
    expect(store.writes).toEqual([UNDATED]);
  });

  it('hands a missing recording over with what its entry knows', async () => {
    const failed: IndexEntry = { ...archived, status: 'failed', key: undefined, round: 0 };
    const { starter, deps } = repairDeps(failed);
    await repairGaps([{ kind: 'missing', detail: 'ready', ref: REF, entry: failed }], deps);
    expect(starter.calls.map((call) => call.input)).toEqual([
      { ref: REF, hints: { startedAt: DATE }, round: 1 },
    ]);
  });
});
