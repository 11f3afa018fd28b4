import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AccountOf } from '../../lambdas/core/config.ts';
import * as errors from '../../lambdas/core/errors.ts';
import type { LogFields, Logger } from '../../lambdas/core/log.ts';
import type { ProviderAdapter } from '../../lambdas/core/ports.ts';
import { createDialogtechAdapter } from '../../lambdas/providers/dialogtech.ts';
import type { SimRecording } from '../../local/simulators/base.ts';
import {
  DialogtechSimulator,
  dialogtechRecordings,
  dialogtechSimulatorAccount,
} from '../../local/simulators/dialogtech.ts';
import { listen, shut } from '../helpers/http-server.ts';
import { FAST } from '../helpers/retry.ts';
import { collect, drain, rejection } from '../helpers/streams.ts';

const WHO = 'dialogtech account "dt-test"';

// Keys with characters that URL encoding rewrites (`+`, `/`, `=`, space, `!`, `~`, parentheses).
const ACCESS_KEY = 'AK+/key=1!';
const SECRET_KEY = 'S3cr3t+/sp ace~(x)';
const WRONG_SECRET = 'Wr0ng+/s3cret!~ x';

const FINDME = { type: 'findme', id: '1234' };
const QUEUE = { type: 'queue', id: '77' };
const SINGLE = { type: 'recorded_calls', id: '5' };
const EMPTY = { type: 'survey', id: '9' };

// The two recordings of the reference's recording.list example, plus one on a DST date.
const REFERENCE_SID = '0932654521723728';
const SECOND_SID = '123456789101112';
const SUMMER_SID = '0900000000000777';

const BULK_START = Date.UTC(2026, 10, 1, 9, 0, 0);
const bulk = dialogtechRecordings(240, { start: new Date(BULK_START), lists: [FINDME, QUEUE] });
// Some bulk recordings sit in both lists: they must still be listed once.
for (const recording of bulk.slice(0, 12)) recording.extra = { lists: 'findme:1234 queue:77' };

/** An inbound call's recording; DialogTech's call id is the recording's sid. */
function inboundCall(
  id: string,
  from: string,
  to: string,
  startedAt: string,
  durationSec: number,
  lists: string,
): SimRecording {
  return {
    id,
    callId: id,
    from,
    to,
    direction: 'inbound',
    startedAt: new Date(startedAt),
    durationSec,
    extra: { lists },
  };
}

let clock = Date.UTC(2026, 10, 2, 12, 0, 0);
const sim = new DialogtechSimulator({
  accessKey: ACCESS_KEY,
  secretAccessKey: SECRET_KEY,
  timeZone: 'America/Chicago',
  lists: [EMPTY],
  now: () => clock,
  recordings: [
    // 2019-02-20 20:42:11 CST, 5.3 minutes
    inboundCall(REFERENCE_SID, '+13125551265', '+18475551234', '2019-02-21T02:42:11Z', 318, 'findme:1234'),
    // 2019-01-20 07:09:55 CST, 12.1 minutes
    inboundCall(
      SECOND_SID,
      '+13125551265',
      '+18475551234',
      '2019-01-20T13:09:55Z',
      726,
      'findme:1234 queue:77',
    ),
    // 2019-07-04 09:15:00 CDT
    inboundCall(SUMMER_SID, '+13125550000', '+18475559999', '2019-07-04T14:15:00Z', 90, 'recorded_calls:5'),
    ...bulk,
  ],
});

let account: AccountOf<'dialogtech'>;
let adapter: ProviderAdapter;

beforeAll(async () => {
  await sim.start();
  account = dialogtechSimulatorAccount(sim, 'dt-test');
  adapter = createDialogtechAdapter(account, FAST);
});

afterAll(async () => {
  await sim.stop();
});

async function thrown(promise: Promise<unknown>): Promise<Error> {
  const error = await rejection(promise);
  if (!error) throw new Error('expected a rejection');
  return error as Error;
}

/** Every form a key takes in a URL: raw, encodeURIComponent and URLSearchParams. */
function keyForms(key: string): string[] {
  return [key, encodeURIComponent(key), new URLSearchParams({ k: key }).toString().slice(2)];
}

function expectNoKeys(text: string): void {
  for (const key of [ACCESS_KEY, SECRET_KEY, WRONG_SECRET]) {
    for (const form of keyForms(key)) expect(text).not.toContain(form);
  }
}

function addRecording(id: string, options: { readyAt?: number; lists?: string; durationSec?: number } = {}) {
  const lists = options.lists ?? 'recorded_calls:5';
  sim.add({
    ...inboundCall(
      id,
      '+13125551111',
      '+18475552222',
      '2026-10-15T15:00:00Z',
      options.durationSec ?? 90,
      lists,
    ),
    readyAt: options.readyAt,
  });
}

function ref(id: string) {
  return { accountId: 'dt-test', provider: 'dialogtech' as const, providerRecordingId: id };
}

describe('dialogtech list', () => {
  it('lists every (type, id) pair once each, de-duplicating sids across lists', async () => {
    const before = sim.count('list');
    const recordings = await collect(adapter.list({}));
    const ids = recordings.map((recording) => recording.providerRecordingId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(243);
    expect(new Set(ids)).toEqual(new Set([REFERENCE_SID, SECOND_SID, SUMMER_SID, ...bulk.map((r) => r.id)]));
    // No paging: one request per configured list, including the empty one (404 No results).
    expect(account.lists).toHaveLength(4);
    expect(account.lists).toEqual(expect.arrayContaining([FINDME, QUEUE, SINGLE, EMPTY]));
    expect(sim.count('list') - before).toBe(4);
  });

  it('resumes a pass at the list its position names, and from the first list when the config lost it', async () => {
    const warnings: LogFields[] = [];
    const logger: Logger = {
      info: () => {},
      warn: (_event, fields) => warnings.push(fields),
      error: () => {},
    };
    const both = createDialogtechAdapter({ ...account, lists: [FINDME, QUEUE] }, FAST);
    const first = await both.listPage({});
    expect(first.next).toBe('type=queue&id=77');
    // Redeployed mid-pass: QUEUE moved to the front, then FINDME left.
    const moved = createDialogtechAdapter({ ...account, lists: [QUEUE, SINGLE] }, { ...FAST, logger });
    const resumed = await moved.listPage({}, first.next);
    expect(resumed.next).toBe('type=recorded_calls&id=5');
    expect(warnings).toEqual([]);
    const shrunk = createDialogtechAdapter({ ...account, lists: [SINGLE] }, { ...FAST, logger });
    const restarted = await shrunk.listPage({}, first.next);
    expect(restarted.recordings.map((r) => r.providerRecordingId)).toEqual([SUMMER_SID]);
    expect(restarted.next).toBeUndefined();
    expect(warnings).toEqual([{ account: 'dt-test', position: 'type=queue&id=77' }]);
  });

  it('normalizes the reference record: string sid, dnis, decimal minutes, Chicago winter time', async () => {
    const recordings = await collect(adapter.list({}));
    const reference = recordings.find((recording) => recording.providerRecordingId === REFERENCE_SID);
    expect(reference).toEqual({
      accountId: 'dt-test',
      provider: 'dialogtech',
      providerRecordingId: '0932654521723728',
      callId: '0932654521723728',
      to: '8475551234',
      direction: 'inbound',
      startedAt: '2019-02-21T02:42:11.000Z',
      endedAt: '2019-02-21T02:47:29.000Z',
      durationSec: 318,
      format: 'wav',
      readiness: 'ready',
      raw: {
        sid: '0932654521723728',
        dnis: '8475551234',
        number_connected: '3125551265',
        minutes: '5.3',
        date: '2019-02-20 20:42:11',
      },
    });
    const second = recordings.find((recording) => recording.providerRecordingId === SECOND_SID);
    expect(second?.startedAt).toBe('2019-01-20T13:09:55.000Z');
    expect(second?.durationSec).toBe(726);
  });

  it('reads a summer date with the CDT offset and takes a single <recording> as one item', async () => {
    const summer = (await collect(adapter.list({}))).find((r) => r.providerRecordingId === SUMMER_SID);
    expect((summer?.raw as { date?: string } | undefined)?.date).toBe('2019-07-04 09:15:00');
    expect(summer?.startedAt).toBe('2019-07-04T14:15:00.000Z');
    expect(summer?.endedAt).toBe('2019-07-04T14:16:30.000Z');
    expect(summer?.durationSec).toBe(90);
  });

  it('applies the window client-side: since inclusive, until exclusive, any offset notation', async () => {
    const minute = 60_000;
    const since = new Date(BULK_START + 10 * minute).toISOString();
    const until = new Date(BULK_START + 20 * minute).toISOString();
    const inWindow = await collect(adapter.list({ since, until }));
    expect(inWindow.map((r) => r.startedAt).sort()).toEqual(
      Array.from({ length: 10 }, (_, index) => new Date(BULK_START + (10 + index) * minute).toISOString()),
    );
    // The same window written in Chicago's offset on that day (CST after the DST change).
    const offset = await collect(adapter.list({ since: '2026-11-01T03:10:00-06:00', until }));
    expect(offset).toHaveLength(10);
    const old = await collect(adapter.list({ until: '2020-01-01T00:00:00Z' }));
    expect(old.map((r) => r.providerRecordingId).sort()).toEqual(
      [SUMMER_SID, REFERENCE_SID, SECOND_SID].sort(),
    );
  });
});

describe('dialogtech readiness and download', () => {
  it('goes from pending (202) to ready; undescribed, its metadata is looked up once it is ready', async () => {
    const sid = '0955500000000001';
    addRecording(sid, { readyAt: clock + 60_000 });
    const listsBefore = sim.count('list');
    const pending = await adapter.get(ref(sid));
    expect(pending.readiness).toBe('pending');
    expect(pending.providerStatus).toBe('202');
    // Pending, nothing needs the metadata yet: only the probe was sent.
    expect(sim.count('list')).toBe(listsBefore);
    await expect(adapter.download(ref(sid))).rejects.toBeInstanceOf(errors.RecordingNotReadyError);
    await expect(adapter.delete(ref(sid))).rejects.toBeInstanceOf(errors.RecordingNotReadyError);

    clock += 120_000;
    const ready = await adapter.get(ref(sid));
    expect(ready).toMatchObject({
      readiness: 'ready',
      providerStatus: '200',
      providerRecordingId: sid,
      to: '8475552222',
      durationSec: 90, // listed as <minutes>1.5</minutes>
    });
  });

  it('downloads the exact bytes, verified by SHA-256 and count', async () => {
    const download = await adapter.download(ref(REFERENCE_SID));
    expect(download.contentType).toBe('audio/wav');
    const wav = sim.audio(REFERENCE_SID);
    expect(download.contentLength).toBe(wav.size);
    expect(await drain(download)).toEqual({ bytes: wav.size, sha256: wav.sha256() });
  });

  it('probes readiness without reading the audio, releasing each connection', async () => {
    // A probe that left its audio unread would hold one of the 64 pooled connections until the
    // body timeout: 70 probes would then stall for 10 s instead of finishing at once. The
    // simulator sees it as answers still streaming when the next probe comes in.
    const long = dialogtechRecordings(1, { durationSec: 600 });
    const probeSim = new DialogtechSimulator({ recordings: long });
    await probeSim.start();
    try {
      const probing = createDialogtechAdapter(dialogtechSimulatorAccount(probeSim, 'dt-probe'), {
        ...FAST,
        timeoutMs: 10_000,
      });
      const sid = long[0]?.id ?? '';
      // Described, as a sweep hands a recording over: each check is the probe alone.
      const known = { startedAt: '2026-11-01T09:00:00.000Z' };
      for (let probe = 1; probe <= 70; probe += 1) {
        expect((await probing.get(ref(sid), known)).readiness).toBe('ready');
        // One request per probe; at most the previous answer not yet seen closed at the server.
        expect(probeSim.count('audio')).toBe(probe);
        expect(probeSim.maxInFlight).toBeLessThanOrEqual(2);
      }
      expect(probeSim.count('list')).toBe(0);
      // Every probe's answer was closed: nothing is left streaming to a connection held open.
      await vi.waitFor(() => expect(probeSim.inFlight).toBe(0));
      const download = await probing.download(ref(sid));
      expect((await drain(download)).sha256).toBe(probeSim.audio(sid).sha256());
    } finally {
      await probeSim.stop();
    }
  }, 15_000);

  it('reports deleted and unknown sids as gone, and download throws RecordingGoneError', async () => {
    const sid = '0955500000000002';
    addRecording(sid);
    sim.markDeleted(sid);
    const gone = await adapter.get(ref(sid));
    expect(gone).toMatchObject({ readiness: 'gone', providerStatus: '404', providerRecordingId: sid });
    expect(gone.raw).toMatchObject({ description: 'File not found' });
    await expect(adapter.download(ref(sid))).rejects.toBeInstanceOf(errors.RecordingGoneError);

    const unknown = await adapter.get(ref('0999999999999999'));
    expect(unknown.readiness).toBe('gone');
    expect(unknown.raw).toMatchObject({ description: 'File not found' });
  });

  it('"Error in retrieving recording" (a 404 too) is a failure to try again, not a gone recording', async () => {
    const sid = '0955500000000005';
    addRecording(sid);
    sim.failingFiles.add(sid);
    try {
      for (const attempt of [adapter.get(ref(sid)), adapter.download(ref(sid))]) {
        const error = await thrown(attempt);
        expect(error).toBeInstanceOf(errors.ProviderUnavailableError);
        expect(error.message).toContain(`could not read recording ${sid}`);
      }
    } finally {
      sim.failingFiles.delete(sid);
    }
    expect((await adapter.get(ref(sid))).readiness).toBe('ready');
  });

  it('turns a 400 (missing sid) into ProviderResponseError with the description', async () => {
    const error = await thrown(adapter.download(ref('')));
    expect(error).toBeInstanceOf(errors.ProviderResponseError);
    expect(error.message).toContain('Parameter sid is required');
    expect(error.message).toContain(WHO);
  });

  it('asks for mp3 when the account says so and gets audio/mpeg bytes with an MP3 header', async () => {
    const mp3Adapter = createDialogtechAdapter({ ...account, format: 'mp3' }, FAST);
    const download = await mp3Adapter.download(ref(SUMMER_SID));
    expect(download.contentType).toBe('audio/mpeg');
    const mp3 = sim.mp3(SUMMER_SID);
    expect(await drain(download)).toEqual({ bytes: mp3.size, sha256: mp3.sha256() });
    expect(mp3.slice(0, 3).toString('latin1')).toBe('ID3');
    expect([...mp3.slice(10, 12)]).toEqual([0xff, 0xfb]);
    expect(mp3.sha256()).not.toBe(sim.audio(SUMMER_SID).sha256());
    const listed = await collect(mp3Adapter.list({ until: '2020-01-01T00:00:00Z' }));
    expect(listed.every((recording) => recording.format === 'mp3')).toBe(true);
  });
});

describe('dialogtech delete', () => {
  it('removes a recording, after which it is gone and no longer listed', async () => {
    const sid = '0955500000000003';
    addRecording(sid);
    const before = sim.count('delete');
    await expect(adapter.delete(ref(sid))).resolves.toEqual({ status: 200, alreadyGone: false });
    expect(sim.count('delete') - before).toBe(1);
    expect(sim.recordings.get(sid)?.deleted).toBe(true);
    expect((await adapter.get(ref(sid))).readiness).toBe('gone');
    const listed = await collect(adapter.list({}));
    expect(listed.some((recording) => recording.providerRecordingId === sid)).toBe(false);
  });

  it('treats removing a gone or unknown recording (404) as success', async () => {
    const sid = '0955500000000004';
    addRecording(sid);
    sim.markDeleted(sid);
    await expect(adapter.delete(ref(sid))).resolves.toEqual({ status: 404, alreadyGone: true });
    await expect(adapter.delete(ref('0999999999999998'))).resolves.toEqual({
      status: 404,
      alreadyGone: true,
    });
    expect(adapter.canDelete(ref(sid))).toBe(true);
  });

  it('"Error in removing recording" is a removal that failed: an error, never "already gone"', async () => {
    const sid = '0955500000000006';
    addRecording(sid);
    sim.failingFiles.add(sid);
    const error = await thrown(adapter.delete(ref(sid)));
    sim.failingFiles.delete(sid);
    expect(error).toBeInstanceOf(errors.ProviderUnavailableError);
    expect(error.message).toContain(`could not remove recording ${sid}`);
    expect(sim.recordings.get(sid)?.deleted).toBeFalsy();
    await expect(adapter.delete(ref(sid))).resolves.toEqual({ status: 200, alreadyGone: false });
  });
});

describe('dialogtech faults', () => {
  it('honours a rate limit with Retry-After and retries', async () => {
    sim.inject({ kind: 'rate-limit', on: 'list', retryAfterSeconds: 1 });
    const before = sim.count('list');
    const started = Date.now();
    const recordings = await collect(adapter.list({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(recordings.length).toBeGreaterThanOrEqual(243);
    expect(sim.count('list') - before).toBe(5);
  });

  it('retries server errors on the audio', async () => {
    sim.inject({ kind: 'server-error', on: 'audio', times: 2 });
    const before = sim.count('audio');
    const download = await adapter.download(ref(SUMMER_SID));
    expect((await drain(download)).sha256).toBe(sim.audio(SUMMER_SID).sha256());
    expect(sim.count('audio') - before).toBe(3);
  });

  it('fails a truncated download with IncompleteDownloadError', async () => {
    sim.inject({ kind: 'truncate', on: 'audio', fraction: 0.4 });
    const download = await adapter.download(ref(SUMMER_SID));
    await expect(drain(download)).rejects.toBeInstanceOf(errors.IncompleteDownloadError);
  });

  it('completes a slow body with the right hash', async () => {
    sim.inject({ kind: 'slow', on: 'audio', chunkBytes: 32 * 1024, chunkDelayMs: 5 });
    const download = await adapter.download(ref(SUMMER_SID));
    const wav = sim.audio(SUMMER_SID);
    expect(await drain(download)).toEqual({ bytes: wav.size, sha256: wav.sha256() });
  });

  it('retries a connection reset', async () => {
    const sid = '0955500000000005';
    addRecording(sid);
    sim.inject({ kind: 'reset', on: 'delete' });
    const before = sim.count('delete');
    await adapter.delete(ref(sid));
    expect(sim.count('delete') - before).toBe(2);
    expect(sim.recordings.get(sid)?.deleted).toBe(true);
  });

  it('turns broken XML into ProviderResponseError naming account, provider and request', async () => {
    sim.inject({ kind: 'garbage', on: 'list' });
    const error = await thrown(collect(adapter.list({})));
    expect(error).toBeInstanceOf(errors.ProviderResponseError);
    expect(error.message).toContain(WHO);
    expect(error.message).toContain('ibp_api.php');
    expect(error.message).toContain('action=recording.list');
    expectNoKeys(error.message);
  });

  it('treats an XML document in place of audio as an incomplete download', async () => {
    sim.inject({ kind: 'garbage', on: 'audio' });
    await expect(adapter.download(ref(SUMMER_SID))).rejects.toBeInstanceOf(errors.IncompleteDownloadError);
  });

  it('maps an injected 401 to ProviderAuthError', async () => {
    sim.inject({ kind: 'unauthorized', on: 'delete' });
    await expect(adapter.delete(ref(SUMMER_SID))).rejects.toBeInstanceOf(errors.ProviderAuthError);
    expect(sim.recordings.get(SUMMER_SID)?.deleted).toBeUndefined();
  });
});

describe('dialogtech credentials never leak', () => {
  const lines: string[] = [];
  const capture = (level: string) => (message: string, fields?: LogFields) => {
    lines.push(JSON.stringify({ level, message, ...fields }));
  };
  const logger: Logger = { info: capture('info'), warn: capture('warn'), error: capture('error') };

  it('refuses wrong keys with ProviderAuthError that names the account but no key', async () => {
    const wrong = createDialogtechAdapter(
      { ...account, auth: { accessKey: ACCESS_KEY, secretAccessKey: WRONG_SECRET } },
      { ...FAST, logger },
    );
    const listError = await thrown(collect(wrong.list({})));
    expect(listError).toBeInstanceOf(errors.ProviderAuthError);
    expect(listError.message).toContain(WHO);
    expect(listError.message).toContain('secret_access_key=***');
    expectNoKeys(listError.message);
    const audioError = await thrown(wrong.download(ref(SUMMER_SID)));
    expect(audioError).toBeInstanceOf(errors.ProviderAuthError);
    expectNoKeys(audioError.message);
  });

  it('keeps keys out of exhausted-retry errors, garbage errors and retry logs', async () => {
    const logged = createDialogtechAdapter(account, { ...FAST, logger });
    sim.inject({ kind: 'server-error', on: 'list', times: Number.POSITIVE_INFINITY });
    const unavailable = await thrown(collect(logged.list({})));
    sim.clearFaults();
    expect(unavailable).toBeInstanceOf(errors.ProviderUnavailableError);
    expect(unavailable.message).toContain(WHO);
    expectNoKeys(unavailable.message);

    sim.inject({ kind: 'garbage', on: 'list' });
    const garbage = await thrown(collect(logged.list({})));
    expect(garbage).toBeInstanceOf(errors.ProviderResponseError);
    expectNoKeys(garbage.message);

    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).toContain('provider request failed');
    expectNoKeys(lines.join('\n'));
  });
});

/** A server answering canned bodies, for shapes the simulator never produces. */
describe('dialogtech malformed answers', () => {
  let server: Server;
  let answer: (url: URL) => { status: number; type: string; body: string };
  let canned: ProviderAdapter;

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const reply = answer(new URL(request.url ?? '/', 'http://canned'));
      response.writeHead(reply.status, { 'content-type': reply.type });
      response.end(reply.body);
    });
    canned = createDialogtechAdapter({ ...account, baseUrl: await listen(server), lists: [FINDME] }, FAST);
  });

  afterAll(() => shut(server));

  const xml = (status: number, body: string) => () => ({ status, type: 'text/xml', body });

  it('treats a 200 whose result is failed as an error with its description', async () => {
    answer = xml(
      200,
      '<response><result>failed</result><result_description>Account suspended</result_description></response>',
    );
    const error = await thrown(collect(canned.list({})));
    expect(error).toBeInstanceOf(errors.ProviderResponseError);
    expect(error.message).toContain('Account suspended');
    expect(error.message).toContain(WHO);
  });

  it('treats a 200 "Invalid api_key" as an auth error', async () => {
    answer = xml(
      200,
      '<response><result>failed</result><result_description>Invalid api_key</result_description></response>',
    );
    await expect(collect(canned.list({}))).rejects.toBeInstanceOf(errors.ProviderAuthError);
  });

  it('rejects JSON, records that are not elements and foreign 404 pages instead of guessing', async () => {
    answer = () => ({ status: 200, type: 'application/json', body: '{"result":"success"}' });
    await expect(collect(canned.list({}))).rejects.toBeInstanceOf(errors.ProviderResponseError);
    // A sid-less record is skipped instead (listing-item-without-id.test.ts).
    answer = xml(200, '<response><result>success</result><data><recording>1</recording></data></response>');
    await expect(collect(canned.list({}))).rejects.toBeInstanceOf(errors.ProviderResponseError);
    // A 404 that is not DialogTech's XML (wrong baseUrl) is neither an empty list nor a gone file.
    answer = () => ({ status: 404, type: 'text/html', body: '<html><body>Not Found</body></html>' });
    await expect(collect(canned.list({}))).rejects.toBeInstanceOf(errors.ProviderResponseError);
    await expect(canned.download(ref(REFERENCE_SID))).rejects.toBeInstanceOf(errors.ProviderResponseError);
    await expect(canned.get(ref(REFERENCE_SID))).rejects.toBeInstanceOf(errors.ProviderResponseError);
    await expect(canned.delete(ref(REFERENCE_SID))).rejects.toBeInstanceOf(errors.ProviderResponseError);
  });

  it('accepts an empty <data/> and a 200 "being processed" document as not ready', async () => {
    answer = xml(
      200,
      '<response><result>success</result><result_description></result_description><data/></response>',
    );
    expect(await collect(canned.list({}))).toEqual([]);
    answer = xml(
      200,
      '<response><result>failed</result><result_description>The requested recording is currently being processed by the system. Please check back later.</result_description></response>',
    );
    await expect(canned.download(ref(REFERENCE_SID))).rejects.toBeInstanceOf(errors.RecordingNotReadyError);
  });
});

describe('dialogtech webhooks', () => {
  it('maps a form-encoded post-call body with sid to a ref with hints', () => {
    const body = new URLSearchParams({
      sid: REFERENCE_SID,
      dnis: '8475551234',
      number_connected: '3125551265',
      minutes: '5.3',
      date: '2019-02-20 20:42:11',
    }).toString();
    const parsed = adapter.parseWebhook({
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(parsed).toEqual([
      {
        accountId: 'dt-test',
        provider: 'dialogtech',
        providerRecordingId: REFERENCE_SID,
        callId: REFERENCE_SID,
        hints: {
          direction: 'inbound',
          format: 'wav',
          to: '8475551234',
          startedAt: '2019-02-21T02:42:11.000Z',
          endedAt: '2019-02-21T02:47:29.000Z',
          durationSec: 318,
        },
      },
    ]);
  });

  it('accepts JSON with call_sid, as one object or a list', () => {
    const one = adapter.parseWebhook({
      body: JSON.stringify({ call_sid: '0911111111111111' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(one.map((r) => r.providerRecordingId)).toEqual(['0911111111111111']);
    const many = adapter.parseWebhook({
      body: JSON.stringify([
        { sid: '0911111111111112' },
        { call_sid: '0911111111111113', dnis: '8475550000' },
      ]),
      headers: {},
    });
    expect(many.map((r) => r.providerRecordingId)).toEqual(['0911111111111112', '0911111111111113']);
    expect(many[1]?.hints?.to).toBe('8475550000');
  });

  it('returns [] for a call that was not recorded', () => {
    expect(adapter.parseWebhook({ body: 'sid=0911111111111114&recorded=0', headers: {} })).toEqual([]);
  });

  it('throws WebhookParseError naming the problem', () => {
    expect(() => adapter.parseWebhook({ body: 'dnis=8475551234', headers: {} })).toThrow(
      /no "sid" \(or "call_sid"\) field/,
    );
    expect(() =>
      adapter.parseWebhook({ body: '{"sid": "09', headers: { 'content-type': 'application/json' } }),
    ).toThrow(errors.WebhookParseError);
    expect(() => adapter.parseWebhook({ body: '{"sid": "09', headers: {} })).toThrow(/not valid JSON/);
    expect(() =>
      adapter.parseWebhook({ body: '"text"', headers: { 'content-type': 'application/json' } }),
    ).toThrow(/not an object/);
    expect(() => adapter.parseWebhook({ body: '  ', headers: {} })).toThrow(/empty/);
  });
});
