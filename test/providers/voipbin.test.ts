import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountOf } from '../../lambdas/core/config.ts';
import * as errors from '../../lambdas/core/errors.ts';
import type { ProviderAdapter } from '../../lambdas/core/ports.ts';
import type { RecordingRef } from '../../lambdas/core/recording.ts';
import type { AdapterOptions } from '../../lambdas/providers/adapter.ts';
import { createVoipbinAdapter } from '../../lambdas/providers/voipbin.ts';
import { type SimRecording, sampleRecordings } from '../../local/simulators/base.ts';
import {
  VoipbinSimulator,
  type VoipbinSimulatorOptions,
  voipbinSimulatorAccount,
} from '../../local/simulators/voipbin.ts';
import { listen, shut } from '../helpers/http-server.ts';
import { FAST } from '../helpers/retry.ts';
import { drain, listAll, readAll, sha256 } from '../helpers/streams.ts';

const START = Date.UTC(2026, 10, 1, 9, 0, 0);
const uuid = (index: number, prefix = '0000') =>
  `${prefix}0000-0000-4000-8000-${String(index).padStart(12, '0')}`;

const sims: VoipbinSimulator[] = [];
async function startSim(options: VoipbinSimulatorOptions = {}): Promise<VoipbinSimulator> {
  const sim = new VoipbinSimulator(options);
  await sim.start();
  sims.push(sim);
  return sim;
}

function adapterFor(
  sim: VoipbinSimulator,
  options: AdapterOptions = {},
  account: Partial<AccountOf<'voipbin'>> = {},
): ProviderAdapter {
  return createVoipbinAdapter(
    { ...voipbinSimulatorAccount(sim, 'voipbin-test'), ...account },
    {
      ...FAST,
      ...options,
    },
  );
}

const ref = (id: string): RecordingRef => ({
  accountId: 'voipbin-test',
  provider: 'voipbin',
  providerRecordingId: id,
});
const iso = (ms: number) => new Date(ms).toISOString();

afterAll(async () => {
  await Promise.all(sims.map((sim) => sim.stop()));
});

describe('voipbin listing', () => {
  let sim: VoipbinSimulator;
  const recordings = sampleRecordings(23, { makeId: (index) => uuid(index), start: new Date(START) });

  beforeAll(async () => {
    sim = await startSim({ recordings });
  });

  it('follows next_page_token newest first until an empty page, each recording once', async () => {
    const before = sim.count('list');
    const listed = await listAll(adapterFor(sim, { pageSize: 5 }));
    expect(listed.map((r) => r.providerRecordingId)).toEqual(recordings.map((r) => r.id).reverse());
    // 5+5+5+5+3 and the empty page that ends the cursor.
    expect(sim.count('list') - before).toBe(6);
  });

  it('ends on the empty page when the last page is exactly full', async () => {
    const before = sim.count('list');
    const listed = await listAll(adapterFor(sim, { pageSize: 23 }));
    expect(new Set(listed.map((r) => r.providerRecordingId)).size).toBe(23);
    expect(sim.count('list') - before).toBe(2);
  });

  it('uses one request with the default page size and stops on an empty account', async () => {
    const empty = await startSim();
    expect(await listAll(adapterFor(empty))).toEqual([]);
    expect(empty.count('list')).toBe(1);
    expect(await listAll(adapterFor(sim))).toHaveLength(23);
  });

  it('filters the window on startedAt: since inclusive, until exclusive', async () => {
    const since = iso(START + 5 * 60_000);
    const until = iso(START + 12 * 60_000);
    const listed = await listAll(adapterFor(sim, { pageSize: 4 }), { since, until });
    expect(listed.map((r) => r.startedAt).sort()).toEqual(
      Array.from({ length: 7 }, (_, i) => iso(START + (5 + i) * 60_000)),
    );
  });

  it('stops paging once a whole page was created well before `since`', async () => {
    const hourly = await startSim({
      recordings: sampleRecordings(30, {
        makeId: (i) => uuid(i),
        start: new Date(START),
        spacingMs: 3_600_000,
      }),
    });
    const since = iso(START + 25 * 3_600_000);
    const listed = await listAll(adapterFor(hourly, { pageSize: 5 }), { since });
    expect(listed.map((r) => r.providerRecordingId)).toEqual([29, 28, 27, 26, 25].map((i) => uuid(i)));
    // Page two (created 20..24 h) is already older than since - 1 h: no need for the other 4 pages.
    expect(hourly.count('list')).toBe(2);
  });

  it('dedupes overlapping pages and stops when the token does not move', async () => {
    const overlapping = await startSim({
      inclusivePageToken: true,
      recordings: sampleRecordings(10, { makeId: (i) => uuid(i), start: new Date(START) }),
    });
    const listed = await listAll(adapterFor(overlapping, { pageSize: 3 }));
    expect(listed.map((r) => r.providerRecordingId)).toEqual(
      Array.from({ length: 10 }, (_, i) => uuid(9 - i)),
    );

    const sameInstant = await startSim({
      inclusivePageToken: true,
      recordings: sampleRecordings(4, { makeId: (i) => uuid(i), start: new Date(START), spacingMs: 0 }),
    });
    const stuck = await listAll(adapterFor(sameInstant, { pageSize: 2 }));
    expect(stuck).toHaveLength(2);
    expect(sameInstant.count('list')).toBe(2);
  });

  it('does not list deleted recordings', async () => {
    const small = await startSim({
      recordings: sampleRecordings(3, { makeId: (i) => uuid(i), start: new Date(START) }),
    });
    small.markDeleted(uuid(1));
    const listed = await listAll(adapterFor(small));
    expect(listed.map((r) => r.providerRecordingId)).toEqual([uuid(2), uuid(0)]);
  });

  it('rejects a page size VoIPBin refuses with HTTP 400', async () => {
    await expect(listAll(adapterFor(sim, { pageSize: 500 }))).rejects.toThrow(/HTTP 400/);
    const response = await fetch(`${sim.baseUrl}/v1.0/recordings?page_size=0&token=${sim.token}`);
    expect(response.status).toBe(400);
  });
});

describe('voipbin normalized fields', () => {
  const chicagoStart = Date.UTC(2026, 0, 15, 15, 30, 0, 250);
  const recordings: SimRecording[] = [
    {
      id: '348d988b-2ac9-4702-84f0-ae81301ad349',
      callId: '531bc6f4-c695-4c6d-a478-f28b88dfc2ca',
      from: '+15550001',
      to: '+15550002',
      direction: 'inbound',
      startedAt: new Date(chicagoStart),
      durationSec: 1.5,
    },
    {
      id: 'f27d65bc-2f10-49e1-a49d-a7762965df13',
      callId: '5f7a0eff-9de9-4c41-a018-08bffd4a19aa',
      from: '+15550003',
      to: '+15550004',
      direction: 'outbound',
      startedAt: new Date(chicagoStart + 60_000),
      durationSec: 1,
      extra: { referenceType: 'confbridge' },
    },
  ];
  let sim: VoipbinSimulator;

  beforeAll(async () => {
    sim = await startSim({ timeZone: 'America/Chicago', recordings });
  });

  it('reads zone-less timestamps in the account zone and maps every field', async () => {
    const recording = await adapterFor(sim).get(ref(recordings[0]?.id ?? ''));
    expect(recording).toMatchObject({
      accountId: 'voipbin-test',
      provider: 'voipbin',
      providerRecordingId: '348d988b-2ac9-4702-84f0-ae81301ad349',
      callId: '531bc6f4-c695-4c6d-a478-f28b88dfc2ca',
      direction: 'unknown',
      startedAt: '2026-01-15T15:30:00.250Z',
      endedAt: '2026-01-15T15:30:01.750Z',
      durationSec: 1.5,
      format: 'wav',
      readiness: 'ready',
      providerStatus: 'ended',
    });
    expect(recording.from).toBeUndefined();
    expect(recording.to).toBeUndefined();
    // The provider wrote Chicago wall-clock time without a zone.
    expect(recording.raw).toMatchObject({ tm_start: '2026-01-15 09:30:00.250000', tm_delete: '' });
  });

  it('reads the same zone-less text differently when the account zone differs', async () => {
    const recording = await adapterFor(sim, {}, { timeZone: 'UTC' }).get(ref(recordings[0]?.id ?? ''));
    expect(recording.startedAt).toBe('2026-01-15T09:30:00.250Z');
  });

  it('keeps a confbridge reference in raw instead of calling it a call id', async () => {
    const [newest] = await listAll(adapterFor(sim));
    expect(newest?.providerRecordingId).toBe('f27d65bc-2f10-49e1-a49d-a7762965df13');
    expect(newest?.callId).toBeUndefined();
    expect(newest?.raw).toMatchObject({
      reference_type: 'confbridge',
      reference_id: '5f7a0eff-9de9-4c41-a018-08bffd4a19aa',
    });
    expect(newest?.startedAt).toBe('2026-01-15T15:31:00.250Z');
  });

  it('treats the 9999-01-01 sentinel as "not set", not as a deletion', async () => {
    const sentinel = await startSim({
      unsetTimestamp: 'sentinel',
      recordings: sampleRecordings(2, { makeId: (i) => uuid(i), start: new Date(START) }).map((r, i) =>
        i === 1 ? { ...r, readyAt: Date.now() + 3_600_000 } : r,
      ),
    });
    const adapter = adapterFor(sentinel);
    const ready = await adapter.get(ref(uuid(0)));
    expect(ready.readiness).toBe('ready');
    expect(ready.raw).toMatchObject({ tm_delete: '9999-01-01 00:00:00.000000' });
    const pending = await adapter.get(ref(uuid(1)));
    expect(pending).toMatchObject({ readiness: 'pending', providerStatus: 'recording' });
    expect(pending.endedAt).toBeUndefined();
    expect(pending.durationSec).toBeUndefined();
    expect(pending.startedAt).toBe(iso(START + 60_000));
  });
});

describe('voipbin readiness and downloads', () => {
  let sim: VoipbinSimulator;
  let adapter: ProviderAdapter;
  const recordings = sampleRecordings(8, { makeId: (i) => uuid(i, 'aaaa'), start: new Date(START) });
  const id = (index: number) => uuid(index, 'aaaa');

  beforeAll(async () => {
    sim = await startSim({ recordings });
    adapter = adapterFor(sim);
  });

  it('downloads the WAV with the right bytes and SHA-256', async () => {
    const download = await adapter.download(ref(id(0)));
    expect(download.contentType).toBe('audio/wav');
    const bytes = await readAll(download);
    expect(download.body.bytes).toBe(sim.audio(id(0)).size);
    expect(bytes.length).toBe(sim.audio(id(0)).size);
    expect(download.body.sha256).toBe(sim.audio(id(0)).sha256());
  });

  it('moves pending -> ready: no file is asked for before `ended`', async () => {
    const pendingId = id(1);
    const recording = sim.recordings.get(pendingId) as SimRecording;
    recording.readyAt = Date.now() + 3_600_000;
    recording.extra = { status: 'stopping' };
    expect(await adapter.get(ref(pendingId))).toMatchObject({
      readiness: 'pending',
      providerStatus: 'stopping',
    });
    const audioBefore = sim.count('audio');
    await expect(adapter.download(ref(pendingId))).rejects.toBeInstanceOf(errors.RecordingNotReadyError);
    expect(sim.count('audio')).toBe(audioBefore);

    sim.markReady(pendingId);
    expect(await adapter.get(ref(pendingId))).toMatchObject({ readiness: 'ready', providerStatus: 'ended' });
    const download = await adapter.download(ref(pendingId));
    await readAll(download);
    expect(download.body.sha256).toBe(sim.audio(pendingId).sha256());
  });

  it('keeps an unknown status verbatim as pending', async () => {
    const recording = sim.recordings.get(id(2)) as SimRecording;
    recording.readyAt = Date.now() + 3_600_000;
    recording.extra = { status: 'paused' };
    expect(await adapter.get(ref(id(2)))).toMatchObject({ readiness: 'pending', providerStatus: 'paused' });
    sim.markReady(id(2));
  });

  it('reports soft-deleted and unknown recordings as gone, and refuses to download them', async () => {
    sim.markDeleted(id(3));
    const deleted = await adapter.get(ref(id(3)));
    expect(deleted.readiness).toBe('gone');
    expect((deleted.raw as Record<string, string>).tm_delete).not.toBe('');
    await expect(adapter.download(ref(id(3)))).rejects.toBeInstanceOf(errors.RecordingGoneError);

    const unknown = await adapter.get({ ...ref('ffffffff-0000-4000-8000-000000000000'), callId: 'c-1' });
    expect(unknown).toMatchObject({ readiness: 'gone', callId: 'c-1', raw: null });
    await expect(adapter.download(ref('ffffffff-0000-4000-8000-000000000000'))).rejects.toBeInstanceOf(
      errors.RecordingGoneError,
    );
    const response = await fetch(`${sim.baseUrl}/v1.0/recordings/nope`, {
      headers: { authorization: `Bearer ${sim.token}` },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'Not Found' });
  });

  it('an ended recording whose file is not in storage yet (404) is not ready, not gone', async () => {
    sim.setDownloadMode(id(5), { fileMissing: true });
    const error = await adapter.download(ref(id(5))).catch((thrown: Error) => thrown);
    expect(error).toBeInstanceOf(errors.RecordingNotReadyError);
    expect((error as Error).message).toContain('has ended but its file is not there yet');
    sim.setDownloadMode(id(5), {});
    const download = await adapter.download(ref(id(5)));
    expect((await drain(download)).sha256).toBe(sim.audio(id(5)).sha256());
  });

  it('passes a ZIP through untouched', async () => {
    sim.setDownloadMode(id(4), { zip: true });
    const download = await adapter.download(ref(id(4)));
    expect(download.contentType).toBe('application/zip');
    const bytes = await readAll(download);
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    expect(download.body.sha256).toBe(sha256(sim.zipOf(id(4))));
    // A stored entry: the WAV sits inside the archive byte for byte.
    expect(bytes.includes(sim.audio(id(4)).buffer())).toBe(true);
  });

  it('follows a redirect to storage (WAV and ZIP)', async () => {
    sim.setDownloadMode(id(5), { redirect: true });
    const download = await adapter.download(ref(id(5)));
    await readAll(download);
    expect(download.body.sha256).toBe(sim.audio(id(5)).sha256());
    expect(sim.requests.some((r) => r.path === `/storage/recordings/${id(5)}.wav` && r.status === 200)).toBe(
      true,
    );

    sim.setDownloadMode(id(6), { redirect: true, zip: true });
    const zipped = await adapter.download(ref(id(6)));
    await readAll(zipped);
    expect(zipped.contentType).toBe('application/zip');
    expect(zipped.body.sha256).toBe(sha256(sim.zipOf(id(6))));
  });

  it('deletes, and deleting again (404) still succeeds', async () => {
    const before = sim.count('delete');
    await expect(adapter.delete(ref(id(7)))).resolves.toMatchObject({ alreadyGone: false });
    expect((await adapter.get(ref(id(7)))).readiness).toBe('gone');
    await expect(adapter.delete(ref(id(7)))).resolves.toEqual({ status: 404, alreadyGone: true });
    await expect(adapter.delete(ref('ffffffff-1111-4000-8000-000000000000'))).resolves.toEqual({
      status: 404,
      alreadyGone: true,
    });
    expect(sim.count('delete') - before).toBe(3);
    expect(adapter.canDelete(ref(id(7)))).toBe(true);
  });
});

describe('voipbin faults', () => {
  let sim: VoipbinSimulator;
  let adapter: ProviderAdapter;
  const recordings = sampleRecordings(6, { makeId: (i) => uuid(i, 'bbbb'), start: new Date(START) });
  const id = (index: number) => uuid(index, 'bbbb');

  beforeAll(async () => {
    sim = await startSim({ recordings });
    adapter = adapterFor(sim, { pageSize: 4 });
  });

  it('honours Retry-After on a 429 and retries', async () => {
    sim.clearFaults();
    sim.inject({ kind: 'rate-limit', on: 'list', retryAfterSeconds: 1 });
    const started = Date.now();
    expect(await listAll(adapter)).toHaveLength(6);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(sim.requests.filter((r) => r.endpoint === 'list' && r.status === 429)).toHaveLength(1);
  });

  it('retries 5xx and a reset connection', async () => {
    sim.clearFaults();
    sim.inject({ kind: 'server-error', on: 'status', times: 2 });
    const before = sim.count('status');
    expect((await adapter.get(ref(id(0)))).readiness).toBe('ready');
    expect(sim.count('status') - before).toBe(3);

    sim.inject({ kind: 'reset', on: 'list' });
    expect(await listAll(adapter)).toHaveLength(6);

    sim.inject({ kind: 'server-error', on: 'audio', status: 502 });
    const download = await adapter.download(ref(id(1)));
    await readAll(download);
    expect(download.body.sha256).toBe(sim.audio(id(1)).sha256());
  });

  it('gives up as unavailable when the 5xx never stop', async () => {
    sim.clearFaults();
    sim.inject({ kind: 'server-error', on: 'status', times: Number.POSITIVE_INFINITY });
    await expect(adapter.get(ref(id(0)))).rejects.toBeInstanceOf(errors.ProviderUnavailableError);
    sim.clearFaults();
  });

  it('fails a truncated download with IncompleteDownloadError', async () => {
    sim.clearFaults();
    sim.inject({ kind: 'truncate', on: 'audio', fraction: 0.4 });
    const download = await adapter.download(ref(id(2)));
    await expect(readAll(download)).rejects.toBeInstanceOf(errors.IncompleteDownloadError);
  });

  it('completes a slow body with the right hash', async () => {
    sim.clearFaults();
    sim.inject({ kind: 'slow', on: 'audio', chunkBytes: 2048, chunkDelayMs: 5 });
    const download = await adapter.download(ref(id(3)));
    await readAll(download);
    expect(download.body.bytes).toBe(sim.audio(id(3)).size);
    expect(download.body.sha256).toBe(sim.audio(id(3)).sha256());
  });

  it('turns a garbage body into ProviderResponseError naming account and provider', async () => {
    sim.clearFaults();
    sim.inject({ kind: 'garbage', on: 'list' });
    const error = await listAll(adapter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProviderResponseError);
    expect((error as Error).message).toContain('voipbin account "voipbin-test"');
    expect((error as Error).message).toContain('/v1.0/recordings');

    sim.inject({ kind: 'garbage', on: 'audio' });
    await expect(adapter.download(ref(id(4)))).rejects.toBeInstanceOf(errors.IncompleteDownloadError);
  });

  it('refuses bad credentials without leaking the token', async () => {
    sim.clearFaults();
    const secret = 'wrong-secret-token-7f3a9c';
    const wrong = adapterFor(sim, {}, { auth: { token: secret } });
    const error = await listAll(wrong).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProviderAuthError);
    expect((error as Error).message).toContain('voipbin account "voipbin-test"');
    expect((error as Error).message).not.toContain(secret);
    await expect(wrong.download(ref(id(0)))).rejects.toBeInstanceOf(errors.ProviderAuthError);

    sim.inject({ kind: 'unauthorized', on: 'delete' });
    await expect(adapter.delete(ref(id(5)))).rejects.toBeInstanceOf(errors.ProviderAuthError);
  });

  it('accepts the token as a Bearer header or ?token= and refuses anything else with 401', async () => {
    const list = `${sim.baseUrl}/v1.0/recordings?page_size=1`;
    expect((await fetch(`${list}&token=${sim.token}`)).status).toBe(200);
    expect((await fetch(list, { headers: { authorization: `Bearer ${sim.token}` } })).status).toBe(200);
    expect((await fetch(`${list}&token=nope`)).status).toBe(401);
    expect((await fetch(list)).status).toBe(401);
  });
});

/** A bare HTTP server answering each request from a queue, recording what it was sent. */
class ScriptedServer {
  readonly seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  private readonly answers: Array<{ status: number; body: string }> = [];
  private server: Server | undefined;
  baseUrl = '';

  push(status: number, body: unknown): void {
    this.answers.push({ status, body: typeof body === 'string' ? body : JSON.stringify(body) });
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.seen.push({ url: request.url ?? '', headers: request.headers });
      const answer = this.answers.shift() ?? { status: 500, body: 'no scripted answer' };
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body);
    });
    this.baseUrl = await listen(this.server);
  }

  async stop(): Promise<void> {
    if (this.server) await shut(this.server);
  }
}

describe('voipbin body shapes', () => {
  const server = new ScriptedServer();
  const token = 'scripted-token-1234567890';
  let adapter: ProviderAdapter;
  const record = (id: string) => ({
    id,
    reference_type: 'call',
    reference_id: `call-${id}`,
    status: 'ended',
    format: 'WAV',
    tm_start: '2021-01-29 05:31:47.870000',
    tm_end: '2021-01-29 05:31:58.932000',
    tm_create: '2021-01-29 05:31:45.051136',
    tm_delete: null,
  });

  beforeAll(async () => {
    await server.start();
    adapter = createVoipbinAdapter(
      {
        id: 'vb-shapes',
        provider: 'voipbin',
        baseUrl: `${server.baseUrl}/v1.0`,
        timeZone: 'Asia/Kolkata',
        schedule: 'rate(15 minutes)',
        auth: { token },
      },
      { ...FAST, pageSize: 2 },
    );
  });
  afterAll(() => server.stop());

  it('sends the token as a Bearer header, never in the URL, under a base URL ending in /v1.0', async () => {
    server.push(200, { result: [record('r1')], next_page_token: '' });
    const listed = await listAll(adapter);
    expect(listed).toHaveLength(1);
    const request = server.seen.at(-1);
    expect(request?.headers.authorization).toBe(`Bearer ${token}`);
    expect(request?.url).toBe('/v1.0/recordings?page_size=2');
    expect(request?.url).not.toContain(token);
    // Kolkata is UTC+05:30; `WAV` is lower-cased; a null tm_delete is not a deletion.
    expect(listed[0]).toMatchObject({
      startedAt: '2021-01-29T00:01:47.870Z',
      endedAt: '2021-01-29T00:01:58.932Z',
      durationSec: 11.062,
      format: 'wav',
      callId: 'call-r1',
      readiness: 'ready',
    });
  });

  it('passes the token back verbatim and ends on `"result": null` or a missing token', async () => {
    server.push(200, { result: [record('r1'), record('r2')], next_page_token: '2021-01-28 09:16:58.076735' });
    server.push(200, { result: null, next_page_token: '' });
    expect(await listAll(adapter)).toHaveLength(2);
    expect(server.seen.at(-1)?.url).toBe(
      '/v1.0/recordings?page_size=2&page_token=2021-01-28+09%3A16%3A58.076735',
    );

    server.push(200, { result: [record('r3')] });
    expect(await listAll(adapter)).toHaveLength(1);
  });

  it('tolerates a bare array and a wrapped single resource', async () => {
    server.push(200, [record('a1'), record('a2')]);
    expect((await listAll(adapter)).map((r) => r.providerRecordingId)).toEqual(['a1', 'a2']);
    server.push(200, { result: record('w1') });
    expect((await adapter.get(ref('w1'))).providerRecordingId).toBe('w1');
  });

  it('rejects wrong shapes with ProviderResponseError naming account and provider', async () => {
    server.push(200, { result: 'nope' });
    await expect(listAll(adapter)).rejects.toThrow(
      /voipbin account "vb-shapes".*"result" that is not a list/,
    );
    // An item without an id is skipped (listing-item-without-id.test.ts); a non-object is not.
    server.push(200, { result: ['r1'] });
    await expect(listAll(adapter)).rejects.toThrow(errors.ProviderResponseError);
    server.push(200, '"just a string"');
    await expect(adapter.get(ref('x'))).rejects.toThrow(/without an "id"/);
    server.push(200, '<html>gateway</html>');
    await expect(adapter.get(ref('x'))).rejects.toThrow(/not JSON/);
    server.push(500, 'boom');
    server.push(500, 'boom');
    server.push(500, 'boom');
    server.push(500, 'boom');
    server.push(500, 'boom');
    await expect(adapter.delete(ref('x'))).rejects.toBeInstanceOf(errors.ProviderUnavailableError);
    server.push(400, { message: 'bad id' });
    await expect(adapter.delete(ref('x'))).rejects.toThrow(/HTTP 400/);
  });
});

describe('voipbin webhooks', () => {
  let sim: VoipbinSimulator;
  let adapter: ProviderAdapter;
  const recording: SimRecording = {
    id: '142e8ef8-392c-4514-abf0-8656da5d2fdf',
    callId: 'f457951b-9918-44af-a834-2216b1cc31bc',
    from: '+15550001',
    to: '+15550002',
    direction: 'inbound',
    startedAt: new Date(Date.UTC(2026, 6, 1, 12, 0, 0, 500)),
    durationSec: 2,
  };
  const webhook = (body: unknown) => ({
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });

  beforeAll(async () => {
    sim = await startSim({ timeZone: 'Europe/Berlin', recordings: [recording] });
    adapter = adapterFor(sim);
  });

  it('turns recording_finished into one recording with hints', () => {
    const data = sim.render(recording);
    expect(data.tm_start).toBe('2026-07-01 14:00:00.500000');
    const parsed = adapter.parseWebhook(webhook({ type: 'recording_finished', data }));
    expect(parsed).toEqual([
      {
        accountId: 'voipbin-test',
        provider: 'voipbin',
        providerRecordingId: '142e8ef8-392c-4514-abf0-8656da5d2fdf',
        callId: 'f457951b-9918-44af-a834-2216b1cc31bc',
        hints: {
          direction: 'unknown',
          startedAt: '2026-07-01T12:00:00.500Z',
          endedAt: '2026-07-01T12:00:02.500Z',
          durationSec: 2,
          format: 'wav',
          readiness: 'ready',
          providerStatus: 'ended',
        },
      },
    ]);
  });

  it('ignores events that are not a finished recording', () => {
    const data = sim.render(recording);
    expect(adapter.parseWebhook(webhook({ type: 'recording_started', data }))).toEqual([]);
    expect(adapter.parseWebhook(webhook({ type: 'call_hangup', data: { id: 'call-1' } }))).toEqual([]);
    expect(
      adapter.parseWebhook(webhook([{ type: 'call_hangup' }, { type: 'recording_finished', data }])),
    ).toHaveLength(1);
  });

  it('rejects malformed callbacks with WebhookParseError', () => {
    expect(() => adapter.parseWebhook(webhook('{"type":"recording_fin'))).toThrow(errors.WebhookParseError);
    expect(() =>
      adapter.parseWebhook(webhook({ type: 'recording_finished', data: { status: 'ended' } })),
    ).toThrow(/data\.id/);
    expect(() => adapter.parseWebhook(webhook({ type: 'recording_finished' }))).toThrow(
      errors.WebhookParseError,
    );
    expect(() => adapter.parseWebhook(webhook({ data: { id: 'x' } }))).toThrow(/"type"/);
  });
});
