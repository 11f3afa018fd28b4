import { describe, expect, it } from 'vitest';
import { IncompleteDownloadError, InvalidAudioError } from '../../lambdas/core/errors.ts';
import { recordingId } from '../../lambdas/core/ids.ts';
import {
  type ArchiveResult,
  archiveRecording,
  checkReadiness,
  describeError,
  type IngestDeps,
  type IngestState,
  recordOutcome,
} from '../../lambdas/core/ingest.ts';
import type { RecordingRef } from '../../lambdas/core/recording.ts';
import { sha256 } from '../helpers/streams.ts';
import { ACCOUNT, audioDownload, FakeAdapter, FakeIndex, FakeStore, recording } from './fakes.ts';

const REF: RecordingRef = {
  accountId: ACCOUNT.id,
  provider: 'voipbin',
  providerRecordingId: 'rec-1',
  callId: 'call-1',
};
const T0 = Date.parse('2026-11-01T09:00:00.000Z');
/** REF listed as ready, as the check step hands it to the archive step. */
const READY: IngestState = {
  ref: REF,
  recording: { ...REF, direction: 'inbound', readiness: 'ready', startedAt: '2026-11-01T00:00:00.000Z' },
};

/** An object in the store as the archive step writes it: tagged with the recording it holds. */
function putObject(store: FakeStore, key: string, body: Buffer, contentType: string, owner: RecordingRef) {
  store.objects.set(key, { body, contentType, metadata: { 'callvault-recording-id': recordingId(owner) } });
}

function setup(readiness = { initialDelaySeconds: 30, maxDelaySeconds: 900, deadlineSeconds: 3600 }) {
  const adapter = new FakeAdapter();
  const index = new FakeIndex();
  const store = new FakeStore();
  const clock = { now: T0 };
  const adapterCalls: string[] = [];
  const deps: IngestDeps = {
    adapterFor: async (accountId) => {
      adapterCalls.push(accountId);
      return adapter;
    },
    index,
    store,
    readiness,
    now: () => new Date(clock.now),
  };
  return { adapter, index, store, clock, deps, adapterCalls };
}

describe('checkReadiness', () => {
  it.each(['archived'] as const)('is done without asking the provider when already %s', async (status) => {
    const { index, deps, adapter, adapterCalls } = setup();
    await index.put({
      id: recordingId(REF),
      accountId: REF.accountId,
      provider: 'voipbin',
      providerRecordingId: 'rec-1',
      status,
      updatedAt: 'x',
    });
    const next = await checkReadiness({ ref: REF }, deps);
    expect(next.decision).toBe('done');
    expect(next.reason).toBe(`already ${status}`);
    expect(adapterCalls).toEqual([]);
    expect(adapter.gets).toEqual([]);
  });

  it('archives a ready recording, merging webhook hints under the provider fields', async () => {
    const { deps, adapter, index } = setup();
    await index.put({
      id: recordingId(REF),
      accountId: REF.accountId,
      provider: 'voipbin',
      providerRecordingId: 'rec-1',
      status: 'failed',
      updatedAt: 'x',
    });
    adapter.current = (ref) =>
      recording(ref.providerRecordingId, {
        from: '+15550001',
        startedAt: '2026-11-01T08:59:00.000Z',
        durationSec: undefined,
      });
    const state: IngestState = {
      ref: REF,
      hints: { to: '+15550002', from: '+1999', durationSec: 12 },
      error: { Error: 'Old', Cause: 'old' },
    };
    const next = await checkReadiness(state, deps);
    expect(next.decision).toBe('archive');
    expect(next.attempt).toBe(1);
    expect(next.firstCheckedAt).toBe(new Date(T0).toISOString());
    expect(next.waitSeconds).toBe(30);
    expect(next.error).toBeUndefined();
    expect(next.recording).toMatchObject({
      from: '+15550001',
      to: '+15550002',
      durationSec: 12,
      startedAt: '2026-11-01T08:59:00.000Z',
    });
    expect(next.recording?.raw).toBe(JSON.stringify({ id: 'rec-1' }));
    expect(adapter.gets).toEqual([REF]);
  });

  it('truncates a huge raw record', async () => {
    const { deps, adapter } = setup();
    adapter.current = (ref) => recording(ref.providerRecordingId, { raw: { blob: 'x'.repeat(50_000) } });
    const next = await checkReadiness({ ref: REF }, deps);
    expect(next.recording?.raw?.length).toBe(16_001);
    expect(next.recording?.raw?.endsWith('…')).toBe(true);
  });

  it('skips a recording that is gone, with the provider status in the reason', async () => {
    const { deps, adapter } = setup();
    adapter.current = (ref) =>
      recording(ref.providerRecordingId, { readiness: 'gone', providerStatus: 'deleted' });
    const next = await checkReadiness({ ref: REF }, deps);
    expect(next.decision).toBe('skip');
    expect(next.reason).toBe('gone at the provider (status: deleted)');
    adapter.current = (ref) => recording(ref.providerRecordingId, { readiness: 'gone' });
    expect((await checkReadiness({ ref: REF }, deps)).reason).toBe(
      'gone at the provider (deleted or expired)',
    );
  });

  it('waits with a doubling backoff capped at maxDelaySeconds', async () => {
    const { deps, adapter, clock } = setup({
      initialDelaySeconds: 30,
      maxDelaySeconds: 900,
      deadlineSeconds: 172_800,
    });
    adapter.current = (ref) => recording(ref.providerRecordingId, { readiness: 'pending' });
    let state: IngestState = { ref: REF };
    const waits: number[] = [];
    for (let check = 0; check < 7; check += 1) {
      state = await checkReadiness(state, deps);
      expect(state.decision).toBe('wait');
      waits.push(state.waitSeconds ?? -1);
      clock.now += (state.waitSeconds ?? 0) * 1000;
    }
    expect(waits).toEqual([30, 60, 120, 240, 480, 900, 900]);
    expect(state.attempt).toBe(7);
    expect(state.firstCheckedAt).toBe(new Date(T0).toISOString());
  });

  it('caps the wait at the deadline but never below initialDelaySeconds, and times out once it has passed', async () => {
    const { deps, adapter, clock } = setup({
      initialDelaySeconds: 30,
      maxDelaySeconds: 900,
      deadlineSeconds: 1000,
    });
    adapter.current = (ref) =>
      recording(ref.providerRecordingId, { readiness: 'pending', providerStatus: 'recording' });
    const firstCheckedAt = new Date(T0).toISOString();
    clock.now = T0 + 950_000;
    const late = await checkReadiness({ ref: REF, attempt: 5, firstCheckedAt }, deps);
    expect(late.decision).toBe('wait');
    expect(late.waitSeconds).toBe(50);

    clock.now = T0 + 999_700;
    const almost = await checkReadiness({ ref: REF, attempt: 6, firstCheckedAt }, deps);
    expect(almost.decision).toBe('wait');
    expect(almost.waitSeconds).toBe(30);

    clock.now = T0 + 1_000_000;
    const over = await checkReadiness({ ref: REF, attempt: 7, firstCheckedAt }, deps);
    expect(over.decision).toBe('timeout');
    expect(over.reason).toBe('still not ready after 1000 s (provider status: recording)');
    expect(over.waitSeconds).toBeGreaterThanOrEqual(1);
  });

  it('ends "listed as ready, but the audio is not there" with a timeout once the deadline has passed', async () => {
    const { deps, clock } = setup({ initialDelaySeconds: 30, maxDelaySeconds: 900, deadlineSeconds: 60 });
    const firstCheckedAt = new Date(T0).toISOString();
    const notReady = { Error: 'RecordingNotReadyError', Cause: 'no audio yet' };
    clock.now = T0 + 59_000;
    const before = await checkReadiness({ ref: REF, attempt: 3, firstCheckedAt, error: notReady }, deps);
    expect(before.decision).toBe('archive');
    expect(before.waitSeconds).toBe(30);
    clock.now = T0 + 60_000;
    const after = await checkReadiness({ ref: REF, attempt: 4, firstCheckedAt, error: notReady }, deps);
    expect(after.decision).toBe('timeout');
    expect(after.reason).toBe('listed as ready, but the audio was still not there after 60 s');
  });

  it('archives a recording that became ready even after the deadline', async () => {
    const { deps, clock } = setup({ initialDelaySeconds: 30, maxDelaySeconds: 900, deadlineSeconds: 60 });
    clock.now = T0 + 120_000;
    const next = await checkReadiness(
      { ref: REF, attempt: 3, firstCheckedAt: new Date(T0).toISOString() },
      deps,
    );
    expect(next.decision).toBe('archive');
    expect(next.attempt).toBe(4);
  });
});

describe('archiveRecording', () => {
  it('streams the audio into the store, counted and hashed', async () => {
    const { deps, adapter, store } = setup();
    const audio = Buffer.concat([Buffer.from('RIFF\x10\0\0\0WAVEfmt ', 'latin1'), Buffer.alloc(5000, 7)]);
    // A first chunk shorter than the sniffed head.
    adapter.body = () => audioDownload([audio.subarray(0, 3), audio.subarray(3, 9), audio.subarray(9)]);
    const state: IngestState = {
      ref: REF,
      recording: { ...REF, direction: 'inbound', readiness: 'ready', startedAt: '2026-10-31T23:59:59.000Z' },
    };
    const result = await archiveRecording(state, deps);
    const key = 'recordings/vb-main/2026/10/31/rec-1.wav';
    expect(result).toEqual({
      bucket: 'archive-bucket',
      key,
      bytes: audio.length,
      sha256: sha256(audio),
      contentType: 'audio/wav',
      recovered: false,
    });
    expect(store.objects.get(key)?.body.equals(audio)).toBe(true);
    expect(store.objects.get(key)?.metadata).toEqual({
      'callvault-account': 'vb-main',
      'callvault-provider': 'voipbin',
      'callvault-recording-id': recordingId(REF),
      'callvault-format': 'wav',
    });
  });

  it('files a recording without a start date as undated and names the format from the bytes', async () => {
    const { deps, adapter, store } = setup();
    const audio = Buffer.from([0xff, 0xfb, 0x90, 0x64, ...Array.from({ length: 100 }, (_, i) => i)]);
    adapter.body = () => audioDownload([audio], 'application/octet-stream');
    const result = await archiveRecording({ ref: REF }, deps);
    expect(result.key).toBe('recordings/vb-main/undated/rec-1.mp3');
    expect(result.contentType).toBe('audio/mpeg');
    expect([...store.objects.keys()]).toEqual([result.key]);
  });

  it('refuses a body that is not audio and writes nothing', async () => {
    const { deps, adapter, store } = setup();
    adapter.body = () =>
      audioDownload([Buffer.from('<?xml version="1.0"?><Error>Not found</Error>')], 'audio/wav');
    const error = await archiveRecording({ ref: REF }, deps).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidAudioError);
    expect((error as Error).message).toContain('voipbin account "vb-main"');
    expect((error as Error).message).toContain('rec-1 is not audio');
    expect((error as Error).message).toContain('<?xml');
    expect(store.writes).toEqual([]);
    expect(store.objects.size).toBe(0);
  });

  it('refuses an empty body', async () => {
    const { deps, adapter, store } = setup();
    adapter.body = () => audioDownload([]);
    await expect(archiveRecording({ ref: REF }, deps)).rejects.toBeInstanceOf(InvalidAudioError);
    expect(store.objects.size).toBe(0);
  });

  it('does not complete an object from a body shorter than announced', async () => {
    const { deps, adapter, store } = setup();
    adapter.body = () =>
      audioDownload([Buffer.from('RIFF\0\0\0\0WAVE'), Buffer.alloc(100)], 'audio/wav', 1000);
    await expect(archiveRecording({ ref: REF }, deps)).rejects.toBeInstanceOf(IncompleteDownloadError);
    expect(store.objects.size).toBe(0);
  });

  it("downloads a recording whose key prefix only another recording's object shares (X and X.1)", async () => {
    const { deps, adapter, store } = setup();
    const other = { ...REF, providerRecordingId: 'rec-1.1' };
    const otherKey = 'recordings/vb-main/2026/11/01/rec-1.1.wav';
    putObject(store, otherKey, Buffer.from('RIFF\0\0\0\0WAVEother'), 'audio/wav', other);
    // An object at this recording's own key that names another recording is not its archive.
    const ownKey = 'recordings/vb-main/2026/11/01/rec-1.mp3';
    putObject(store, ownKey, Buffer.from('ID3foreign'), 'audio/mpeg', other);
    const result = await archiveRecording(READY, deps);
    expect(result.recovered).toBe(false);
    expect(adapter.downloads).toHaveLength(1);
    expect(result.key).toBe('recordings/vb-main/2026/11/01/rec-1.wav');
    expect(store.objects.get(result.key)?.metadata['callvault-recording-id']).toBe(recordingId(REF));
  });

  it('recovers an object already in the store: re-hashed from the store, provider not asked', async () => {
    const { deps, adapter, store } = setup();
    const stored = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(300, 1)]);
    const key = 'recordings/vb-main/2026/11/01/rec-1.mp3';
    putObject(store, key, stored, 'audio/mpeg', REF);
    const result = await archiveRecording(READY, deps);
    expect(result).toEqual({
      bucket: 'archive-bucket',
      key,
      bytes: stored.length,
      sha256: sha256(stored),
      contentType: 'audio/mpeg',
      recovered: true,
    });
    expect(adapter.downloads).toEqual([]);
    expect(store.writes).toEqual([]);
  });
});

describe('describeError', () => {
  it('reads the AWS Lambda JSON cause', () => {
    const cause = JSON.stringify({ errorType: 'ProviderAuthError', errorMessage: 'refused', trace: [] });
    expect(describeError({ Error: 'ProviderAuthError', Cause: cause })).toEqual({
      name: 'ProviderAuthError',
      message: 'refused',
    });
    expect(describeError({ Cause: cause })).toEqual({ name: 'ProviderAuthError', message: 'refused' });
  });

  it('takes a plain cause as the message', () => {
    expect(describeError({ Error: 'InvalidAudioError', Cause: 'not audio' })).toEqual({
      name: 'InvalidAudioError',
      message: 'not audio',
    });
    expect(describeError({ Error: 'X', Cause: '{"no":"message"}' })).toEqual({
      name: 'X',
      message: '{"no":"message"}',
    });
    expect(describeError({ Error: 'X', Cause: 'null' })).toEqual({ name: 'X', message: 'null' });
    expect(describeError({ Error: 'States.Timeout' })).toEqual({
      name: 'States.Timeout',
      message: 'States.Timeout',
    });
    expect(describeError({})).toEqual({ name: undefined, message: 'unknown failure' });
    expect(describeError(undefined)).toEqual({ message: 'unknown failure' });
  });
});

describe('recordOutcome', () => {
  const archive: ArchiveResult = {
    bucket: 'archive-bucket',
    key: 'recordings/vb-main/undated/rec-1.zip',
    bytes: 10,
    sha256: 'ab'.repeat(32),
    contentType: 'application/zip',
    recovered: false,
  };

  it('writes an archived entry with the archive fields and no raw when none was kept', async () => {
    const { index, deps } = setup();
    const state: IngestState = {
      ref: REF,
      recording: {
        ...REF,
        callId: 'call-9',
        direction: 'outbound',
        readiness: 'ready',
        from: '+1',
        durationSec: 3,
      },
      archive,
    };
    const { entry, written } = await recordOutcome(state, 'archived', deps);
    expect(written).toBe(true);
    const now = new Date(T0).toISOString();
    expect(entry).toMatchObject({
      id: recordingId(REF),
      status: 'archived',
      callId: 'call-9',
      direction: 'outbound',
      from: '+1',
      durationSec: 3,
      bucket: archive.bucket,
      key: archive.key,
      bytes: 10,
      sha256: archive.sha256,
      container: 'zip',
      archivedAt: now,
      updatedAt: now,
    });
    expect(entry.raw).toBeUndefined();
    expect(entry.reason).toBeUndefined();
    expect(index.entries.get(recordingId(REF))?.status).toBe('archived');
  });

  it('needs the archive result for an archived outcome', async () => {
    const { deps, index } = setup();
    await expect(recordOutcome({ ref: REF }, 'archived', deps)).rejects.toThrow(/needs the archive result/);
    expect(index.puts).toEqual([]);
  });

  it('records a failure from the Catch error, with only the ref known', async () => {
    const { deps } = setup();
    const cause = JSON.stringify({ errorType: 'ProviderUnavailableError', errorMessage: 'HTTP 503' });
    const { entry } = await recordOutcome(
      { ref: REF, error: { Error: 'ProviderUnavailableError', Cause: cause } },
      'failed',
      deps,
    );
    expect(entry).toMatchObject({
      status: 'failed',
      reason: 'HTTP 503',
      errorName: 'ProviderUnavailableError',
      callId: 'call-1',
    });
    expect(entry.startedAt).toBeUndefined();
    expect(entry.archivedAt).toBeUndefined();
  });

  it('prefers the state reason for a skip', async () => {
    const { deps } = setup();
    const { entry } = await recordOutcome(
      { ref: REF, reason: 'gone at the provider (deleted or expired)' },
      'skipped',
      deps,
    );
    expect(entry).toMatchObject({ status: 'skipped', reason: 'gone at the provider (deleted or expired)' });
    expect(entry.bucket).toBeUndefined();
  });
});
