/**
 * Bandwidth conference recordings: announced by `conferenceRecordingAvailable`, addressed under
 * /conferences/{conferenceId}/recordings/{recordingId}, listed by "Get Conferences" (Link-header
 * paging) and each conference's recordings, never by "Get Call Recordings". Bandwidth keeps
 * recordings 30 days: one the sweep does not list is lost once the callback is missed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as errors from '../../lambdas/core/errors.ts';
import { recordingId } from '../../lambdas/core/ids.ts';
import type { LogFields, Logger } from '../../lambdas/core/log.ts';
import type { ListWindow, ProviderAdapter } from '../../lambdas/core/ports.ts';
import type { Recording, RecordingRef } from '../../lambdas/core/recording.ts';
import {
  CONFERENCE_LOOKBACK_MS,
  CONFERENCES_PER_UNIT,
  conferenceRecordingId,
  createBandwidthAdapter,
} from '../../lambdas/providers/bandwidth.ts';
import {
  BandwidthSimulator,
  bandwidthSimulatorAccount,
  conferenceRecordingKey,
  type SimConference,
} from '../../local/simulators/bandwidth.ts';
import { type SimRecording, sampleRecordings } from '../../local/simulators/base.ts';
import { FAST } from '../helpers/retry.ts';
import { collect, drain } from '../helpers/streams.ts';

const START = new Date('2026-11-01T09:00:00.000Z');
const MINUTE = 60_000;
const at = (minutes: number) => new Date(START.getTime() + minutes * MINUTE);

/** A conference at `minutes` past START, lasting `length` minutes, with recordings at the offsets. */
function conference(
  id: string,
  minutes: number,
  length: number | undefined,
  recordingOffsets: number[],
): [SimConference, SimRecording[]] {
  const recordings = recordingOffsets.map((offset, index) => ({
    id: `r-${id}-${index}`,
    callId: '',
    from: '',
    to: '',
    direction: 'inbound' as const,
    startedAt: at(minutes + offset),
    durationSec: 1.5 + index * 0.25,
    channels: 2,
  }));
  return [
    {
      id,
      name: `room-${id}`,
      createdAt: at(minutes),
      completedAt: length === undefined ? undefined : at(minutes + length),
    },
    recordings,
  ];
}

function conferenceRef(conferenceId: string, id: string): RecordingRef {
  return {
    accountId: 'bandwidth-sim',
    provider: 'bandwidth',
    providerRecordingId: conferenceRecordingKey(conferenceId, id),
  };
}

function warningsLogger(): { logger: Logger; warnings: Array<{ message: string; fields?: LogFields }> } {
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  return {
    warnings,
    logger: { info() {}, warn: (message, fields) => warnings.push({ message, fields }), error() {} },
  };
}

/** Every unit of a listing with its position, as a sweep walks it. */
async function units(
  adapter: ProviderAdapter,
  window: ListWindow,
  from?: string,
): Promise<Array<{ position?: string; ids: string[] }>> {
  const out: Array<{ position?: string; ids: string[] }> = [];
  let position = from;
  for (let unit = 0; unit < 200; unit += 1) {
    const page = await adapter.listPage(window, position);
    out.push({ position, ids: page.recordings.map((r) => r.providerRecordingId) });
    if (page.next === undefined) return out;
    position = page.next;
  }
  throw new Error('listing did not end');
}

const ids = (recordings: Recording[]) => recordings.map((r) => r.providerRecordingId);

describe('Bandwidth conference recordings: webhook, get, download, delete', () => {
  let sim: BandwidthSimulator;
  let adapter: ProviderAdapter;

  beforeAll(async () => {
    sim = new BandwidthSimulator({ recordings: sampleRecordings(2, { start: START }) });
    sim.addConference(...conference('conf-a', 0, 30, [1, 5]));
    // A conference recording with the same recordingId as the call recording rec-00000.
    sim.addConferenceRecording('conf-a', {
      ...sampleRecordings(1, { start: at(10), durationSec: 3 })[0],
      id: 'rec-00000',
    } as SimRecording);
    sim.addConference(...conference('conf-b', 2, 30, [3]));
    const pending = sim.recordings.get(conferenceRecordingKey('conf-b', 'r-conf-b-0'));
    if (pending) pending.readyAt = Date.now() + 3_600_000;
    await sim.start();
    adapter = createBandwidthAdapter(bandwidthSimulatorAccount(sim), FAST);
  });

  afterAll(() => sim.stop());

  it('parses conferenceRecordingAvailable into a ref addressed by its conference, with hints', () => {
    const key = conferenceRecordingKey('conf-a', 'r-conf-a-1');
    const body = JSON.parse(sim.conferenceCallbackBody(key)) as Record<string, unknown>;
    expect(body).toMatchObject({ eventType: 'conferenceRecordingAvailable', conferenceId: 'conf-a' });
    const parsed = adapter.parseWebhook({ body: JSON.stringify(body), headers: {} });
    expect(parsed).toEqual([
      {
        accountId: 'bandwidth-sim',
        provider: 'bandwidth',
        providerRecordingId: 'conf-a/r-conf-a-1',
        hints: {
          direction: 'unknown',
          startedAt: '2026-11-01T09:05:00.000Z',
          endedAt: '2026-11-01T09:05:01.750Z',
          durationSec: 1.75,
          format: 'wav',
          channels: 2,
          providerStatus: 'complete',
          readiness: 'ready',
        },
      },
    ]);
    expect(parsed[0]?.providerRecordingId).toBe(key);
    expect(JSON.stringify(parsed)).not.toContain('voice.bandwidth.com');
  });

  it('refuses a conferenceRecordingAvailable that cannot name its recording', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ recordingId: 'r-1' }, /lacks conferenceId/],
      [{ conferenceId: 'conf-1' }, /lacks recordingId/],
      [{ conferenceId: 'conf-1', recordingId: 'r-1', accountId: '111' }, /another Bandwidth account/],
      [{ conferenceId: 'conf/1', recordingId: 'r-1' }, /conferenceId with a "\/"/],
    ];
    for (const [fields, message] of cases) {
      const body = JSON.stringify({ eventType: 'conferenceRecordingAvailable', ...fields });
      const parse = () => adapter.parseWebhook({ body, headers: {} });
      expect(parse, body).toThrow(errors.WebhookParseError);
      expect(parse, body).toThrow(message);
    }
  });

  it('reads the metadata under /conferences and downloads the bytes exactly', async () => {
    const ref = conferenceRef('conf-a', 'r-conf-a-0');
    expect(await adapter.get(ref)).toMatchObject({
      providerRecordingId: 'conf-a/r-conf-a-0',
      direction: 'unknown',
      startedAt: '2026-11-01T09:01:00.000Z',
      durationSec: 1.5,
      channels: 2,
      readiness: 'ready',
      providerStatus: 'complete',
      raw: { conferenceId: 'conf-a', name: 'room-conf-a', recordingId: 'r-conf-a-0' },
    });
    expect((await adapter.get(ref)).callId).toBeUndefined();
    const download = await adapter.download(ref);
    expect(download.contentType).toBe('audio/vnd.wave');
    const key = conferenceRecordingKey('conf-a', 'r-conf-a-0');
    expect(await drain(download)).toEqual({ bytes: sim.audio(key).size, sha256: sim.audio(key).sha256() });
    expect(sim.requests.at(-1)?.path).toBe(
      '/api/v2/accounts/9900000/conferences/conf-a/recordings/r-conf-a-0/media',
    );
  });

  it('waits for a pending conference recording, and reports a missing one gone', async () => {
    const pending = conferenceRef('conf-b', 'r-conf-b-0');
    expect((await adapter.get(pending)).readiness).toBe('pending');
    await expect(adapter.download(pending)).rejects.toBeInstanceOf(errors.RecordingNotReadyError);
    sim.markReady(pending.providerRecordingId);
    const result = await drain(await adapter.download(pending));
    expect(result.sha256).toBe(sim.audio(pending.providerRecordingId).sha256());
    const missing = conferenceRef('conf-a', 'r-never');
    expect(await adapter.get(missing)).toMatchObject({
      readiness: 'gone',
      providerRecordingId: 'conf-a/r-never',
    });
    await expect(adapter.download(missing)).rejects.toBeInstanceOf(errors.RecordingGoneError);
    // The right recording under the wrong conference addresses nothing.
    expect((await adapter.get(conferenceRef('conf-b', 'r-conf-a-0'))).readiness).toBe('gone');
  });

  it('refuses another recording’s metadata for a conference recording', async () => {
    const key = conferenceRecordingKey('conf-a', 'r-conf-a-1');
    sim.answerMetadataAs(key, conferenceRecordingKey('conf-a', 'r-conf-a-0'));
    await expect(adapter.get(conferenceRef('conf-a', 'r-conf-a-1'))).rejects.toBeInstanceOf(
      errors.ProviderResponseError,
    );
    sim.answerMetadataAs(key, key);
  });

  it('keeps a call recording and a conference recording with the same recordingId apart', async () => {
    const call: RecordingRef = {
      accountId: 'bandwidth-sim',
      provider: 'bandwidth',
      providerRecordingId: 'rec-00000',
      callId: 'call-rec-0',
    };
    const conf = conferenceRef('conf-a', 'rec-00000');
    expect(conf.providerRecordingId).toBe(conferenceRecordingId('conf-a', 'rec-00000'));
    expect(recordingId(conf)).not.toBe(recordingId(call));
    const listed = await collect(adapter.list({}));
    expect(ids(listed)).toEqual(
      expect.arrayContaining(['rec-00000', 'rec-00001', 'conf-a/rec-00000', 'conf-a/r-conf-a-0']),
    );
    expect(
      listed.filter((r) => r.raw && (r.raw as { recordingId?: string }).recordingId === 'rec-00000'),
    ).toHaveLength(2);
    const callBytes = await drain(await adapter.download(call));
    const confBytes = await drain(await adapter.download(conf));
    expect(callBytes.sha256).toBe(sim.audio('rec-00000').sha256());
    expect(confBytes.sha256).toBe(sim.audio('conf-a/rec-00000').sha256());
    expect(confBytes.sha256).not.toBe(callBytes.sha256);
    expect((await adapter.get(call)).durationSec).not.toBe((await adapter.get(conf)).durationSec);
  });

  it('does not try to delete a conference recording: the API has no DELETE for it', async () => {
    const deletes = sim.count('delete');
    expect(adapter.canDelete(conferenceRef('conf-a', 'r-conf-a-0'))).toBe(false);
    const error = await adapter.delete(conferenceRef('conf-a', 'r-conf-a-0')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProviderResponseError);
    expect((error as Error).message).toContain('cannot delete conference recordings');
    expect((error as Error).message).toContain('bandwidth account "bandwidth-sim"');
    expect(sim.count('delete')).toBe(deletes);
    expect(sim.recordings.get('conf-a/r-conf-a-0')?.deleted).toBeFalsy();
    // The simulator is no kinder than the OpenAPI: DELETE there is not allowed.
    const answer = await fetch(
      `${sim.baseUrl}/api/v2/accounts/9900000/conferences/conf-a/recordings/r-conf-a-0`,
      {
        method: 'DELETE',
        headers: {
          authorization: `Basic ${Buffer.from(`${sim.username}:${sim.password}`).toString('base64')}`,
        },
      },
    );
    expect(answer.status).toBe(405);
    // A call recording is still deleted, by its call.
    expect(
      await adapter.delete({
        ...conferenceRef('x', 'y'),
        providerRecordingId: 'rec-00001',
        callId: 'call-rec-1',
      }),
    ).toEqual({
      status: 204,
      alreadyGone: false,
    });
  });

  it('treats a conference recording deleted at Bandwidth (expired) as gone', async () => {
    const key = conferenceRecordingKey('conf-b', 'r-conf-b-0');
    sim.markDeleted(key);
    expect((await adapter.get(conferenceRef('conf-b', 'r-conf-b-0'))).readiness).toBe('gone');
    expect(ids(await collect(adapter.list({})))).not.toContain(key);
  });
});

describe('Bandwidth conference recordings in the sweep’s listing', () => {
  let sim: BandwidthSimulator;
  let adapter: ProviderAdapter;
  const { logger, warnings } = warningsLogger();

  beforeAll(async () => {
    sim = new BandwidthSimulator({ recordings: sampleRecordings(3, { start: at(100), spacingMs: MINUTE }) });
    // Created 23 hours before the window, still going, a recording inside it: the look-back finds it.
    sim.addConference(...conference('conf-long', 60 - 23 * 60, undefined, [23 * 60 + 45]));
    // Completed before the window: its recordings are never asked for.
    sim.addConference(...conference('conf-early', 0, 10, [1]));
    // Inside the window, across pages of 2.
    for (let index = 0; index < 5; index += 1) {
      sim.addConference(...conference(`conf-${index}`, 60 + index * 10, 5, [1, 2]));
    }
    // Straddles the window's end: the recording before it is listed, the one after is not.
    sim.addConference(...conference('conf-late', 115, 20, [2, 10]));
    // Created after the window: outside.
    sim.addConference(...conference('conf-after', 200, 5, [1]));
    await sim.start();
    adapter = createBandwidthAdapter(bandwidthSimulatorAccount(sim), { ...FAST, pageSize: 2, logger });
  });

  afterAll(() => sim.stop());

  const window = { since: at(60).toISOString(), until: at(120).toISOString() };

  it('lists call recordings first, then every conference recording in the window, across conference pages', async () => {
    const listed = await collect(adapter.list(window));
    expect(ids(listed)).toEqual([
      'rec-00000',
      'rec-00001',
      'rec-00002',
      'conf-long/r-conf-long-0',
      'conf-0/r-conf-0-0',
      'conf-0/r-conf-0-1',
      'conf-1/r-conf-1-0',
      'conf-1/r-conf-1-1',
      'conf-2/r-conf-2-0',
      'conf-2/r-conf-2-1',
      'conf-3/r-conf-3-0',
      'conf-3/r-conf-3-1',
      'conf-4/r-conf-4-0',
      'conf-4/r-conf-4-1',
      'conf-late/r-conf-late-0',
    ]);
    expect(
      listed.every((r) => r.startedAt && r.startedAt >= window.since && r.startedAt < window.until),
    ).toBe(true);
    const recordingListings = sim.requests.filter((r) => /\/conferences\/[^/]+\/recordings$/.test(r.path));
    expect(recordingListings.map((r) => decodeURIComponent(r.path.split('/')[6] ?? ''))).toEqual([
      'conf-long',
      'conf-0',
      'conf-1',
      'conf-2',
      'conf-3',
      'conf-4',
      'conf-late',
    ]);
    // The window's since less the look-back, its until (inclusive at Bandwidth) plus slack; then
    // the Link header's next pages: 8 conferences created in that range, 4 pages of 2.
    const first = new URLSearchParams(sim.conferenceQueries[0]);
    expect(first.get('minCreatedTime')).toBe(
      new Date(at(60).getTime() - CONFERENCE_LOOKBACK_MS).toISOString(),
    );
    expect(first.get('maxCreatedTime')).toBe(new Date(at(121).getTime()).toISOString());
    expect(first.get('pageSize')).toBe('2');
    expect(first.has('pageToken')).toBe(false);
    expect(sim.conferenceQueries).toHaveLength(4);
    expect(sim.conferenceQueries.slice(1).every((query) => new URLSearchParams(query).has('pageToken'))).toBe(
      true,
    );
    expect(warnings).toEqual([]);
  });

  it('resumes a checkpointed listing from any unit’s position, in a new adapter, with nothing missed', async () => {
    const all = await units(adapter, window);
    expect(all[0]?.position).toBeUndefined();
    expect(all[1]?.position).toBe('conferences');
    const everything = all.flatMap((unit) => unit.ids);
    for (const [index, unit] of all.entries()) {
      const fresh = createBandwidthAdapter(bandwidthSimulatorAccount(sim), { ...FAST, pageSize: 2 });
      const rest = await units(fresh, window, unit.position);
      expect(
        rest.flatMap((u) => u.ids),
        `from unit ${index}`,
      ).toEqual(all.slice(index).flatMap((u) => u.ids));
    }
    expect(new Set(everything).size).toBe(everything.length);
  });

  it('still accepts a position of the older adapter (a bare minStartTime)', async () => {
    const page = await adapter.listPage(window, at(101).toISOString());
    expect(ids(page.recordings)).toEqual(['rec-00001', 'rec-00002']);
    expect(page.next).toBe('conferences');
    await expect(adapter.listPage(window, 'page-7')).rejects.toBeInstanceOf(errors.ProviderResponseError);
  });

  it('lists every conference recording of a deep pass (no window)', async () => {
    const before = sim.conferenceQueries.length;
    const listed = ids(await collect(adapter.list({})));
    expect(listed).toEqual(
      expect.arrayContaining([
        'conf-early/r-conf-early-0',
        'conf-late/r-conf-late-1',
        'conf-after/r-conf-after-0',
      ]),
    );
    expect(listed.filter((id) => id.includes('/'))).toHaveLength(15);
    // 10 conferences, no creation bounds, pages of 2.
    expect(sim.conferenceQueries.slice(before)).toHaveLength(5);
    expect(sim.conferenceQueries[before]).toBe('?pageSize=2');
  });
});

describe('Bandwidth conference listing: units and paging as documented', () => {
  it(`reads at most ${CONFERENCES_PER_UNIT} conferences' recordings per unit, resuming inside a page`, async () => {
    const sim = new BandwidthSimulator();
    const count = CONFERENCES_PER_UNIT * 2 + 3;
    for (let index = 0; index < count; index += 1) {
      sim.addConference(...conference(`conf-${String(index).padStart(3, '0')}`, index, 1, [0.5]));
    }
    await sim.start();
    try {
      const adapter = createBandwidthAdapter(bandwidthSimulatorAccount(sim), FAST);
      const all = await units(adapter, {});
      // Call recordings, then one page of conferences in three units.
      expect(all.map((unit) => unit.ids.length)).toEqual([0, CONFERENCES_PER_UNIT, CONFERENCES_PER_UNIT, 3]);
      expect(all[2]?.position).toMatch(/^conferences\?after=conf-024&at=/);
      expect(sim.conferenceQueries).toHaveLength(3);
      expect(new Set(all.flatMap((unit) => unit.ids)).size).toBe(count);
      // The conference a unit stopped after expired before the next unit: nothing is skipped.
      sim.conferences.delete('conf-024');
      const rest = await units(adapter, {}, all[2]?.position);
      expect(rest.flatMap((unit) => unit.ids)).toEqual(all.slice(2).flatMap((unit) => unit.ids));
    } finally {
      await sim.stop();
    }
  });

  it('follows a next Link naming another host to the configured one, and a conference listing no page twice', async () => {
    const sim = new BandwidthSimulator();
    for (let index = 0; index < 3; index += 1)
      sim.addConference(...conference(`conf-${index}`, index, 1, [0.5]));
    sim.linkOrigin = 'https://voice.bandwidth.com';
    await sim.start();
    try {
      const adapter = createBandwidthAdapter(bandwidthSimulatorAccount(sim), { ...FAST, pageSize: 1 });
      expect(ids(await collect(adapter.list({})))).toEqual([
        'conf-0/r-conf-0-0',
        'conf-1/r-conf-1-0',
        'conf-2/r-conf-2-0',
      ]);
      expect(sim.conferenceQueries).toHaveLength(3);
    } finally {
      await sim.stop();
    }
  });

  it('a simulator no kinder than the doc: pageSize 1 to 1000, no made-up pageToken', async () => {
    const sim = new BandwidthSimulator();
    await sim.start();
    try {
      const auth = {
        authorization: `Basic ${Buffer.from(`${sim.username}:${sim.password}`).toString('base64')}`,
      };
      const get = (query: string) =>
        fetch(`${sim.baseUrl}/api/v2/accounts/9900000/conferences${query}`, { headers: auth });
      expect((await get('?pageSize=1001')).status).toBe(400);
      expect((await get('?pageSize=0')).status).toBe(400);
      expect((await get('?pageToken=made-up')).status).toBe(400);
      expect((await get('?minCreatedTime=yesterday')).status).toBe(400);
      expect((await get('')).status).toBe(200);
      expect(
        (await fetch(`${sim.baseUrl}/api/v2/accounts/9900000/conferences/nope/recordings`, { headers: auth }))
          .status,
      ).toBe(404);
    } finally {
      await sim.stop();
    }
  });
});

describe('Bandwidth conference listing: answers that are not what the doc says', () => {
  /** A simulator whose conference listing (or a conference's recordings) answers `odd`. */
  class OddSimulator extends BandwidthSimulator {
    oddBody: string | undefined;
    oddLink: string | undefined;
    oddRecordings: string | undefined;
    protected override async handle(
      request: IncomingMessage,
      response: ServerResponse,
      url: URL,
    ): Promise<void> {
      const listing = url.pathname.endsWith('/conferences');
      const recordings = /\/conferences\/[^/]+\/recordings$/.test(url.pathname);
      if (listing && (this.oddBody !== undefined || this.oddLink !== undefined)) {
        if (this.oddLink !== undefined) response.setHeader('link', this.oddLink);
        this.json(
          response,
          200,
          JSON.parse(this.oddBody ?? JSON.stringify([{ id: 'conf-0', createdTime: START.toISOString() }])),
        );
        return;
      }
      if (recordings && this.oddRecordings !== undefined) {
        this.json(response, 200, JSON.parse(this.oddRecordings));
        return;
      }
      await super.handle(request, response, url);
    }
  }
  let sim: OddSimulator;
  let adapter: ProviderAdapter;
  const { logger, warnings } = warningsLogger();

  beforeAll(async () => {
    sim = new OddSimulator();
    sim.addConference(...conference('conf-0', 0, 5, [1]));
    await sim.start();
    adapter = createBandwidthAdapter(bandwidthSimulatorAccount(sim), { ...FAST, logger });
  });
  afterAll(() => sim.stop());

  const reset = () => {
    sim.oddBody = undefined;
    sim.oddLink = undefined;
    sim.oddRecordings = undefined;
    sim.clearFaults();
  };

  async function refused(message: RegExp): Promise<void> {
    const error = await adapter.listPage({}, 'conferences').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProviderResponseError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('bandwidth account "bandwidth-sim"');
    reset();
  }

  it('refuses a listing that is not a list of conferences', async () => {
    for (const odd of ['{"conferences": []}', '[1, 2]', '"ok"', 'null']) {
      sim.oddBody = odd;
      await refused(/\/api\/v2\/accounts\/\*\*\*\/conferences.* not a list of conferences/);
    }
    sim.inject({ kind: 'garbage', on: 'list' });
    await refused(/not JSON/);
  });

  it('refuses a Link header that cannot be followed, or leads back to the same page', async () => {
    sim.oddLink = 'next page please';
    await refused(/Link header that is not <url>; rel="next"/);
    sim.oddLink = '</api/v2/accounts/9900000/calls?pageToken=x>; rel="next"';
    await refused(/another resource than the conference listing/);
    sim.oddLink = `</api/v2/accounts/9900000/conferences?pageSize=1000>; rel="next"`;
    await refused(/same page/);
    // Other relations only: the last page.
    sim.oddLink = '</api/v2/accounts/9900000/conferences?pageToken=x>; rel="prev"';
    expect((await adapter.listPage({}, 'conferences')).next).toBeUndefined();
    reset();
  });

  it('refuses a conference’s recordings that belong to another conference', async () => {
    sim.oddRecordings = JSON.stringify([
      { recordingId: 'r-x', conferenceId: 'conf-other', status: 'complete' },
    ]);
    await refused(/of another conference/);
  });

  it('skips, with a warning, a conference without an id and a recording without one', async () => {
    sim.oddBody = JSON.stringify([{ name: 'no-id', createdTime: START.toISOString() }, { id: 'conf-0' }]);
    sim.oddRecordings = JSON.stringify([{ status: 'complete' }, { recordingId: 'r-ok', status: 'complete' }]);
    const page = await adapter.listPage({}, 'conferences');
    expect(ids(page.recordings)).toEqual(['conf-0/r-ok']);
    expect(warnings.map((w) => w.message)).toEqual([
      'bandwidth conference without a usable id skipped',
      'bandwidth listing item without a recordingId skipped',
    ]);
    expect(warnings[0]?.fields).toMatchObject({
      name: 'no-id',
      item: 0,
      page: expect.stringContaining('/conferences'),
    });
    reset();
    warnings.length = 0;
  });

  it('treats a conference gone before its recordings were asked for as holding none', async () => {
    sim.oddBody = JSON.stringify([{ id: 'conf-expired' }, { id: 'conf-0' }]);
    const page = await adapter.listPage({}, 'conferences');
    expect(ids(page.recordings)).toEqual(['conf-0/r-conf-0-0']);
    expect(warnings).toEqual([
      expect.objectContaining({
        message: 'bandwidth conference gone before its recordings were listed',
        fields: expect.objectContaining({ conferenceId: 'conf-expired' }),
      }),
    ]);
    reset();
  });
});
