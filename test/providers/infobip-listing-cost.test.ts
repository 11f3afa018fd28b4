/**
 * What an Infobip sweep and check cost in requests. The API has no time filter; listed newest
 * first (the reference's example) a sweep stops at the first page older than its window, listed
 * otherwise it reads every page. A check never scans: it answers from the listing entry a sweep
 * or callback handed over, the callback's `messageId`, or the file's own URL.
 */
import { describe, expect, it } from 'vitest';
import type { AccountOf } from '../../lambdas/core/config.ts';
import { RecordingGoneError } from '../../lambdas/core/errors.ts';
import type { Recording } from '../../lambdas/core/recording.ts';
import { createInfobipAdapter } from '../../lambdas/providers/infobip.ts';
import {
  InfobipSimulator,
  type InfobipSimulatorOptions,
  infobipSampleRecordings,
  infobipSimulatorAccount,
} from '../../local/simulators/infobip.ts';
import { FAST } from '../helpers/retry.ts';
import { listAll } from '../helpers/streams.ts';
import { started, teardown } from '../helpers/teardown.ts';

const START = Date.UTC(2026, 10, 1, 0, 0, 0);
const MINUTE = 60_000;
// 500 files a minute apart, 25 pages of 20.
const FILES = infobipSampleRecordings(500, { start: new Date(START), spacingMs: MINUTE });

const later = teardown('all');
const sim = (options: InfobipSimulatorOptions = {}) =>
  started(new InfobipSimulator({ recordings: FILES, ...options }), later);

const listed = (account: AccountOf<'infobip'>, since: string): Promise<Recording[]> =>
  listAll(createInfobipAdapter(account, { ...FAST, pageSize: 20 }), { since });

describe('infobip listing cost', () => {
  // The last 30 minutes of the 500: what a steady-state sweep (cursor minus overlap) asks for.
  const since = new Date(START + 470 * MINUTE).toISOString();

  it('newest first: stops after the first page wholly older than the window (3 requests, not 26)', async () => {
    const s = await sim();
    const recordings = await listed(infobipSimulatorAccount(s), since);
    expect(recordings).toHaveLength(30);
    expect(recordings.every((recording) => (recording.startedAt ?? '') >= since)).toBe(true);
    // Page 1: 499…480, page 2: 479…460 (reaches the window), page 3 holds nothing newer: stop.
    expect(s.count('list')).toBe(3);
  });

  it('in any other order: reads every page, and still finds everything in the window', async () => {
    const s = await sim({ order: 'oldest-first' });
    const recordings = await listed(infobipSimulatorAccount(s), since);
    expect(recordings).toHaveLength(30);
    expect(s.count('list')).toBe(26);
  });

  it('newest first, a file arriving during the listing is not taken for disorder', async () => {
    const s = await sim();
    const adapter = createInfobipAdapter(infobipSimulatorAccount(s), { ...FAST, pageSize: 20 });
    const out: Recording[] = [];
    for await (const recording of adapter.list({ since })) {
      // After page 1, two new files arrive: page 2 starts with the last two of page 1 again.
      if (out.length === 0) {
        for (const file of infobipSampleRecordings(2, {
          prefix: 'late',
          start: new Date(START + 600 * MINUTE),
        }))
          s.add(file);
      }
      out.push(recording);
    }
    expect(out).toHaveLength(30);
    expect(s.count('list')).toBe(3);
  });
});

describe('infobip check cost', () => {
  it('answers from a handed-over entry with no request, from a messageId with one, else from page 1 or the file', async () => {
    const s = await sim();
    const adapter = createInfobipAdapter(infobipSimulatorAccount(s), FAST);
    const file = FILES[42];
    if (!file) throw new Error('no sample file');
    const ref = { accountId: 'infobip-sim', provider: 'infobip' as const, providerRecordingId: file.id };
    const counts = () => ({ list: s.count('list'), status: s.count('status'), audio: s.count('audio') });

    // A callback's `files[]` entry, as a sweep's listing would hand it over.
    const [announced] = adapter.parseWebhook({
      body: JSON.stringify({ files: [s.fileEntry(file)] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(announced?.callId).toBe(file.callId);
    const fromEntry = await adapter.get({ ...ref, callId: announced?.callId }, announced?.hints);
    expect(fromEntry).toMatchObject({ readiness: 'ready', startedAt: file.startedAt.toISOString() });
    expect(counts()).toEqual({ list: 0, status: 0, audio: 0 });

    // `{recordingId, callId}`: one page of that message's files.
    const fromMessage = await adapter.get({ ...ref, callId: file.callId });
    expect(fromMessage).toMatchObject({ readiness: 'ready', from: file.from.replace(/^\+/, '') });
    expect(counts()).toEqual({ list: 0, status: 1, audio: 0 });

    // `{recordingId}` alone, for a file past the first page: that page, then the file's own
    // URL, never a scan of the 25 pages.
    expect((await adapter.get(ref)).readiness).toBe('ready');
    expect(counts()).toEqual({ list: 1, status: 1, audio: 1 });

    // Expired since it was listed: the download (the file's URL) finds out, and it is gone.
    s.markDeleted(file.id);
    expect((await adapter.get(ref)).readiness).toBe('gone');
    await expect(adapter.download(ref)).rejects.toBeInstanceOf(RecordingGoneError);
  });
});
