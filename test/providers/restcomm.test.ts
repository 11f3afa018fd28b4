import { createServer, type Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccountOf } from '../../lambdas/core/config.ts';
import * as errors from '../../lambdas/core/errors.ts';
import type { ListWindow } from '../../lambdas/core/ports.ts';
import type { Recording } from '../../lambdas/core/recording.ts';
import type { AdapterOptions } from '../../lambdas/providers/adapter.ts';
import { createRestcommAdapter } from '../../lambdas/providers/restcomm.ts';
import {
  RestcommSimulator,
  type RestcommSimulatorOptions,
  restcommRecordings,
  restcommSid,
  restcommSimulatorAccount,
} from '../../local/simulators/restcomm.ts';
import { listen, shut } from '../helpers/http-server.ts';
import { FAST } from '../helpers/retry.ts';
import { collect, drain } from '../helpers/streams.ts';

/** Sample recordings start here, one a minute. */
const START = Date.UTC(2026, 10, 1, 9, 0, 0);

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(cleanup.map((stop) => stop()));
});

async function startSim(options: RestcommSimulatorOptions = {}): Promise<RestcommSimulator> {
  const sim = new RestcommSimulator(options);
  await sim.start();
  cleanup.push(() => sim.stop());
  return sim;
}

function adapterFor(
  sim: RestcommSimulator,
  account: Partial<AccountOf<'restcomm'>> = {},
  options: AdapterOptions = {},
) {
  return createRestcommAdapter({ ...restcommSimulatorAccount(sim), ...account }, { ...FAST, ...options });
}

const minute = (index: number) => new Date(START + index * 60_000).toISOString();

describe('restcomm list', () => {
  it('lists page by page, each a new listing from the second of the last recording read', async () => {
    const sim = await startSim({ recordings: restcommRecordings(120) });
    const listed = await collect(adapterFor(sim, {}, { pageSize: 50 }).list({}));
    expect(listed.map((r) => r.providerRecordingId)).toEqual(sim.liveRecordings().map((r) => r.id));
    expect(sim.listQueries.map((query) => [query.get('StartTime'), query.get('Page')])).toEqual([
      [null, '0'],
      ['2026-11-01T09:49:00', '0'],
      ['2026-11-01T10:38:00', '0'],
    ]);
    // Neither next_page_uri's offset nor its AfterSid is followed.
    expect(sim.listQueries.some((query) => query.has('AfterSid'))).toBe(false);
  });

  it('hands each recording over once across units, also where a second is cut between pages', async () => {
    // Recordings two to a second: every page of three ends in the middle of one.
    const paired = restcommRecordings(11).map((recording, index) => ({
      ...recording,
      startedAt: new Date(START + Math.floor(index / 2) * 1000),
    }));
    const sim = await startSim({ recordings: paired });
    const handed = (await listUnits(adapterFor(sim, {}, { pageSize: 3 }), {})).flat();
    expect(handed.map((r) => r.providerRecordingId)).toEqual(sim.liveRecordings().map((r) => r.id));
  });

  it('lists every recording while the oldest are deleted between units', async () => {
    // Delete-at-source removes the oldest (archived, so listed already) while a deep pass is under
    // way: offsets into the list shift, so paging by offset would skip as many as were deleted.
    const sim = await startSim({ recordings: restcommRecordings(300) });
    const ids = sim.liveRecordings().map((r) => r.id);
    const handed = await listUnits(adapterFor(sim, {}, { pageSize: 50 }), {}, (unit) => {
      if (unit === 2) for (const id of ids.slice(0, 95)) sim.markDeleted(id);
    });
    expect(new Set(handed.flat().map((r) => r.providerRecordingId))).toEqual(new Set(ids));
  });

  it('goes on from a checkpoint that deletions put past the end of the list', async () => {
    // Four pages of 50 read, then 151 deleted: an offset checkpoint (Page 4) would be a 400 on
    // every later sweep, as 149 recordings make three pages.
    const sim = await startSim({ recordings: restcommRecordings(300) });
    const ids = sim.liveRecordings().map((r) => r.id);
    const handed = await listUnits(adapterFor(sim, {}, { pageSize: 50 }), {}, (unit) => {
      if (unit === 4) for (const id of ids.slice(0, 151)) sim.markDeleted(id);
    });
    expect(new Set(handed.flat().map((r) => r.providerRecordingId))).toEqual(new Set(ids));
  });

  it('starts again from the StartTime of a checkpoint callvault 0.1 wrote (a next-page URL)', async () => {
    const sim = await startSim({ recordings: restcommRecordings(30) });
    const adapter = adapterFor(sim, {}, { pageSize: 50 });
    const legacy = `${sim.baseUrl}/2012-04-24/Accounts/${sim.accountSid}/Recordings.json?PageSize=50&StartTime=2026-11-01T09:10:00&Page=3`;
    const page = await adapter.listPage({ since: minute(10) }, legacy);
    expect(page.recordings.map((r) => r.startedAt)).toEqual(
      Array.from({ length: 20 }, (_, i) => minute(10 + i)),
    );
    expect(sim.listQueries.at(-1)?.get('Page')).toBe('0');
    await expect(adapter.listPage({}, 'page=-1')).rejects.toThrow(
      /listing position "page=-1" is not one this adapter writes/,
    );
  });

  it('pages one recording at a time', async () => {
    const sim = await startSim({ recordings: restcommRecordings(4) });
    const listed = await collect(adapterFor(sim, {}, { pageSize: 1 }).list({}));
    expect(listed.map((r) => r.providerRecordingId)).toEqual(sim.liveRecordings().map((r) => r.id));
  });

  it.each(['without-suffix', 'api-prefix', 'other-host'] as const)(
    'builds every page under the configured base, whatever next_page_uri (written %s) names',
    async (style) => {
      const sim = await startSim({ recordings: restcommRecordings(25), nextPageUri: style });
      const listed = await collect(adapterFor(sim, {}, { pageSize: 10 }).list({}));
      expect(listed.map((r) => r.providerRecordingId)).toEqual(sim.liveRecordings().map((r) => r.id));
      // Every page came from the simulator itself, never from instance1.restcomm.com or /api/.
      expect(sim.count('list')).toBe(3);
      expect(sim.requests.every((request) => request.path.startsWith('/restcomm/2012-04-24/'))).toBe(true);
    },
  );

  it('filters to the window: since inclusive, until exclusive, to the millisecond', async () => {
    const sim = await startSim({ recordings: restcommRecordings(40) });
    const adapter = adapterFor(sim, {}, { pageSize: 4 });
    const window = await collect(adapter.list({ since: minute(10), until: minute(20) }));
    expect(window.map((r) => r.startedAt)).toEqual(Array.from({ length: 10 }, (_, i) => minute(10 + i)));
    for (const query of sim.listQueries) {
      expect(query.get('EndTime')).toBe('2026-11-01T09:20:00');
      expect(query.get('SortBy')).toBe('DateCreated:asc');
    }

    // The API's bounds are whole seconds and inclusive; the exact ones are applied client-side.
    const halfSecond = (index: number) => new Date(START + index * 60_000 + 500).toISOString();
    const narrow = await collect(adapter.list({ since: halfSecond(10), until: halfSecond(12) }));
    expect(narrow.map((r) => r.startedAt)).toEqual([minute(11), minute(12)]);
    expect(sim.listQueries.at(-1)?.get('StartTime')).toBe('2026-11-01T09:10:00');
    expect(sim.listQueries.at(-1)?.get('EndTime')).toBe('2026-11-01T09:12:01');
  });

  it('goes on past the limit Restcomm ends every listing at, from the second of the last one listed', async () => {
    // Five a listing (10,000 on the real server), less than a page. The server's bounds are
    // inclusive, so the window asks for 13 (09:01 to 09:13): four listings.
    const sim = await startSim({ recordings: restcommRecordings(14), listLimit: 5 });
    const adapter = adapterFor(sim, {}, { pageSize: 10 });
    const listed = await collect(adapter.list({ since: minute(1), until: minute(13) }));
    expect(listed.map((r) => r.startedAt)).toEqual(Array.from({ length: 12 }, (_, i) => minute(1 + i)));
    expect(sim.listQueries.map((q) => q.get('StartTime'))).toEqual([
      '2026-11-01T09:01:00',
      '2026-11-01T09:05:00',
      '2026-11-01T09:09:00',
      '2026-11-01T09:13:00',
    ]);

    // The whole account (no window), as the deep pass lists it.
    expect(await collect(adapter.list({}))).toHaveLength(14);
  });

  it('refuses a listing at its limit that cannot move on: more than the limit share one second', async () => {
    const sameSecond = restcommRecordings(6).map((recording) => ({
      ...recording,
      startedAt: new Date(START),
    }));
    const sim = await startSim({ recordings: sameSecond, listLimit: 3 });
    await expect(collect(adapterFor(sim).list({ since: minute(0) }))).rejects.toThrow(
      /reached its limit of 3 recordings and ends at 2026-11-01T09:00:00, so it cannot advance/,
    );
  });

  it('pages within one second by offset when a whole page shares it', async () => {
    const sameSecond = restcommRecordings(7).map((recording) => ({
      ...recording,
      startedAt: new Date(START),
    }));
    const sim = await startSim({ recordings: sameSecond });
    const listed = await collect(adapterFor(sim, {}, { pageSize: 3 }).list({}));
    expect(new Set(listed.map((r) => r.providerRecordingId)).size).toBe(7);
    expect(sim.listQueries.map((q) => [q.get('StartTime'), q.get('Page')])).toEqual([
      [null, '0'],
      ['2026-11-01T09:00:00', '0'],
      ['2026-11-01T09:00:00', '1'],
      ['2026-11-01T09:00:00', '2'],
    ]);
  });
});

/** Every unit of a listing, as separate sweep units read it: `between` runs after each. */
async function listUnits(
  adapter: ReturnType<typeof adapterFor>,
  window: ListWindow,
  between: (unit: number) => void = () => {},
): Promise<Recording[][]> {
  const units: Recording[][] = [];
  let position: string | undefined;
  do {
    const page = await adapter.listPage(window, position);
    units.push(page.recordings);
    between(units.length);
    position = page.next;
  } while (position !== undefined);
  return units;
}

describe('restcomm normalization', () => {
  it('turns RFC 2822 dates with the server offset into UTC and duration strings into numbers', async () => {
    const recording = {
      ...(restcommRecordings(1)[0] as NonNullable<ReturnType<typeof restcommRecordings>[0]>),
      durationSec: 14.70275,
    };
    const tokyo = await startSim({ recordings: [recording], utcOffsetMinutes: 540 });
    const newYork = await startSim({ recordings: [recording], utcOffsetMinutes: -300 });
    // The account's zone is only for zone-less dates; Restcomm's carry an offset.
    const [fromTokyo] = await collect(adapterFor(tokyo, { timeZone: 'Asia/Kolkata' }).list({}));
    const [fromNewYork] = await collect(adapterFor(newYork).list({}));
    expect((fromTokyo?.raw as Record<string, string> | undefined)?.date_created).toBe(
      'Sun, 1 Nov 2026 18:00:00 +0900',
    );
    expect((fromNewYork?.raw as Record<string, string> | undefined)?.date_created).toBe(
      'Sun, 1 Nov 2026 04:00:00 -0500',
    );
    expect(fromTokyo).toEqual({
      accountId: 'restcomm-sim',
      provider: 'restcomm',
      providerRecordingId: recording.id,
      callId: recording.callId,
      direction: 'unknown',
      startedAt: '2026-11-01T09:00:00.000Z',
      durationSec: 14.70275,
      format: 'wav',
      readiness: 'ready',
      raw: expect.objectContaining({ sid: recording.id, duration: '14.70275' }),
    });
    expect(fromNewYork?.startedAt).toBe('2026-11-01T09:00:00.000Z');
  });

  it('get returns the recording, and readiness "gone" for a deleted or unknown one', async () => {
    const sim = await startSim({ recordings: restcommRecordings(3) });
    const adapter = adapterFor(sim);
    const [first, second] = sim.liveRecordings();
    const ref = {
      accountId: 'restcomm-sim',
      provider: 'restcomm' as const,
      providerRecordingId: first?.id ?? '',
    };
    expect(await adapter.get(ref)).toMatchObject({
      providerRecordingId: first?.id,
      callId: first?.callId,
      startedAt: minute(0),
      readiness: 'ready',
    });
    sim.markDeleted(second?.id ?? '');
    expect(await adapter.get({ ...ref, providerRecordingId: second?.id ?? '' })).toMatchObject({
      readiness: 'gone',
    });
    expect(await adapter.get({ ...ref, providerRecordingId: restcommSid('RE', 'never') })).toMatchObject({
      readiness: 'gone',
      direction: 'unknown',
    });
  });
});

describe('restcomm download', () => {
  it('streams the public .wav built from the base URL, verified by SHA-256 and size', async () => {
    const sim = await startSim({ recordings: restcommRecordings(2) });
    const id = sim.liveRecordings()[1]?.id ?? '';
    const download = await adapterFor(sim).download({
      accountId: 'restcomm-sim',
      provider: 'restcomm',
      providerRecordingId: id,
    });
    expect(download.contentType).toBe('audio/x-wav');
    expect(await drain(download)).toEqual({ bytes: sim.audio(id).size, sha256: sim.audio(id).sha256() });
    // Restcomm answers the recording's .wav with a redirect to the file it serves.
    expect(sim.requests.filter((r) => r.endpoint === 'audio').map((r) => [r.path, r.status])).toEqual([
      [`/restcomm/2012-04-24/Accounts/${sim.accountSid}/Recordings/${id}.wav`, 307],
      [`/restcomm/recordings/${id}.wav`, 200],
    ]);
    expect(sim.audioRequestsWithCredentials).toBe(0);
  });

  it('is not ready while the file is being written, ready after, gone once deleted', async () => {
    let now = START;
    const [recording] = restcommRecordings(1);
    const sim = await startSim({
      recordings: [{ ...(recording as NonNullable<typeof recording>), readyAt: START + 60_000 }],
      now: () => now,
    });
    const adapter = adapterFor(sim);
    const ref = {
      accountId: 'restcomm-sim',
      provider: 'restcomm' as const,
      providerRecordingId: recording?.id ?? '',
    };
    await expect(adapter.download(ref)).rejects.toBeInstanceOf(errors.RecordingNotReadyError);
    now += 120_000;
    expect((await drain(await adapter.download(ref))).sha256).toBe(
      sim.audio(ref.providerRecordingId).sha256(),
    );
    sim.markDeleted(ref.providerRecordingId);
    await expect(adapter.download(ref)).rejects.toBeInstanceOf(errors.RecordingGoneError);
    expect((await adapter.get(ref)).readiness).toBe('gone');
  });
});

describe('restcomm faults', () => {
  it('honours a 429 Retry-After and retries', async () => {
    const sim = await startSim({ recordings: restcommRecordings(3) });
    sim.inject({ kind: 'rate-limit', on: 'list', retryAfterSeconds: 1 });
    const started = Date.now();
    expect(await collect(adapterFor(sim).list({}))).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(sim.requests.filter((r) => r.endpoint === 'list').map((r) => r.status)).toEqual([429, 200]);
  });

  it('retries server errors and connection resets', async () => {
    const sim = await startSim({ recordings: restcommRecordings(3) });
    const id = sim.liveRecordings()[0]?.id ?? '';
    const ref = { accountId: 'restcomm-sim', provider: 'restcomm' as const, providerRecordingId: id };
    sim.inject({ kind: 'server-error', on: 'status', times: 2 });
    expect((await adapterFor(sim).get(ref)).readiness).toBe('ready');
    expect(sim.count('status')).toBe(3);
    sim.inject({ kind: 'reset', on: 'list' });
    expect(await collect(adapterFor(sim).list({}))).toHaveLength(3);
    sim.inject({ kind: 'server-error', on: 'audio', status: 502 });
    expect((await drain(await adapterFor(sim).download(ref))).sha256).toBe(sim.audio(id).sha256());
  });

  it('fails a truncated download and completes a slow one with the right hash', async () => {
    const sim = await startSim({ recordings: restcommRecordings(1, { durationSec: 2 }) });
    const id = sim.liveRecordings()[0]?.id ?? '';
    const ref = { accountId: 'restcomm-sim', provider: 'restcomm' as const, providerRecordingId: id };
    const adapter = adapterFor(sim);
    sim.inject({ kind: 'truncate', on: 'audio', fraction: 0.4 });
    await expect(drain(await adapter.download(ref))).rejects.toBeInstanceOf(errors.IncompleteDownloadError);
    sim.inject({ kind: 'slow', on: 'audio', chunkBytes: 8192, chunkDelayMs: 5 });
    expect(await drain(await adapter.download(ref))).toEqual({
      bytes: sim.audio(id).size,
      sha256: sim.audio(id).sha256(),
    });
  });

  it('reports garbage as a ProviderResponseError naming account and provider', async () => {
    const sim = await startSim({ recordings: restcommRecordings(2) });
    sim.inject({ kind: 'garbage', on: 'list' });
    const error = await collect(adapterFor(sim).list({})).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(errors.ProviderResponseError);
    expect((error as Error).message).toContain('restcomm account "restcomm-sim"');
    expect((error as Error).message).not.toContain(sim.accountSid);
    const ref = {
      accountId: 'restcomm-sim',
      provider: 'restcomm' as const,
      providerRecordingId: sim.liveRecordings()[0]?.id ?? '',
    };
    sim.inject({ kind: 'garbage', on: 'audio' });
    await expect(adapterFor(sim).download(ref)).rejects.toBeInstanceOf(errors.IncompleteDownloadError);
  });

  it('refuses bad credentials with a ProviderAuthError that names the account, not the token', async () => {
    const sim = await startSim({ recordings: restcommRecordings(2) });
    const wrongToken = 'wrong-token-3b8f1c7d';
    const adapter = adapterFor(sim, {
      id: 'rc-prod',
      auth: { accountSid: sim.accountSid, authToken: wrongToken },
    });
    const error = await collect(adapter.list({})).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(errors.ProviderAuthError);
    expect((error as Error).message).toContain('restcomm account "rc-prod"');
    expect((error as Error).message).not.toContain(wrongToken);
    expect(sim.requests[0]?.status).toBe(401);

    sim.inject({ kind: 'unauthorized', on: 'delete' });
    await expect(
      adapterFor(sim).delete({ accountId: 'restcomm-sim', provider: 'restcomm', providerRecordingId: 'RE1' }),
    ).rejects.toBeInstanceOf(errors.ProviderAuthError);
  });
});

describe('restcomm malformed bodies', () => {
  const cases: Array<[string, Answer, RegExp]> = [
    ['JSON without recordings', jsonAnswer({ page: 0, total: 3 }), /without a "recordings" list/],
    ['a recording that is not an object', jsonAnswer({ recordings: ['RE1'] }), /not an object/],
    [
      'a body that is not JSON',
      { status: 200, contentType: 'application/json', body: 'Service OK' },
      /not JSON/,
    ],
    [
      'an XML error document',
      {
        status: 200,
        contentType: 'application/xml',
        body: '<RestcommResponse><RestException><Message>boom</Message></RestException></RestcommResponse>',
      },
      /XML without <Recordings>/,
    ],
    [
      'broken XML',
      { status: 200, contentType: 'application/xml', body: '<RestcommResponse><Recordings><Recording>' },
      /not well-formed XML/,
    ],
    ['a 400 for a page past the end', { status: 400, contentType: 'text/plain', body: '' }, /HTTP 400/],
  ];

  it.each(cases)(
    'rejects %s with a ProviderResponseError naming the account',
    async (_name, answer, message) => {
      const server = await rawServer(() => answer);
      const error = await collect(rawAdapter(server.baseUrl).list({})).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(errors.ProviderResponseError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain('restcomm account "restcomm-raw"');
      expect((error as Error).message).not.toContain(RAW_TOKEN);
    },
  );

  it('ends a listing whose server says there is more on its last page', async () => {
    const server = await rawServer(() =>
      jsonAnswer({
        next_page_uri: '/restcomm/2012-04-24/Accounts/ACraw/Recordings.json?Page=1&PageSize=100',
        recordings: [{ sid: 'RE1', date_created: 'Tue, 5 Jan 2016 08:51:07 +0200' }],
      }),
    );
    const listed = await collect(rawAdapter(server.baseUrl).list({}));
    expect(listed.map((entry) => entry.providerRecordingId)).toEqual(['RE1']);
    // The second listing, from RE1's second, brought nothing new.
    expect(server.paths).toHaveLength(2);
  });

  it('refuses a page that says there is more but ends before its StartTime (not oldest first)', async () => {
    const server = await rawServer((url) =>
      jsonAnswer({
        next_page_uri: 'more',
        recordings: [
          {
            sid: url.searchParams.has('StartTime') ? 'RE0' : 'RE1',
            date_created: url.searchParams.has('StartTime')
              ? 'Mon, 4 Jan 2016 08:51:07 +0200'
              : 'Tue, 5 Jan 2016 08:51:07 +0200',
          },
        ],
      }),
    );
    await expect(collect(rawAdapter(server.baseUrl).list({}))).rejects.toThrow(
      /a listing from 2016-01-05T06:51:07 .* ends at 2016-01-04T06:51:07: the recordings are not sorted oldest first/,
    );
  });

  it('skips an empty <Recording/> like a recording without a sid, and lists the rest of the page', async () => {
    const recording = (sid: string) =>
      `<Recording><Sid>${sid}</Sid><DateCreated>Tue, 5 Jan 2016 08:51:07 +0200</DateCreated></Recording>`;
    const server = await rawServer(() => ({
      status: 200,
      contentType: 'application/xml',
      body: `<RestcommResponse><Recordings nextpageuri="null">${recording('RE1')}<Recording/>${recording('RE2')}<Recording></Recording></Recordings></RestcommResponse>`,
    }));
    const listed = await collect(rawAdapter(server.baseUrl).list({}));
    expect(listed.map((entry) => entry.providerRecordingId)).toEqual(['RE1', 'RE2']);
  });

  it('rejects a <Recording> that holds only text as not an element', async () => {
    const server = await rawServer(() => ({
      status: 200,
      contentType: 'application/xml',
      body: '<RestcommResponse><Recordings nextpageuri="null"><Recording>RE1</Recording><Recording/></Recordings></RestcommResponse>',
    }));
    await expect(collect(rawAdapter(server.baseUrl).list({}))).rejects.toThrow(
      /a <Recording> that is not an element/,
    );
  });

  it('reads an XML listing with paging attributes and a single recording', async () => {
    const server = await rawServer((url) =>
      url.searchParams.has('StartTime')
        ? {
            status: 200,
            contentType: 'text/xml',
            body: '<RestcommResponse><Recordings page="1" nextpageuri="null"/></RestcommResponse>',
          }
        : {
            status: 200,
            contentType: 'application/xml;charset=UTF-8',
            body:
              '<?xml version="1.0"?><RestcommResponse><Recordings page="0" numpages="0" ' +
              'nextpageuri="/restcomm/2012-04-24/Accounts/ACraw/Recordings?Page=1&amp;PageSize=50&amp;AfterSid=RE1">' +
              '<Recording><Sid>RE1</Sid><DateCreated>Tue, 5 Jan 2016 08:51:07 +0200</DateCreated>' +
              '<CallSid>CA1</CallSid><Duration>6.06275</Duration></Recording></Recordings></RestcommResponse>',
          },
    );
    const listed = await collect(rawAdapter(server.baseUrl).list({}));
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      providerRecordingId: 'RE1',
      callId: 'CA1',
      startedAt: '2016-01-05T06:51:07.000Z',
      durationSec: 6.06275,
    });
    // Its nextpageuri says there is more: a listing from RE1's second answers nothing.
    expect(server.paths).toEqual([
      '/restcomm/2012-04-24/Accounts/ACraw/Recordings.json',
      '/restcomm/2012-04-24/Accounts/ACraw/Recordings.json',
    ]);
  });
});

describe('restcomm delete', () => {
  it('deletes a recording and succeeds again when it is already gone', async () => {
    const sim = await startSim({ recordings: restcommRecordings(2) });
    const adapter = adapterFor(sim);
    const id = sim.liveRecordings()[0]?.id ?? '';
    const ref = { accountId: 'restcomm-sim', provider: 'restcomm' as const, providerRecordingId: id };
    expect(adapter.canDelete(ref)).toBe(true);
    await adapter.delete(ref);
    expect(sim.recordings.get(id)?.deleted).toBe(true);
    await adapter.delete(ref);
    expect(sim.requests.filter((r) => r.endpoint === 'delete').map((r) => r.status)).toEqual([200, 404]);
    expect((await collect(adapter.list({}))).map((r) => r.providerRecordingId)).not.toContain(id);
  });
});

describe('restcomm webhook', () => {
  const sid = restcommSid('RE', 'webhook');
  const form = (fields: Record<string, string>) => ({
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const recordCallback = {
    AccountSid: 'ACae6e420f425248d6a26948c17a9e2acf',
    CallSid: 'CAfe9ce46f104f5beeb10c83a5dad2be66',
    From: '+15551230001',
    To: '+15559870002',
    CallStatus: 'in-progress',
    Direction: 'inbound',
    ApiVersion: '2012-04-24',
    RecordingUrl: `http://instance1.restcomm.com/restcomm/recordings/${sid}.wav`,
    RecordingDuration: '14.70275',
    Digits: 'hangup',
  };

  it('reads the form-encoded <Record> action callback', async () => {
    const sim = await startSim();
    expect(adapterFor(sim).parseWebhook(form(recordCallback))).toEqual([
      {
        accountId: 'restcomm-sim',
        provider: 'restcomm',
        providerRecordingId: sid,
        callId: 'CAfe9ce46f104f5beeb10c83a5dad2be66',
        hints: {
          from: '+15551230001',
          to: '+15559870002',
          direction: 'inbound',
          durationSec: 14.70275,
          format: 'wav',
          providerStatus: 'in-progress',
        },
      },
    ]);
  });

  it('takes the sid from an S3 URL, and the same fields as JSON', async () => {
    const sim = await startSim();
    const adapter = adapterFor(sim);
    const s3 = form({
      ...recordCallback,
      Direction: 'outbound-dial',
      RecordingUrl: `https://s3.amazonaws.com/bucket/folder/${sid}.wav?X-Amz-Signature=abc`,
    });
    expect(adapter.parseWebhook(s3)[0]).toMatchObject({
      providerRecordingId: sid,
      hints: { direction: 'outbound' },
    });
    const json = { body: JSON.stringify(recordCallback), headers: { 'content-type': 'application/json' } };
    expect(adapter.parseWebhook(json)[0]?.providerRecordingId).toBe(sid);
  });

  it('downloads a webhook recording from the configured base, whatever host RecordingUrl names', async () => {
    const sim = await startSim({ recordings: restcommRecordings(1) });
    const id = sim.liveRecordings()[0]?.id ?? '';
    const adapter = adapterFor(sim);
    const [announced] = adapter.parseWebhook(
      form({
        ...recordCallback,
        RecordingUrl: `http://instance1.restcomm.com/restcomm/recordings/${id}.wav`,
      }),
    );
    expect((await drain(await adapter.download(announced as NonNullable<typeof announced>))).sha256).toBe(
      sim.audio(id).sha256(),
    );
  });

  it('returns [] when nothing was recorded or the callback is about the call only', async () => {
    const sim = await startSim();
    const adapter = adapterFor(sim);
    const { RecordingUrl: _url, ...withoutUrl } = recordCallback;
    expect(adapter.parseWebhook(form({ ...withoutUrl, RecordingDuration: '0' }))).toEqual([]);
    expect(
      adapter.parseWebhook(form({ ...recordCallback, RecordingUrl: '', DialCallStatus: 'failed' })),
    ).toEqual([]);
    expect(adapter.parseWebhook(form({ CallSid: 'CA1', CallStatus: 'completed' }))).toEqual([]);
  });

  it.each([
    ['an empty body', { body: '', headers: {} }, /empty/],
    [
      'broken JSON',
      { body: '{"RecordingUrl": ', headers: { 'content-type': 'application/json' } },
      /not valid JSON/,
    ],
    [
      'plain text',
      { body: 'hello there', headers: { 'content-type': 'text/plain' } },
      /neither form fields nor JSON/,
    ],
    ['unrelated form fields', { body: 'foo=bar', headers: {} }, /no RecordingUrl/],
    [
      'a RecordingUrl without a sid',
      { body: 'RecordingUrl=http%3A%2F%2Fhost%2Frecordings%2F', headers: {} },
      /does not end in a recording sid/,
    ],
  ])('rejects %s with a WebhookParseError', async (_name, request, message) => {
    const sim = await startSim();
    expect(() => adapterFor(sim).parseWebhook(request)).toThrow(errors.WebhookParseError);
    expect(() => adapterFor(sim).parseWebhook(request)).toThrow(message);
  });
});

// A bare server for bodies the simulator never produces.
const RAW_TOKEN = 'raw-token-secret-91';

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

function jsonAnswer(body: unknown): Answer {
  return { status: 200, contentType: 'application/json', body: JSON.stringify(body) };
}

function rawAdapter(baseUrl: string) {
  return createRestcommAdapter(
    {
      id: 'restcomm-raw',
      provider: 'restcomm',
      baseUrl,
      timeZone: 'UTC',
      schedule: 'rate(15 minutes)',
      auth: { accountSid: 'ACraw', authToken: RAW_TOKEN },
    },
    FAST,
  );
}

async function rawServer(answer: (url: URL) => Answer): Promise<{ baseUrl: string; paths: string[] }> {
  const paths: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://raw');
    paths.push(url.pathname);
    const { status, contentType, body } = answer(url);
    response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  const origin = await listen(server);
  cleanup.push(() => shut(server));
  return { baseUrl: `${origin}/restcomm`, paths };
}
