import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountOf } from '../../lambdas/core/config.ts';
import * as errors from '../../lambdas/core/errors.ts';
import type { ProviderAdapter } from '../../lambdas/core/ports.ts';
import type { Recording } from '../../lambdas/core/recording.ts';
import { createInfobipAdapter } from '../../lambdas/providers/infobip.ts';
import type { SimRecording } from '../../local/simulators/base.ts';
import {
  InfobipSimulator,
  infobipFileId,
  infobipMessageId,
  infobipSampleRecordings,
  infobipSimulatorAccount,
} from '../../local/simulators/infobip.ts';
import { listen, RoutedServer, shut } from '../helpers/http-server.ts';
import { FAST } from '../helpers/retry.ts';
import { drain, listAll } from '../helpers/streams.ts';

/** The three files of the reference's example response. */
const REFERENCE_FILES: SimRecording[] = [
  {
    id: '3C67336FA555A606C85FA9637906A6AB98436B7AFC65D857A416F6521D39F8F0E1D3D2469FF580D8968D3DD89A2DB561',
    callId: '453e161a-fe4f-4f3c-80c0-ab520de9a969',
    startedAt: new Date('2018-04-30T07:25:32.920Z'),
    extra: { scenarioId: 'C9CE33CF130511D8E333C1260BABA309', groupId: '#/script/1' },
  },
  {
    id: '305DE72BA11D81D1BAED75BFC46706761580BDEC2218C22628447FD3814E7913D3058E4ECBFD6F55C80E976235EEB111',
    callId: '05b2859d-85c6-4068-9347-2e563b5c9cf4',
    startedAt: new Date('2017-11-15T20:07:05.180Z'),
    extra: { scenarioId: '4A6177C9B92039306F1F091708851A2E', groupId: '#/script/1' },
  },
  {
    id: 'C8E770E36C23DC088B4BF9F1B636D07C1428AA1C4CF7B18B21DC165235F3FCA97D3D297971FEE427ADC9D5E0F0E0EF6C',
    callId: '4e7b0e56-03cb-46e0-a997-c4df4a8863d5',
    startedAt: new Date('2017-11-15T20:04:00.500Z'),
    extra: { scenarioId: '4A6177C9B92039306F1F091708851A2E', groupId: '#/script/1' },
  },
].map((file) => ({
  ...file,
  from: '442032864231',
  to: '38712345678',
  direction: 'inbound' as const,
  durationSec: 0.5,
}));

/** What Infobip's reference example says about its newest file's call, normalized. */
const REFERENCE_CALL = {
  from: '442032864231',
  to: '38712345678',
  direction: 'unknown',
  startedAt: '2018-04-30T07:25:32.920Z',
  format: 'wav',
  channels: 1,
};

async function startSim(sim: InfobipSimulator): Promise<InfobipSimulator> {
  await sim.start();
  return sim;
}

describe('infobip listing', () => {
  const sims: InfobipSimulator[] = [];
  const sim = (options: ConstructorParameters<typeof InfobipSimulator>[0]) => {
    const created = new InfobipSimulator(options);
    sims.push(created);
    return startSim(created);
  };
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
  });

  it('reads every page until an empty one, even after a short page', async () => {
    const s = await sim({ recordings: infobipSampleRecordings(7) });
    const adapter = createInfobipAdapter(infobipSimulatorAccount(s), { ...FAST, pageSize: 3 });
    const recordings = await listAll(adapter);
    expect(recordings.map((r) => r.providerRecordingId).sort()).toEqual([...s.recordings.keys()].sort());
    // pages 1, 2 (full), 3 (one file), 4 (empty)
    expect(s.count('list')).toBe(4);
  });

  it('reads past a last full page to the empty page when the page size divides the count', async () => {
    const s = await sim({ recordings: infobipSampleRecordings(6) });
    const adapter = createInfobipAdapter(infobipSimulatorAccount(s), { ...FAST, pageSize: 3 });
    expect(await listAll(adapter)).toHaveLength(6);
    expect(s.count('list')).toBe(3);
  });

  it('goes on when exactly a page of new files, arriving between two units, repeats a page', async () => {
    const s = await sim({
      recordings: infobipSampleRecordings(10, { start: new Date(Date.UTC(2026, 10, 1)) }),
    });
    const original = [...s.recordings.keys()];
    const adapter = createInfobipAdapter(infobipSimulatorAccount(s), { ...FAST, pageSize: 5 });
    const listed: string[] = [];
    let position: string | undefined;
    let unit = 0;
    do {
      const page = await adapter.listPage({}, position);
      listed.push(...page.recordings.map((r) => r.providerRecordingId));
      // Newest first: five newer files push the five just read onto page 2.
      if (++unit === 1) {
        for (const recording of infobipSampleRecordings(5, {
          prefix: 'new',
          start: new Date(Date.UTC(2026, 10, 2)),
        }))
          s.add(recording);
      }
      position = page.next;
    } while (position !== undefined);
    expect(original.filter((id) => !listed.includes(id))).toEqual([]);
  });

  it('lists an empty account with one request', async () => {
    const s = await sim({});
    const adapter = createInfobipAdapter(infobipSimulatorAccount(s), FAST);
    expect(await listAll(adapter)).toEqual([]);
    expect(s.count('list')).toBe(1);
  });

  it('reads the bare-array form', async () => {
    const s = await sim({ recordings: infobipSampleRecordings(5), bareArray: true });
    const adapter = createInfobipAdapter(infobipSimulatorAccount(s), { ...FAST, pageSize: 2 });
    const recordings = await listAll(adapter);
    expect(recordings).toHaveLength(5);
    expect(s.count('list')).toBe(4);
  });

  it('reads the XML form, including a page holding a single <file>', async () => {
    const s = await sim({ recordings: infobipSampleRecordings(5), preferXml: true });
    const adapter = createInfobipAdapter(infobipSimulatorAccount(s), { ...FAST, pageSize: 2 });
    const recordings = await listAll(adapter);
    expect(recordings.map((r) => r.providerRecordingId).sort()).toEqual([...s.recordings.keys()].sort());
    const first = s.recordings.get(recordings[0]?.providerRecordingId ?? '');
    expect(recordings[0]?.startedAt).toBe(first?.startedAt.toISOString());
    expect(recordings[0]?.from).toBe(first?.from.replace('+', ''));
  });

  it('normalizes the reference files exactly', async () => {
    const s = await sim({ recordings: REFERENCE_FILES });
    // A non-UTC account zone must not matter: recordedAt carries its own (colon-less) offset.
    const account = { ...infobipSimulatorAccount(s), timeZone: 'Asia/Kolkata' };
    const recordings = await listAll(createInfobipAdapter(account, FAST));
    const newest = recordings.find((r) => r.callId === '453e161a-fe4f-4f3c-80c0-ab520de9a969');
    expect(newest).toEqual({
      accountId: 'infobip-sim',
      provider: 'infobip',
      providerRecordingId:
        '3C67336FA555A606C85FA9637906A6AB98436B7AFC65D857A416F6521D39F8F0E1D3D2469FF580D8968D3DD89A2DB561',
      callId: '453e161a-fe4f-4f3c-80c0-ab520de9a969',
      ...REFERENCE_CALL,
      readiness: 'ready',
      raw: {
        messageId: '453e161a-fe4f-4f3c-80c0-ab520de9a969',
        from: '442032864231',
        to: '38712345678',
        scenarioId: 'C9CE33CF130511D8E333C1260BABA309',
        groupId: '#/script/1',
        url: '/voice/ivr/1/files/3C67336FA555A606C85FA9637906A6AB98436B7AFC65D857A416F6521D39F8F0E1D3D2469FF580D8968D3DD89A2DB561',
        recordedAt: '2018-04-30T07:25:32.920+0000',
      },
    });
    expect(newest?.durationSec).toBeUndefined();
    expect(recordings.map((r) => r.startedAt).sort()).toEqual([
      '2017-11-15T20:04:00.500Z',
      '2017-11-15T20:07:05.180Z',
      '2018-04-30T07:25:32.920Z',
    ]);
  });

  it('yields one recording per file when a message has two Record actions', async () => {
    const messageId = infobipMessageId('two-files');
    const base = infobipSampleRecordings(2, { prefix: 'two' });
    const files = base.map((recording, index) => ({
      ...recording,
      callId: messageId,
      extra: { groupId: `#/script/${index + 1}` },
    }));
    const s = await sim({ recordings: files });
    const recordings = await listAll(createInfobipAdapter(infobipSimulatorAccount(s), FAST));
    expect(recordings).toHaveLength(2);
    expect(new Set(recordings.map((r) => r.providerRecordingId)).size).toBe(2);
    expect(recordings.every((r) => r.callId === messageId)).toBe(true);
    expect(recordings.map((r) => (r.raw as { groupId: string }).groupId).sort()).toEqual([
      '#/script/1',
      '#/script/2',
    ]);
  });

  it('filters the window client-side: since inclusive, until exclusive', async () => {
    const start = new Date('2026-11-01T09:00:00.000Z');
    const s = await sim({ recordings: infobipSampleRecordings(10, { start, spacingMs: 60_000 }) });
    const adapter = createInfobipAdapter(infobipSimulatorAccount(s), { ...FAST, pageSize: 4 });
    const recordings = await listAll(adapter, {
      since: '2026-11-01T09:03:00.000Z',
      until: '2026-11-01T09:07:00.000Z',
    });
    expect(recordings.map((r) => r.startedAt).sort()).toEqual([
      '2026-11-01T09:03:00.000Z',
      '2026-11-01T09:04:00.000Z',
      '2026-11-01T09:05:00.000Z',
      '2026-11-01T09:06:00.000Z',
    ]);
    // No time filter at the server; newest first, the listing stops at the first page wholly
    // older than the window (page 3: 09:01, 09:00) instead of reading on to the empty page 4.
    expect(s.count('list')).toBe(3);
  });
});

describe('infobip get, download and readiness', () => {
  let s: InfobipSimulator;
  let account: AccountOf<'infobip'>;
  let adapter: ProviderAdapter;
  const recordings = infobipSampleRecordings(5, { durationSec: 1 });
  const pendingId = infobipFileId('pending');

  beforeAll(async () => {
    s = await startSim(
      new InfobipSimulator({
        recordings: [
          ...recordings,
          {
            ...infobipSampleRecordings(1, { prefix: 'pending' })[0],
            id: pendingId,
            readyAt: Date.now() + 3_600_000,
          } as SimRecording,
        ],
      }),
    );
    account = infobipSimulatorAccount(s);
    adapter = createInfobipAdapter(account, { ...FAST, pageSize: 2 });
  });
  afterAll(() => s.stop());

  it('gets a file through the messageId-filtered listing', async () => {
    const target = recordings[3] as SimRecording;
    const listBefore = s.count('list');
    const recording = await adapter.get({
      accountId: account.id,
      provider: 'infobip',
      providerRecordingId: target.id,
      callId: target.callId,
    });
    expect(recording.readiness).toBe('ready');
    expect(recording.startedAt).toBe(target.startedAt.toISOString());
    expect(s.count('list')).toBe(listBefore);
    expect(s.count('status')).toBeGreaterThan(0);
  });

  it('checks a file without a callId on the first page only, else at its own URL, never scanning', async () => {
    const counts = () => ({ list: s.count('list'), status: s.count('status'), audio: s.count('audio') });
    const get = (target: SimRecording) =>
      adapter.get({ accountId: account.id, provider: 'infobip', providerRecordingId: target.id });
    // The newest file is on the first page: its metadata comes with it.
    const newest = recordings[4] as SimRecording;
    let before = counts();
    expect(await get(newest)).toMatchObject({ readiness: 'ready', callId: newest.callId });
    expect(counts()).toEqual({ ...before, list: before.list + 1 });
    // An older one is not: the first page, then the file's own URL, not pages 2 and 3.
    const oldest = recordings[0] as SimRecording;
    before = counts();
    const recording = await get(oldest);
    expect(recording.readiness).toBe('ready');
    expect(counts()).toEqual({ list: before.list + 1, status: before.status, audio: before.audio + 1 });
  });

  it('downloads the audio and verifies the bytes', async () => {
    const target = recordings[0] as SimRecording;
    const download = await adapter.download({
      accountId: account.id,
      provider: 'infobip',
      providerRecordingId: target.id,
    });
    const { bytes, sha256 } = await drain(download);
    expect(sha256).toBe(s.audio(target.id).sha256());
    expect(bytes).toBe(s.audio(target.id).size);
    expect(download.contentType).toBe('audio/wav');
  });

  it('does not list a file that is not stored yet, and lists it ready once stored', async () => {
    const ref = { accountId: account.id, provider: 'infobip' as const, providerRecordingId: pendingId };
    expect((await listAll(adapter)).some((r) => r.providerRecordingId === pendingId)).toBe(false);
    s.markReady(pendingId);
    expect((await listAll(adapter)).some((r) => r.providerRecordingId === pendingId)).toBe(true);
    expect((await adapter.get(ref)).readiness).toBe('ready');
  });

  it('reports an expired file as gone and refuses its download with RecordingGoneError', async () => {
    const target = recordings[1] as SimRecording;
    const ref = {
      accountId: account.id,
      provider: 'infobip' as const,
      providerRecordingId: target.id,
      callId: target.callId,
    };
    s.markDeleted(target.id);
    const recording = await adapter.get(ref);
    expect(recording).toMatchObject({
      readiness: 'gone',
      providerRecordingId: target.id,
      callId: target.callId,
    });
    await expect(adapter.download(ref)).rejects.toBeInstanceOf(errors.RecordingGoneError);
  });

  it('has no delete: canDelete is false and delete() throws without calling the server', async () => {
    const live = recordings[2] as SimRecording;
    expect(
      adapter.canDelete({ accountId: account.id, provider: 'infobip', providerRecordingId: live.id }),
    ).toBe(false);
    const gone = recordings[1] as SimRecording;
    for (const id of [live.id, gone.id]) {
      const error = await adapter
        .delete({ accountId: account.id, provider: 'infobip', providerRecordingId: id })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errors.ProviderResponseError);
      expect((error as Error).message).toMatch(/no API to delete/);
    }
    expect(s.count('delete')).toBe(0);
  });
});

describe('infobip faults', () => {
  let s: InfobipSimulator;
  let adapter: ProviderAdapter;
  const recordings = infobipSampleRecordings(4, { durationSec: 1 });
  const ref = (index: number) => ({
    accountId: 'infobip-sim',
    provider: 'infobip' as const,
    providerRecordingId: (recordings[index] as SimRecording).id,
  });

  beforeAll(async () => {
    s = await startSim(new InfobipSimulator({ recordings }));
    adapter = createInfobipAdapter(infobipSimulatorAccount(s), { ...FAST, pageSize: 3 });
  });
  afterAll(() => s.stop());

  it('honours a rate limit and retries', async () => {
    s.inject({ kind: 'rate-limit', on: 'list', retryAfterSeconds: 1 });
    const before = s.count('list');
    const started = Date.now();
    expect(await listAll(adapter)).toHaveLength(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(s.count('list') - before).toBe(4);
  });

  it('retries a server error', async () => {
    s.inject({ kind: 'server-error', on: 'list', times: 2 });
    expect(await listAll(adapter)).toHaveLength(4);
  });

  it('retries a reset connection on the listing and on the audio', async () => {
    s.inject({ kind: 'reset', on: 'list' });
    expect(await listAll(adapter)).toHaveLength(4);
    s.inject({ kind: 'reset', on: 'audio' });
    const { sha256 } = await drain(await adapter.download(ref(0)));
    expect(sha256).toBe(s.audio(ref(0).providerRecordingId).sha256());
  });

  it('fails a truncated download with IncompleteDownloadError', async () => {
    s.inject({ kind: 'truncate', on: 'audio', fraction: 0.4 });
    const download = await adapter.download(ref(1));
    await expect(drain(download)).rejects.toBeInstanceOf(errors.IncompleteDownloadError);
  });

  it('completes a slow download with the right hash', async () => {
    s.inject({ kind: 'slow', on: 'audio', chunkBytes: 4096, chunkDelayMs: 5 });
    const { bytes, sha256 } = await drain(await adapter.download(ref(2)));
    expect(bytes).toBe(s.audio(ref(2).providerRecordingId).size);
    expect(sha256).toBe(s.audio(ref(2).providerRecordingId).sha256());
  });

  it('treats an error document served as audio as an incomplete download', async () => {
    s.inject({ kind: 'garbage', on: 'audio' });
    await expect(adapter.download(ref(3))).rejects.toBeInstanceOf(errors.IncompleteDownloadError);
  });

  it('reads a 404 from a storage host it was redirected to as a failure naming the host, not as a gone file', async () => {
    const storage = new RoutedServer();
    await storage.start();
    const host = new URL(storage.origin).host;
    const redirected = createInfobipAdapter(
      { ...infobipSimulatorAccount(s), allowedDownloadHosts: [host] },
      { ...FAST, pageSize: 3 },
    );
    try {
      s.inject({ kind: 'redirect', on: 'audio', location: `${storage.origin}/expired-link.wav` });
      const error = await redirected.download(ref(3)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errors.ProviderResponseError);
      expect((error as Error).message).toContain(`ended at ${host} with HTTP 404`);
      // Infobip's own 404 still means gone: 'reports an expired file as gone…' above.
    } finally {
      await storage.stop();
    }
  });

  it('turns a garbage listing into ProviderResponseError naming account and provider', async () => {
    s.inject({ kind: 'garbage', on: 'list' });
    const error = await listAll(adapter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProviderResponseError);
    expect((error as Error).message).toContain('infobip account "infobip-sim"');
    expect((error as Error).message).toContain('/voice/ivr/1/files');
  });

  it('turns broken XML into ProviderResponseError too', async () => {
    s.preferXml = true;
    try {
      s.inject({ kind: 'garbage', on: 'list' });
      const error = await listAll(adapter).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errors.ProviderResponseError);
      expect((error as Error).message).toMatch(/infobip account "infobip-sim".*not well-formed XML/);
    } finally {
      s.preferXml = false;
    }
  });

  it('targets get() faults at the messageId lookup', async () => {
    s.inject({ kind: 'server-error', on: 'status' });
    const target = recordings[0] as SimRecording;
    const recording = await adapter.get({ ...ref(0), callId: target.callId });
    expect(recording.readiness).toBe('ready');
  });

  it('maps an injected 401 to ProviderAuthError', async () => {
    s.inject({ kind: 'unauthorized', on: 'list' });
    await expect(listAll(adapter)).rejects.toBeInstanceOf(errors.ProviderAuthError);
  });
});

describe('infobip auth', () => {
  let s: InfobipSimulator;
  beforeAll(async () => {
    s = await startSim(new InfobipSimulator({ recordings: infobipSampleRecordings(2) }));
  });
  afterAll(() => s.stop());

  it('accepts an API key (Authorization: App <key>)', async () => {
    const adapter = createInfobipAdapter(infobipSimulatorAccount(s, 'ib-key', 'apiKey'), FAST);
    expect(await listAll(adapter)).toHaveLength(2);
  });

  it('answers wrong credentials with Infobip 401 JSON', async () => {
    const response = await fetch(`${s.baseUrl}/voice/ivr/1/files`, {
      headers: { authorization: 'App nope', accept: 'application/json' },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      requestError: { serviceException: { messageId: 'UNAUTHORIZED', text: 'Invalid login details' } },
    });
  });

  it('raises ProviderAuthError naming the account, without the password or the key', async () => {
    const password = 'wr0ng-Pa55word-xyz';
    const apiKey = 'wrong-api-key-0123456789';
    const accounts: AccountOf<'infobip'>[] = [
      { ...infobipSimulatorAccount(s, 'ib-basic-bad'), auth: { username: s.username, password } },
      { ...infobipSimulatorAccount(s, 'ib-key-bad'), auth: { apiKey } },
    ];
    for (const account of accounts) {
      const error = await listAll(createInfobipAdapter(account, FAST)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errors.ProviderAuthError);
      const message = (error as Error).message;
      expect(message).toContain(`"${account.id}"`);
      expect(message).not.toContain(password);
      expect(message).not.toContain(apiKey);
    }
  });

  it('honours Accept: application/xml', async () => {
    const response = await fetch(`${s.baseUrl}/voice/ivr/1/files?page=1&pageSize=1`, {
      headers: { authorization: `App ${s.apiKey}`, accept: 'application/xml' },
    });
    expect(response.headers.get('content-type')).toBe('application/xml');
    const text = await response.text();
    expect(text).toMatch(/^<\?xml.*\n<recordedAudioFilesResponse><files><file><messageId>/);
    expect(text.match(/<file>/g)).toHaveLength(1);
  });
});

/** A throwaway server answering the listing with canned bodies, for shapes the simulator never sends. */
async function stubServer(
  pages: (page: number) => { body: string; contentType?: string },
): Promise<{ server: Server; account: AccountOf<'infobip'>; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stub');
    paths.push(`${url.pathname}${url.search}`);
    if (url.pathname !== '/voice/ivr/1/files') {
      response.writeHead(200, { 'content-type': 'audio/wav', 'content-length': 4 });
      response.end('RIFF');
      return;
    }
    const { body, contentType } = pages(Number(url.searchParams.get('page')));
    response.writeHead(200, { 'content-type': contentType ?? 'application/json' });
    response.end(body);
  });
  const baseUrl = await listen(server);
  return {
    server,
    paths,
    account: {
      id: 'ib-stub',
      provider: 'infobip',
      baseUrl,
      timeZone: 'UTC',
      schedule: 'rate(15 minutes)',
      auth: { apiKey: 'stub-key-123' },
    },
  };
}

const file = (id: string, extra: Record<string, unknown> = {}) => ({
  messageId: `m-${id}`,
  from: '442032864231',
  to: '38712345678',
  url: `/voice/ivr/1/files/${id}`,
  recordedAt: '2018-04-30T07:25:32.920+0000',
  ...extra,
});

describe('infobip malformed and unusual bodies', () => {
  const servers: Server[] = [];
  const stub = async (pages: Parameters<typeof stubServer>[0]) => {
    const created = await stubServer(pages);
    servers.push(created.server);
    return created;
  };
  afterAll(async () => {
    await Promise.all(servers.map(shut));
  });

  it('yields a file once when pages overlap', async () => {
    const pages = [[file('A'), file('B')], [file('B'), file('C')], []];
    const { account } = await stub((page) => ({ body: JSON.stringify({ files: pages[page - 1] ?? [] }) }));
    const recordings = await listAll(createInfobipAdapter(account, { ...FAST, pageSize: 2 }));
    expect(recordings.map((r) => r.providerRecordingId)).toEqual(['A', 'B', 'C']);
  });

  it('accepts the "results" collection of the field table and an empty {} page', async () => {
    const { account } = await stub((page) => ({
      body: page === 1 ? JSON.stringify({ results: [file('R1')] }) : '{}',
    }));
    const recordings = await listAll(createInfobipAdapter(account, FAST));
    expect(recordings.map((r) => r.providerRecordingId)).toEqual(['R1']);
  });

  it('reads recordedAt given as an epoch int (the field table types it int)', async () => {
    const { account } = await stub((page) => ({
      body: JSON.stringify(page === 1 ? [file('E', { recordedAt: 1525073132920 })] : []),
    }));
    const [recording] = await listAll(createInfobipAdapter(account, FAST));
    expect(recording?.startedAt).toBe('2018-04-30T07:25:32.920Z');
  });

  it('downloads from the configured host even when a listed url names another one', async () => {
    const { account, paths } = await stub((page) => ({
      body: JSON.stringify({
        files: page === 1 ? [file('X', { url: 'http://evil.example/voice/ivr/1/files/X' })] : [],
      }),
    }));
    const adapter = createInfobipAdapter(account, FAST);
    const [recording] = await listAll(adapter);
    expect(recording?.providerRecordingId).toBe('X');
    const { bytes } = await drain(await adapter.download(recording as Recording));
    expect(bytes).toBe(4);
    expect(paths).toContain('/voice/ivr/1/files/X');
  });

  it.each([
    ['an object of the wrong shape', '{"data":[]}', 'application/json', /neither a "files" array/],
    ['"files" that is not an array', '{"files":{"url":"x"}}', 'application/json', /not an array/],
    ['a file that is not an object', '{"files":["m"]}', 'application/json', /not a file entry/],
    [
      'XML with another root',
      '<error><text>x</text></error>',
      'application/xml',
      /recordedAudioFilesResponse/,
    ],
    ['a body that is not JSON', 'Internal error', 'text/plain', /not JSON/],
  ])('rejects %s with ProviderResponseError', async (_name, body, contentType, pattern) => {
    const { account } = await stub(() => ({ body, contentType }));
    const error = await listAll(createInfobipAdapter(account, FAST)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProviderResponseError);
    expect((error as Error).message).toContain('infobip account "ib-stub"');
    expect((error as Error).message).toMatch(pattern);
    expect((error as Error).message).not.toContain('stub-key-123');
  });

  it('stops with ProviderResponseError when the server ignores the page number', async () => {
    const { account, paths } = await stub(() => ({ body: JSON.stringify({ files: [file('S')] }) }));
    const error = await listAll(createInfobipAdapter(account, FAST)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProviderResponseError);
    expect((error as Error).message).toMatch(/pages 1 to 3 .* with the same files: it does not page/);
    // One repeat is tolerated (see the listing test of a page of new files): the third page stops it.
    expect(paths).toHaveLength(3);
  });
});

describe('infobip webhooks', () => {
  const adapter = createInfobipAdapter(
    {
      id: 'ib-hook',
      provider: 'infobip',
      baseUrl: 'http://127.0.0.1:9',
      timeZone: 'UTC',
      schedule: 'rate(15 minutes)',
      auth: { username: 'u', password: 'p-secret' },
    },
    FAST,
  );
  const parse = (body: unknown) =>
    adapter.parseWebhook({
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });

  it('parses one files[] entry into a ref with hints', () => {
    expect(parse(file('F1', { recordedAt: '2018-04-30T12:55:32.920+0530' }))).toEqual([
      {
        accountId: 'ib-hook',
        provider: 'infobip',
        providerRecordingId: 'F1',
        callId: 'm-F1',
        hints: REFERENCE_CALL,
      },
    ]);
  });

  it('parses {"files":[…]} into one ref per file', () => {
    const refs = parse({ files: [file('F1'), file('F2', { messageId: 'm-F1' })] });
    expect(refs.map((r) => [r.providerRecordingId, r.callId])).toEqual([
      ['F1', 'm-F1'],
      ['F2', 'm-F1'],
    ]);
  });

  it('returns [] for an empty files list and for a voice delivery report', () => {
    expect(parse({ files: [] })).toEqual([]);
    expect(
      parse({
        results: [
          {
            messageId: 'm1',
            to: '38712345678',
            status: { groupName: 'DELIVERED', name: 'DELIVERED_TO_HANDSET' },
          },
        ],
      }),
    ).toEqual([]);
  });

  it.each([
    ['not JSON', '<xml/>', /not JSON/],
    ['an object without url or files', { messageId: 'm' }, /"url".*"files"/],
    [
      'a file whose url is empty',
      { files: [file('F1'), { messageId: 'm', url: '' }] },
      /file #2 has no "url"/,
    ],
    ['a JSON string', '"hello"', /"url".*"files"/],
  ])('rejects %s with WebhookParseError', (_name, body, pattern) => {
    expect(() => parse(body)).toThrow(errors.WebhookParseError);
    expect(() => parse(body)).toThrow(pattern);
  });
});
