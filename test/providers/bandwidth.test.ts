import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountOf } from '../../lambdas/core/config.ts';
import * as errors from '../../lambdas/core/errors.ts';
import type { LogFields, Logger } from '../../lambdas/core/log.ts';
import type { ProviderAdapter } from '../../lambdas/core/ports.ts';
import type { RecordingRef } from '../../lambdas/core/recording.ts';
import type { AdapterOptions } from '../../lambdas/providers/adapter.ts';
import { BANDWIDTH_LIST_CAP, createBandwidthAdapter } from '../../lambdas/providers/bandwidth.ts';
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../../local/simulators/bandwidth.ts';
import { type SimRecording, sampleRecordings } from '../../local/simulators/base.ts';
import { FAST } from '../helpers/retry.ts';
import { collect, drain } from '../helpers/streams.ts';

const START = new Date('2026-11-01T09:00:00.000Z');
const HOUR = 3_600_000;

function ref(sim: BandwidthSimulator, id: string, account = 'bandwidth-sim'): RecordingRef {
  const recording = sim.recordings.get(id);
  return { accountId: account, provider: 'bandwidth', providerRecordingId: id, callId: recording?.callId };
}

/** Starts a simulator and an adapter on it; stopped by the returned function. */
async function setup(
  recordings: SimRecording[],
  adapterOptions: AdapterOptions = FAST,
  accountPatch: Partial<AccountOf<'bandwidth'>> = {},
): Promise<{ sim: BandwidthSimulator; adapter: ProviderAdapter; stop: () => Promise<void> }> {
  const sim = new BandwidthSimulator({ recordings });
  await sim.start();
  const adapter = createBandwidthAdapter(
    { ...bandwidthSimulatorAccount(sim), ...accountPatch },
    adapterOptions,
  );
  return { sim, adapter, stop: () => sim.stop() };
}

describe('Bandwidth listing: 1000 per answer, no paging', () => {
  it('lists 2500 recordings exactly once by advancing minStartTime past full answers', async () => {
    const { sim, adapter, stop } = await setup(sampleRecordings(2500, { start: START, spacingMs: 1000 }));
    try {
      const listed = await collect(adapter.list({}));
      expect(listed).toHaveLength(2500);
      expect(new Set(listed.map((r) => r.providerRecordingId)).size).toBe(2500);
      expect(listed.map((r) => r.providerRecordingId)).toEqual([...sim.recordings.keys()]);
      // 0-999, then 999-1998 (the boundary instant asked again), then 1998-2499 (short: done);
      // then the conferences (none here).
      expect(sim.listQueries).toHaveLength(3);
      expect(sim.conferenceQueries).toHaveLength(1);
      expect(sim.count('list')).toBe(4);
      expect(sim.listQueries[0]).toBe('');
      expect(sim.listQueries[1]).toBe(`?minStartTime=${encodeURIComponent('2026-11-01T09:16:39.000Z')}`);
      expect(sim.listQueries[2]).toBe('?minStartTime=2026-11-01T09%3A33%3A18.000Z');
    } finally {
      await stop();
    }
  });

  it('lists every recording when equal start times straddle the cap boundary', async () => {
    const recordings = sampleRecordings(1100, { start: START, spacingMs: 1000 });
    const shared = new Date(START.getTime() + 995_000);
    for (const recording of recordings.slice(995, 1011)) recording.startedAt = shared;
    const { sim, adapter, stop } = await setup(recordings);
    try {
      const listed = await collect(adapter.list({}));
      const ids = listed.map((r) => r.providerRecordingId);
      expect(ids).toHaveLength(1100);
      expect(new Set(ids)).toEqual(new Set(recordings.map((r) => r.id)));
      expect(sim.listQueries).toHaveLength(2);
      expect(sim.listQueries[1]).toBe(`?minStartTime=${encodeURIComponent(shared.toISOString())}`);
    } finally {
      await stop();
    }
  });

  it('refuses to drop recordings when a full answer shares one start time', async () => {
    const recordings = sampleRecordings(BANDWIDTH_LIST_CAP + 5, { start: START, spacingMs: 0 });
    const { adapter, stop } = await setup(recordings);
    try {
      const error = await collect(adapter.list({})).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errors.ProviderResponseError);
      expect((error as Error).message).toContain('2026-11-01T09:00:00.000Z');
      expect((error as Error).message).toContain('more than 1000 recordings');
      expect((error as Error).message).toContain('bandwidth account "bandwidth-sim"');
    } finally {
      await stop();
    }
  });

  it('filters to the window: since inclusive, until exclusive, sent URL-encoded', async () => {
    const { sim, adapter, stop } = await setup(sampleRecordings(10, { start: START, spacingMs: 60_000 }));
    try {
      const listed = await collect(
        adapter.list({ since: '2026-11-01T09:03:00.000Z', until: '2026-11-01T04:07:00-05:00' }),
      );
      expect(listed.map((r) => r.startedAt)).toEqual([
        '2026-11-01T09:03:00.000Z',
        '2026-11-01T09:04:00.000Z',
        '2026-11-01T09:05:00.000Z',
        '2026-11-01T09:06:00.000Z',
      ]);
      expect(sim.listQueries).toEqual([
        '?minStartTime=2026-11-01T09%3A03%3A00.000Z&maxStartTime=2026-11-01T09%3A07%3A00.000Z',
      ]);
      expect(await collect(adapter.list({ since: '2026-11-01T10:00:00Z' }))).toEqual([]);
    } finally {
      await stop();
    }
  });
});

describe('Bandwidth recordings', () => {
  let sim: BandwidthSimulator;
  let adapter: ProviderAdapter;
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  const logger: Logger = {
    info() {},
    warn: (message, fields) => warnings.push({ message, fields }),
    error() {},
  };

  beforeAll(async () => {
    const [plain, long, pending, gone, ...rest] = sampleRecordings(10, { start: START, spacingMs: 60_000 });
    if (!plain || !long || !pending || !gone || rest.length !== 6) throw new Error('fixture');
    long.durationSec = 62.5;
    long.channels = 2;
    long.extra = {
      parentCallId: 'c-parent-1',
      transferCallerId: '+15552311779',
      transferTo: '+15552311780',
      fileFormat: 'WAV',
    };
    pending.readyAt = Date.now() + HOUR;
    const statuses = ['partial', 'error', 'absent', 'deleted', 'queued-for-archive', 'processing'];
    rest.forEach((recording, index) => {
      recording.extra = { status: statuses[index] as string };
    });
    sim = new BandwidthSimulator({ recordings: [plain, long, pending, gone, ...rest] });
    await sim.start();
    // A non-UTC account zone must not move Bandwidth's Z-suffixed times.
    adapter = createBandwidthAdapter(
      { ...bandwidthSimulatorAccount(sim), timeZone: 'America/Chicago' },
      { ...FAST, logger },
    );
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('normalizes the metadata and keeps the Bandwidth-only fields in raw', async () => {
    const recording = await adapter.get(ref(sim, 'rec-00001'));
    expect(recording).toMatchObject({
      accountId: 'bandwidth-sim',
      provider: 'bandwidth',
      providerRecordingId: 'rec-00001',
      callId: 'call-rec-1',
      from: '+15550000001',
      to: '+16660000001',
      direction: 'inbound',
      startedAt: '2026-11-01T09:01:00.000Z',
      endedAt: '2026-11-01T09:02:02.500Z',
      durationSec: 62.5,
      format: 'wav',
      channels: 2,
      readiness: 'ready',
      providerStatus: 'complete',
    });
    expect(recording.raw).toMatchObject({
      duration: 'PT1M2.5S',
      parentCallId: 'c-parent-1',
      transferCallerId: '+15552311779',
      transferTo: '+15552311780',
      transcription: null,
      mediaUrl: expect.stringMatching(/^https {2}:\/\//),
    });
    const outbound = await adapter.get(ref(sim, 'rec-00000'));
    expect(outbound).toMatchObject({
      direction: 'outbound',
      durationSec: 0.5,
      startedAt: '2026-11-01T09:00:00.000Z',
    });
  });

  it('maps status words to readiness and keeps unknown words verbatim', async () => {
    const listed = await collect(adapter.list({}));
    const byId = new Map(listed.map((r) => [r.providerRecordingId, r]));
    const summary = [...byId.values()].map((r) => [r.providerRecordingId, r.providerStatus, r.readiness]);
    expect(summary).toEqual([
      ['rec-00000', 'complete', 'ready'],
      ['rec-00001', 'complete', 'ready'],
      ['rec-00002', 'processing', 'pending'],
      ['rec-00003', 'complete', 'ready'],
      ['rec-00004', 'partial', 'pending'],
      ['rec-00005', 'error', 'gone'],
      ['rec-00006', 'absent', 'gone'],
      ['rec-00007', 'deleted', 'gone'],
      ['rec-00008', 'queued-for-archive', 'pending'],
      ['rec-00009', 'processing', 'pending'],
    ]);
    expect(warnings.some((w) => w.fields?.status === 'queued-for-archive')).toBe(true);
  });

  it('goes from pending to ready: download waits, then matches the served bytes', async () => {
    const pending = ref(sim, 'rec-00002');
    expect((await adapter.get(pending)).readiness).toBe('pending');
    await expect(adapter.download(pending)).rejects.toBeInstanceOf(errors.RecordingNotReadyError);
    sim.markReady('rec-00002');
    expect((await adapter.get(pending)).readiness).toBe('ready');
    const result = await drain(await adapter.download(pending));
    expect(result.sha256).toBe(sim.audio('rec-00002').sha256());
    expect(result.bytes).toBe(sim.audio('rec-00002').size);
  });

  it('downloads stereo audio byte-exact, from baseUrl and never from mediaUrl', async () => {
    const before = sim.count('audio');
    const download = await adapter.download(ref(sim, 'rec-00001'));
    expect(download.contentType).toBe('audio/vnd.wave');
    const result = await drain(download);
    expect(result).toEqual({ bytes: sim.audio('rec-00001').size, sha256: sim.audio('rec-00001').sha256() });
    expect(sim.count('audio')).toBe(before + 1);
    expect(sim.requests.at(-1)?.path).toBe(
      '/api/v2/accounts/9900000/calls/call-rec-1/recordings/rec-00001/media',
    );
  });

  it('treats error/absent statuses and vanished recordings as gone', async () => {
    await expect(adapter.download(ref(sim, 'rec-00005'))).rejects.toBeInstanceOf(errors.RecordingGoneError);
    const missing = { ...ref(sim, 'rec-00000'), providerRecordingId: 'r-never-existed' };
    expect(await adapter.get(missing)).toMatchObject({
      readiness: 'gone',
      providerRecordingId: 'r-never-existed',
    });
    await expect(adapter.download(missing)).rejects.toBeInstanceOf(errors.RecordingGoneError);
    // The wrong call id addresses nothing: Bandwidth answers 404.
    expect((await adapter.get({ ...ref(sim, 'rec-00000'), callId: 'c-other' })).readiness).toBe('gone');
  });

  it('needs the call id to address a recording', async () => {
    const noCall: RecordingRef = {
      accountId: 'bandwidth-sim',
      provider: 'bandwidth',
      providerRecordingId: 'rec-00000',
    };
    for (const operation of [adapter.get(noCall), adapter.download(noCall), adapter.delete(noCall)]) {
      const error = await operation.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errors.ProviderResponseError);
      expect((error as Error).message).toMatch(/call id/);
    }
  });

  it('deletes a recording, and deleting it again succeeds', async () => {
    const target = ref(sim, 'rec-00003');
    const deletes = sim.count('delete');
    await adapter.delete(target);
    expect(sim.recordings.get('rec-00003')?.deleted).toBe(true);
    expect((await adapter.get(target)).readiness).toBe('gone');
    await expect(adapter.download(target)).rejects.toBeInstanceOf(errors.RecordingGoneError);
    await adapter.delete(target);
    expect(sim.count('delete')).toBe(deletes + 2);
    expect(sim.requests.filter((r) => r.endpoint === 'delete').map((r) => r.status)).toEqual([204, 404]);
    expect(adapter.canDelete(target)).toBe(true);
  });
  it('reports a recording whose media alone was deleted as gone', async () => {
    const path = '/api/v2/accounts/9900000/calls/call-rec-0/recordings/rec-00000/media';
    const answer = await fetch(`${sim.baseUrl}${path}`, {
      method: 'DELETE',
      headers: {
        authorization: `Basic ${Buffer.from(`${sim.username}:${sim.password}`).toString('base64')}`,
      },
    });
    expect(answer.status).toBe(204);
    expect(await adapter.get(ref(sim, 'rec-00000'))).toMatchObject({
      readiness: 'gone',
      providerStatus: 'deleted',
    });
    await expect(adapter.download(ref(sim, 'rec-00000'))).rejects.toBeInstanceOf(errors.RecordingGoneError);
  });
});

describe('Bandwidth faults', () => {
  let sim: BandwidthSimulator;
  let adapter: ProviderAdapter;
  const target = (): RecordingRef => ref(sim, 'rec-00000');

  beforeAll(async () => {
    ({ sim, adapter } = await setup(sampleRecordings(3, { start: START, durationSec: 2 })));
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('honours a rate limit on the listing and retries it', async () => {
    sim.clearFaults();
    sim.inject({ kind: 'rate-limit', on: 'list', retryAfterSeconds: 1 });
    const before = sim.count('list');
    const began = Date.now();
    expect(await collect(adapter.list({}))).toHaveLength(3);
    expect(Date.now() - began).toBeGreaterThanOrEqual(950);
    // The refused call listing, its retry, and the conference listing.
    expect(sim.count('list')).toBe(before + 3);
  });

  it('retries server errors and resets', async () => {
    sim.clearFaults();
    sim.inject({ kind: 'server-error', on: 'status', times: 2 });
    expect((await adapter.get(target())).readiness).toBe('ready');
    sim.inject({ kind: 'reset', on: 'audio' });
    const result = await drain(await adapter.download(target()));
    expect(result.sha256).toBe(sim.audio('rec-00000').sha256());
    sim.inject({ kind: 'server-error', on: 'delete', status: 500 });
    await adapter.delete(ref(sim, 'rec-00002'));
    expect(sim.recordings.get('rec-00002')?.deleted).toBe(true);
  });

  it('fails a truncated download and completes a slow one with the right hash', async () => {
    sim.clearFaults();
    sim.inject({ kind: 'truncate', on: 'audio', fraction: 0.4 });
    const truncated = await adapter.download(target());
    await expect(drain(truncated)).rejects.toBeInstanceOf(errors.IncompleteDownloadError);
    sim.inject({ kind: 'slow', on: 'audio', chunkBytes: 8192, chunkDelayMs: 5 });
    const slow = await drain(await adapter.download(target()));
    expect(slow).toEqual({ bytes: sim.audio('rec-00000').size, sha256: sim.audio('rec-00000').sha256() });
  });

  it('names the account and provider for garbage bodies', async () => {
    sim.clearFaults();
    for (const on of ['list', 'status'] as const) {
      sim.inject({ kind: 'garbage', on });
      const error = await (on === 'list' ? collect(adapter.list({})) : adapter.get(target())).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(errors.ProviderResponseError);
      expect((error as Error).message).toContain('bandwidth account "bandwidth-sim"');
      expect((error as Error).message).toContain('not JSON');
    }
    sim.inject({ kind: 'garbage', on: 'audio' });
    await expect(adapter.download(target())).rejects.toBeInstanceOf(errors.IncompleteDownloadError);
  });

  it('refuses wrong credentials without leaking them', async () => {
    sim.clearFaults();
    const account = bandwidthSimulatorAccount(sim, 'bw-wrong');
    const secret = 'not-the-Real-pa55word';
    const wrong = createBandwidthAdapter({ ...account, auth: { ...account.auth, password: secret } }, FAST);
    const error = await wrong.get(target()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProviderAuthError);
    expect((error as Error).message).toContain('bw-wrong');
    expect((error as Error).message).not.toContain(secret);
    expect(sim.requests.at(-1)?.status).toBe(401);
    const otherAccount = createBandwidthAdapter(
      { ...account, auth: { ...account.auth, accountId: '1234567' } },
      FAST,
    );
    await expect(collect(otherAccount.list({}))).rejects.toBeInstanceOf(errors.ProviderAuthError);
    expect(sim.requests.at(-1)?.status).toBe(403);
    sim.inject({ kind: 'unauthorized', on: 'audio' });
    await expect(adapter.download(target())).rejects.toBeInstanceOf(errors.ProviderAuthError);
  });
});

describe('Bandwidth malformed bodies', () => {
  class OddBandwidthSimulator extends BandwidthSimulator {
    odd = '{}';
    protected override garbageBody(): { contentType: string; body: string } {
      return { contentType: 'application/json', body: this.odd };
    }
  }
  let sim: OddBandwidthSimulator;
  let adapter: ProviderAdapter;

  beforeAll(async () => {
    sim = new OddBandwidthSimulator({ recordings: sampleRecordings(2, { start: START }) });
    await sim.start();
    adapter = createBandwidthAdapter(bandwidthSimulatorAccount(sim), FAST);
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('rejects JSON that is not recording metadata, naming the request', async () => {
    // An object without recordingId is an item to skip, not a malformed answer (see
    // listing-item-without-id.test.ts); a list of non-objects is.
    for (const odd of ['{"recordings": []}', '[1, 2]', '"ok"', 'null']) {
      sim.odd = odd;
      sim.inject({ kind: 'garbage', on: 'list' });
      const error = await collect(adapter.list({})).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errors.ProviderResponseError);
      expect((error as Error).message).toContain('bandwidth account "bandwidth-sim"');
      expect((error as Error).message).toContain('/api/v2/accounts/***/recordings');
    }
  });

  it('accepts a single object where an array is documented', async () => {
    sim.odd = JSON.stringify({
      recordingId: 'r-solo',
      callId: 'c-solo',
      status: 'complete',
      startTime: '2026-11-01T09:00:00Z',
    });
    sim.inject({ kind: 'garbage', on: 'list' });
    const listed = await collect(adapter.list({}));
    expect(listed.map((r) => [r.providerRecordingId, r.callId, r.readiness])).toEqual([
      ['r-solo', 'c-solo', 'ready'],
    ]);
  });

  it('rejects single-recording metadata for another recording', async () => {
    sim.odd = JSON.stringify({ recordingId: 'r-other', callId: 'call-rec-0', status: 'complete' });
    sim.inject({ kind: 'garbage', on: 'status' });
    await expect(adapter.get(ref(sim, 'rec-00000'))).rejects.toBeInstanceOf(errors.ProviderResponseError);
  });
});

describe('Bandwidth webhooks', () => {
  let sim: BandwidthSimulator;
  let adapter: ProviderAdapter;

  beforeAll(() => {
    sim = new BandwidthSimulator({ recordings: sampleRecordings(2, { start: START, durationSec: 1.415 }) });
    adapter = createBandwidthAdapter(
      { ...bandwidthSimulatorAccount(sim), baseUrl: 'http://127.0.0.1:9' },
      FAST,
    );
  });

  it('turns recordingAvailable into a ref with its call id and hints', () => {
    const body = JSON.parse(sim.callbackBody('rec-00001')) as Record<string, unknown>;
    body.mediaUrl = 'https://evil.example/steal/media';
    const parsed = adapter.parseWebhook({
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(parsed).toEqual([
      {
        accountId: 'bandwidth-sim',
        provider: 'bandwidth',
        providerRecordingId: 'rec-00001',
        callId: 'call-rec-1',
        hints: {
          from: '+15550000001',
          to: '+16660000001',
          direction: 'inbound',
          startedAt: '2026-11-01T09:01:00.000Z',
          endedAt: '2026-11-01T09:01:01.415Z',
          durationSec: 1.415,
          format: 'wav',
          channels: 1,
          providerStatus: 'complete',
          readiness: 'ready',
        },
      },
    ]);
    expect(JSON.stringify(parsed)).not.toContain('evil.example');
  });

  it('reads the documented callback verbatim, with offsets converted to UTC', () => {
    const body = {
      eventType: 'recordingAvailable',
      eventTime: '2019-10-21T16:44:43.000Z',
      accountId: '9900000',
      applicationId: '04e88489-df02-4e34-a0ee-27a91849555f',
      from: '+15552311772',
      to: '+15552311778',
      direction: 'outbound',
      callId: 'c-2a913f94-b6d25421-6fcf-429d-b4b4-fee83151a688',
      callUrl: 'https://voice.bandwidth.com/api/v2/accounts/9900000/calls/c-2a913f94-b6d25421',
      recordingId: 'r-357381a2-d189-4404-9aa4-6ac344d21621',
      mediaUrl: 'https  ://../9900000/calls/c-2a913f94/recordings/r-357381a2/media',
      startTime: '2019-10-21T11:44:40.928-05:00',
      endTime: '2019-10-21T16:44:42.361Z',
      duration: 'PT1.415S',
      fileFormat: 'MP3',
      channels: 2,
      status: 'processing',
      tag: 'x',
    };
    const [parsed] = adapter.parseWebhook({ body: JSON.stringify(body), headers: {} });
    expect(parsed?.callId).toBe('c-2a913f94-b6d25421-6fcf-429d-b4b4-fee83151a688');
    expect(parsed?.hints).toMatchObject({
      startedAt: '2019-10-21T16:44:40.928Z',
      endedAt: '2019-10-21T16:44:42.361Z',
      durationSec: 1.415,
      format: 'mp3',
      channels: 2,
      direction: 'outbound',
      // A recordingAvailable that is not complete still yields the ref: the workflow checks.
      providerStatus: 'processing',
      readiness: 'pending',
    });
  });

  it('turns recordingComplete (no status) into a pending ref', () => {
    const parsed = adapter.parseWebhook({
      body: sim.callbackBody('rec-00000', 'recordingComplete'),
      headers: {},
    });
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ providerRecordingId: 'rec-00000', callId: 'call-rec-0' });
    expect(parsed[0]?.hints?.readiness).toBe('pending');
    expect(parsed[0]?.hints?.providerStatus).toBeUndefined();
  });

  it('ignores events that are not about a finished recording', () => {
    for (const eventType of ['answer', 'disconnect', 'transcriptionAvailable', 'conferenceCompleted']) {
      const body = JSON.stringify({ eventType, accountId: '9900000', callId: 'c-1', recordingId: 'r-1' });
      expect(adapter.parseWebhook({ body, headers: {} })).toEqual([]);
    }
  });

  it('turns conferenceRecordingAvailable into a conference recording ref instead of dropping it', () => {
    const body = JSON.stringify({
      eventType: 'conferenceRecordingAvailable',
      accountId: '9900000',
      conferenceId: 'conf-1',
      recordingId: 'r-1',
      status: 'complete',
    });
    expect(adapter.parseWebhook({ body, headers: {} })).toEqual([
      {
        accountId: 'bandwidth-sim',
        provider: 'bandwidth',
        providerRecordingId: 'conf-1/r-1',
        hints: { direction: 'unknown', providerStatus: 'complete', readiness: 'ready' },
      },
    ]);
  });

  it('rejects bodies that cannot name a recording', () => {
    const cases: Array<[string, RegExp]> = [
      ['eventType=recordingAvailable', /not JSON/],
      ['', /not JSON/],
      ['42', /not a JSON object/],
      ['{"callId":"c-1","recordingId":"r-1"}', /no eventType/],
      ['{"eventType":"recordingAvailable","callId":"c-1"}', /lacks recordingId/],
      ['{"eventType":"recordingComplete","recordingId":"r-1"}', /lacks callId/],
      [
        '{"eventType":"recordingAvailable","accountId":"111","callId":"c-1","recordingId":"r-1"}',
        /another Bandwidth account/,
      ],
    ];
    for (const [body, message] of cases) {
      let caught: unknown;
      try {
        adapter.parseWebhook({ body, headers: {} });
      } catch (error) {
        caught = error;
      }
      expect(caught, body).toBeInstanceOf(errors.WebhookParseError);
      expect((caught as Error).message, body).toMatch(message);
      expect((caught as Error).message).toContain('bandwidth account "bandwidth-sim"');
    }
  });
});
