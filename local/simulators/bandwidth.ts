/**
 * A Bandwidth Voice API v2 simulator (recordings only), as the reference describes it:
 * - Basic auth with the dashboard API credentials; a wrong pair is a 401, another account's id a 403.
 * - `GET /api/v2/accounts/{accountId}/recordings?from=&to=&minStartTime=&maxStartTime=`: a JSON
 *   array of at most 1000 call recordings ("Get Call Recordings": never a conference's), oldest
 *   first, minStartTime inclusive, maxStartTime exclusive, and no paging of any kind.
 * - `GET|DELETE /api/v2/accounts/{accountId}/calls/{callId}/recordings/{recordingId}` and
 *   `GET|DELETE …/media`; `GET /api/v2/accounts/{accountId}/calls/{callId}/recordings`.
 * - Conferences (`addConference`): `GET …/conferences?name=&minCreatedTime=&maxCreatedTime=
 *   &pageSize=&pageToken=`, oldest createdTime first, both bounds inclusive, at most `pageSize`
 *   (1 to 1000, default 1000) per answer, and a `Link: <{url}>; rel="next"` header while more
 *   remain (an opaque pageToken; a made-up one is a 400). `GET …/conferences/{conferenceId}`,
 *   `GET …/conferences/{conferenceId}/recordings` (unordered, no cap), `GET …/recordings/
 *   {recordingId}` and `GET …/media`. The OpenAPI has no DELETE there: it is a 405.
 * - Errors are `{"type": "…", "description": "…"}` JSON documents.
 *
 * A conference recording is held under `conferenceRecordingKey(conferenceId, recordingId)`, the
 * id the adapter gives it, so `audio(key)`, `markReady(key)`, `markDeleted(key)` address it and a
 * call recording may have the same recordingId.
 *
 * `SimRecording.extra` may carry `status` (force a status word: `error`, `partial`, `absent`,
 * `completed` as in the OpenAPI's example, an unknown one…), `mediaUrl: 'present'` (a mediaUrl
 * and downloadable media whatever the status word), `fileFormat`, `parentCallId`,
 * `transferCallerId` and `transferTo`. Knobs: `listWithoutId(id)` lists a recording without its
 * `recordingId`; `answerMetadataAs(id, otherId)` answers another recording's metadata.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountOf } from '../../lambdas/core/config.ts';
import { type Endpoint, ProviderSimulator, type SimRecording, type SimulatorOptions } from './base.ts';

/** Bandwidth's cap on one listing answer. */
const LIST_CAP = 1000;

export interface BandwidthSimulatorOptions extends SimulatorOptions {
  /** The Bandwidth account id in every URL. */
  accountId?: string;
  /** Dashboard API credentials the simulator accepts. */
  username?: string;
  password?: string;
}

/** Bandwidth's cap on one conference listing answer (and the default pageSize). */
const CONFERENCE_PAGE_CAP = 1000;

const ACCOUNT_PREFIX = /^\/api\/v2\/accounts\/([^/]+)(\/.*)?$/;
const RECORDING_ROUTE = /^\/calls\/([^/]+)\/recordings\/([^/]+)(\/media)?$/;
const CALL_RECORDINGS_ROUTE = /^\/calls\/([^/]+)\/recordings$/;
const CONFERENCE_ROUTE = /^\/conferences\/([^/]+)$/;
const CONFERENCE_RECORDINGS_ROUTE = /^\/conferences\/([^/]+)\/recordings$/;
const CONFERENCE_RECORDING_ROUTE = /^\/conferences\/([^/]+)\/recordings\/([^/]+)(\/media)?$/;

/** A conference as the simulator holds it. */
export interface SimConference {
  id: string;
  name: string;
  createdAt: Date;
  /** When the last member left; none while it goes on. */
  completedAt?: Date;
  tag?: string;
}

/** Where the simulator keeps a conference recording: the adapter's providerRecordingId for it. */
export function conferenceRecordingKey(conferenceId: string, recordingId: string): string {
  return `${conferenceId}/${recordingId}`;
}

export class BandwidthSimulator extends ProviderSimulator {
  readonly accountId: string;
  readonly username: string;
  readonly password: string;
  /** The query string of every account listing request, as sent (for encoding checks). */
  readonly listQueries: string[] = [];
  /** The query string of every conference listing request, as sent. */
  readonly conferenceQueries: string[] = [];
  readonly conferences = new Map<string, SimConference>();
  /**
   * The origin the conference listing's next links name (Bandwidth's own host, say); by default
   * the simulator's. Whatever it is, the link is for the simulator's listing.
   */
  linkOrigin: string | undefined;
  /** Recordings whose media alone was deleted (`DELETE …/media`); their metadata stays. */
  private readonly mediaDeleted = new Set<string>();

  constructor(options: BandwidthSimulatorOptions = {}) {
    super(options);
    this.accountId = options.accountId ?? '9900000';
    this.username = options.username ?? 'callvault-sim';
    this.password = options.password ?? 'sim-Pa55word!';
  }

  /**
   * A conference and its recordings (each `id` its recordingId; it may be a call recording's
   * too). Recording `callId`s are ignored: a conference recording has none.
   */
  addConference(conference: SimConference, recordings: SimRecording[] = []): void {
    this.conferences.set(conference.id, conference);
    for (const recording of recordings) this.addConferenceRecording(conference.id, recording);
  }

  /** A recording of a conference already added; returns the key it is held under. */
  addConferenceRecording(conferenceId: string, recording: SimRecording): string {
    if (!this.conferences.has(conferenceId)) throw new Error(`simulator has no conference ${conferenceId}`);
    const key = conferenceRecordingKey(conferenceId, recording.id);
    this.add({
      ...recording,
      id: key,
      callId: '',
      extra: { ...recording.extra, conferenceId, recordingId: recording.id },
    });
    return key;
  }

  protected classify(method: string, url: URL): Endpoint {
    const rest = ACCOUNT_PREFIX.exec(url.pathname)?.[2] ?? '';
    const conferenceRecording = CONFERENCE_RECORDING_ROUTE.exec(rest);
    if (conferenceRecording) {
      if (method === 'DELETE') return 'delete';
      return conferenceRecording[3] ? 'audio' : 'status';
    }
    if (rest === '/conferences' || CONFERENCE_RECORDINGS_ROUTE.test(rest)) return 'list';
    if (CONFERENCE_ROUTE.test(rest)) return 'status';
    const recording = RECORDING_ROUTE.exec(rest);
    if (recording) {
      if (method === 'DELETE') return 'delete';
      return recording[3] ? 'audio' : 'status';
    }
    if (rest === '/recordings' || CALL_RECORDINGS_ROUTE.test(rest)) return 'list';
    return 'any';
  }

  /** What a truncated Bandwidth listing looks like when a proxy cuts it. */
  protected override garbageBody(): { contentType: string; body: string } {
    return {
      contentType: 'application/json',
      body: `[{"accountId":"${this.accountId}","recordingId":"r-trunc`,
    };
  }

  /**
   * The JSON body Bandwidth POSTs to the application's callback URL for a recording event
   * (`recordingAvailable` carries `status`; `recordingComplete` does not).
   */
  callbackBody(
    id: string,
    eventType: 'recordingAvailable' | 'recordingComplete' = 'recordingAvailable',
  ): string {
    const recording = this.require(id);
    // The callback schemas carry no transcription, and status only on recordingAvailable.
    const { status, transcription, ...metadata } = this.metadata(recording);
    return JSON.stringify({
      eventType,
      eventTime: new Date(this.now()).toISOString(),
      ...metadata,
      callUrl: `https://voice.bandwidth.com/api/v2/accounts/${this.accountId}/calls/${recording.callId}`,
      ...(eventType === 'recordingAvailable' ? { status } : {}),
      tag: null,
    });
  }

  /**
   * The JSON body of the `conferenceRecordingAvailable` callback for the conference recording
   * held under `key` (`conferenceRecordingKey`), with the schema's fields.
   */
  conferenceCallbackBody(key: string): string {
    const recording = this.require(key);
    const conference = this.conferences.get(recording.extra?.conferenceId ?? '');
    if (!conference) throw new Error(`simulator recording ${key} is not a conference recording`);
    const metadata = this.conferenceMetadata(recording);
    const field = (name: string) => metadata[name];
    return JSON.stringify({
      eventType: 'conferenceRecordingAvailable',
      eventTime: new Date(this.now()).toISOString(),
      ...Object.fromEntries(
        [
          'conferenceId',
          'name',
          'accountId',
          'recordingId',
          'channels',
          'startTime',
          'endTime',
          'duration',
        ].map((name) => [name, field(name)]),
      ),
      fileFormat: field('fileFormat'),
      mediaUrl: field('mediaUrl'),
      tag: conference.tag ?? null,
      status: field('status'),
    });
  }

  /** POSTs a callback body (`callbackBody`, `conferenceCallbackBody`) as Bandwidth would. */
  async postCallback(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'BandwidthAPI/v2', ...headers },
      body,
    });
  }

  protected async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (!this.authorized(request)) {
      response.setHeader('www-authenticate', 'Basic realm="Bandwidth"');
      this.error(
        response,
        401,
        'authentication-error',
        'Full authentication is required to access this resource',
      );
      return;
    }
    const match = ACCOUNT_PREFIX.exec(url.pathname);
    if (!match) {
      this.error(response, 404, 'not-found', `No resource at ${url.pathname}`);
      return;
    }
    if (decodeURIComponent(match[1] ?? '') !== this.accountId) {
      this.error(response, 403, 'forbidden', 'You do not have access to this account');
      return;
    }
    const rest = match[2] ?? '';
    const method = request.method ?? 'GET';
    if (rest === '/recordings' && method === 'GET') {
      this.listQueries.push(url.search);
      this.listAccountRecordings(response, url.searchParams);
      return;
    }
    if (rest.startsWith('/conferences')) {
      await this.handleConferences(response, url, rest, method);
      return;
    }
    const callRecordings = CALL_RECORDINGS_ROUTE.exec(rest);
    if (callRecordings && method === 'GET') {
      const callId = decodeURIComponent(callRecordings[1] ?? '');
      const found = this.liveCallRecordings().filter((recording) => recording.callId === callId);
      this.json(
        response,
        200,
        found.map((recording) => this.metadata(recording)),
      );
      return;
    }
    const route = RECORDING_ROUTE.exec(rest);
    if (!route) {
      this.error(response, 404, 'not-found', `No resource at ${url.pathname}`);
      return;
    }
    const recording = this.find(decodeURIComponent(route[1] ?? ''), decodeURIComponent(route[2] ?? ''));
    if (!recording) {
      this.error(response, 404, 'not-found', 'Recording not found');
      return;
    }
    const media = Boolean(route[3]);
    if (method === 'DELETE') {
      // DELETE …/media removes the media only; DELETE of the recording takes its metadata, media
      // and transcription with it.
      if (media) this.mediaDeleted.add(recording.id);
      else this.markDeleted(recording.id);
      response.writeHead(204).end();
      return;
    }
    if (method !== 'GET') {
      this.error(response, 405, 'method-not-allowed', `${method} is not allowed here`);
      return;
    }
    if (!media) {
      this.json(
        response,
        200,
        this.metadata(this.recordings.get(this.metadataOf(recording.id)) ?? recording),
      );
      return;
    }
    await this.serveMedia(response, recording, recording.id);
  }

  /** Duration, channels, start, end and file format, as call and conference metadata render them. */
  private timing(recording: SimRecording) {
    return {
      duration: isoDuration(recording.durationSec),
      channels: recording.channels ?? 1,
      startTime: recording.startedAt.toISOString(),
      endTime: new Date(
        recording.startedAt.getTime() + Math.round(recording.durationSec * 1000),
      ).toISOString(),
      fileFormat: this.fileFormat(recording),
    };
  }

  /**
   * A recording's media. Assumption: Bandwidth has no media before the recording is complete,
   * and answers a 404 like any missing resource rather than a distinct "processing" status.
   */
  private async serveMedia(response: ServerResponse, recording: SimRecording, key: string): Promise<void> {
    if (!this.mediaAvailable(recording)) {
      this.error(response, 404, 'not-found', 'Recording media not found');
      return;
    }
    await this.sendAudio(
      response,
      key,
      this.fileFormat(recording) === 'mp3' ? 'audio/mpeg' : 'audio/vnd.wave',
    );
  }

  private listAccountRecordings(response: ServerResponse, query: URLSearchParams): void {
    const bounds = this.timeBounds(response, query, ['minStartTime', 'maxStartTime']);
    if (!bounds) return;
    const from = query.get('from');
    const to = query.get('to');
    const { minStartTime, maxStartTime } = bounds;
    const matching = this.liveCallRecordings().filter((recording) => {
      const at = recording.startedAt.getTime();
      return (
        (minStartTime === undefined || at >= minStartTime) &&
        (maxStartTime === undefined || at < maxStartTime) &&
        (from === null || recording.from === from) &&
        (to === null || recording.to === to)
      );
    });
    // live() is already oldest first; the cap is all the "paging" Bandwidth offers.
    this.json(
      response,
      200,
      matching.slice(0, LIST_CAP).map((recording) => {
        const { recordingId, ...rest } = this.metadata(recording);
        return this.idlessInListing.has(recording.id) ? rest : { recordingId, ...rest };
      }),
    );
  }

  private authorized(request: IncomingMessage): boolean {
    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    return request.headers.authorization === expected;
  }

  private find(callId: string, recordingId: string): SimRecording | undefined {
    const recording = this.recordings.get(recordingId);
    if (!recording || recording.deleted || recording.callId !== callId || isConference(recording)) {
      return undefined;
    }
    return recording;
  }

  /** Live call recordings: the ones "Get Call Recordings" and /calls/… know. */
  private liveCallRecordings(): SimRecording[] {
    return this.live().filter((recording) => !isConference(recording));
  }

  private async handleConferences(
    response: ServerResponse,
    url: URL,
    rest: string,
    method: string,
  ): Promise<void> {
    const recordingRoute = CONFERENCE_RECORDING_ROUTE.exec(rest);
    if (recordingRoute && method === 'DELETE') {
      // The OpenAPI documents GET only on conference recordings and their media.
      this.error(response, 405, 'method-not-allowed', 'DELETE is not allowed here');
      return;
    }
    if (method !== 'GET') {
      this.error(response, 405, 'method-not-allowed', `${method} is not allowed here`);
      return;
    }
    if (rest === '/conferences') {
      this.conferenceQueries.push(url.search);
      this.listConferences(response, url.searchParams);
      return;
    }
    const conferenceId = decodeURIComponent(
      (recordingRoute ?? CONFERENCE_RECORDINGS_ROUTE.exec(rest) ?? CONFERENCE_ROUTE.exec(rest))?.[1] ?? '',
    );
    const conference = this.conferences.get(conferenceId);
    if (!conference) {
      this.error(response, 404, 'not-found', 'Conference not found');
      return;
    }
    if (CONFERENCE_ROUTE.test(rest)) {
      this.json(response, 200, { ...this.conferenceItem(conference), activeMembers: [] });
      return;
    }
    if (!recordingRoute) {
      // No documented order: newest first here, so no client may count on one.
      const found = this.live()
        .filter((recording) => recording.extra?.conferenceId === conferenceId)
        .reverse();
      this.json(
        response,
        200,
        found.map((recording) => {
          const { recordingId, ...fields } = this.conferenceMetadata(recording);
          return this.idlessInListing.has(recording.id) ? fields : { recordingId, ...fields };
        }),
      );
      return;
    }
    const key = conferenceRecordingKey(conferenceId, decodeURIComponent(recordingRoute[2] ?? ''));
    const recording = this.recordings.get(key);
    if (!recording || recording.deleted || !isConference(recording)) {
      this.error(response, 404, 'not-found', 'Recording not found');
      return;
    }
    if (!recordingRoute[3]) {
      const answered = this.recordings.get(this.metadataOf(key)) ?? recording;
      this.json(
        response,
        200,
        isConference(answered) ? this.conferenceMetadata(answered) : this.metadata(answered),
      );
      return;
    }
    await this.serveMedia(response, recording, key);
  }

  /** The named ISO 8601 filters as epoch ms; undefined (after answering 400) when one is not a date. */
  private timeBounds(
    response: ServerResponse,
    query: URLSearchParams,
    names: readonly string[],
  ): Record<string, number | undefined> | undefined {
    const bounds: Record<string, number | undefined> = {};
    for (const name of names) {
      const value = query.get(name);
      if (value === null) continue;
      const at = Date.parse(value);
      if (Number.isNaN(at)) {
        this.error(response, 400, 'validation', `${name} must be an ISO8601 date-time, got '${value}'`);
        return undefined;
      }
      bounds[name] = at;
    }
    return bounds;
  }

  /** "Get Conferences": filters, oldest first, pageSize per answer, a next Link while more remain. */
  private listConferences(response: ServerResponse, query: URLSearchParams): void {
    const bounds = this.timeBounds(response, query, ['minCreatedTime', 'maxCreatedTime']);
    if (!bounds) return;
    const sizeText = query.get('pageSize');
    const pageSize = sizeText === null ? CONFERENCE_PAGE_CAP : Number(sizeText);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > CONFERENCE_PAGE_CAP) {
      this.error(response, 400, 'validation', `pageSize must be an integer from 1 to ${CONFERENCE_PAGE_CAP}`);
      return;
    }
    const token = query.get('pageToken');
    let after: { at: number; id: string } | undefined;
    if (token !== null) {
      after = readPageToken(token);
      if (!after) {
        this.error(response, 400, 'validation', 'pageToken is not valid');
        return;
      }
    }
    const name = query.get('name');
    const { minCreatedTime, maxCreatedTime } = bounds;
    const matching = [...this.conferences.values()]
      .filter((conference) => {
        const at = conference.createdAt.getTime();
        return (
          (minCreatedTime === undefined || at >= minCreatedTime) &&
          (maxCreatedTime === undefined || at <= maxCreatedTime) &&
          (name === null || conference.name === name)
        );
      })
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .filter(
        (conference) =>
          !after ||
          conference.createdAt.getTime() > after.at ||
          (conference.createdAt.getTime() === after.at && conference.id.localeCompare(after.id) > 0),
      );
    const page = matching.slice(0, pageSize);
    const last = page.at(-1);
    if (last && matching.length > page.length) {
      const next = new URLSearchParams(query);
      next.set('pageToken', pageTokenOf(last));
      const origin = this.linkOrigin ?? new URL(this.baseUrl).origin;
      response.setHeader(
        'link',
        `<${origin}/api/v2/accounts/${this.accountId}/conferences?${next.toString()}>; rel="next"`,
      );
    }
    this.json(
      response,
      200,
      page.map((conference) => this.conferenceItem(conference)),
    );
  }

  /** A conference as the listing renders it (the `conference` schema, no activeMembers). */
  private conferenceItem(conference: SimConference): Record<string, unknown> {
    return {
      id: conference.id,
      name: conference.name,
      createdTime: conference.createdAt.toISOString(),
      completedTime: conference.completedAt?.toISOString() ?? null,
      conferenceEventUrl: 'https://myServer.example/bandwidth/webhooks/conferenceEvent',
      conferenceEventMethod: 'POST',
      tag: conference.tag ?? null,
    };
  }

  /** A conference recording as `conferenceRecordingMetadata`. */
  private conferenceMetadata(recording: SimRecording): Record<string, unknown> {
    const conferenceId = recording.extra?.conferenceId ?? '';
    const recordingId = recording.extra?.recordingId ?? recording.id;
    return {
      accountId: this.accountId,
      conferenceId,
      name: this.conferences.get(conferenceId)?.name ?? null,
      recordingId,
      ...this.timing(recording),
      status: this.status(recording),
      // As the OpenAPI's example shows it: on Bandwidth's host, never this one's.
      mediaUrl: this.mediaAvailable(recording)
        ? `https://voice.bandwidth.com/api/v2/accounts/${this.accountId}/conferences/${conferenceId}/recordings/${recordingId}/media`
        : null,
    };
  }

  private status(recording: SimRecording): string {
    if (recording.extra?.status) return recording.extra.status;
    if (this.mediaDeleted.has(recording.id)) return 'deleted';
    return this.isReady(recording) ? 'complete' : 'processing';
  }

  /** Media is served for `complete`/`completed`, or whatever the word when `extra.mediaUrl` is set. */
  private mediaAvailable(recording: SimRecording): boolean {
    const status = this.status(recording);
    if (['error', 'deleted', 'absent'].includes(status) || this.mediaDeleted.has(recording.id)) return false;
    return status === 'complete' || status === 'completed' || recording.extra?.mediaUrl === 'present';
  }

  private fileFormat(recording: SimRecording): string {
    return recording.extra?.fileFormat ?? 'wav';
  }

  /** A recording as `callRecordingMetadata`. */
  private metadata(recording: SimRecording): Record<string, unknown> {
    const status = this.status(recording);
    const extra = recording.extra ?? {};
    return {
      applicationId: '04e88489-df02-4e34-a0ee-27a91849555f',
      accountId: this.accountId,
      callId: recording.callId,
      parentCallId: extra.parentCallId ?? null,
      recordingId: recording.id,
      to: recording.to,
      from: recording.from,
      transferCallerId: extra.transferCallerId ?? null,
      transferTo: extra.transferTo ?? null,
      direction: recording.direction,
      ...this.timing(recording),
      status,
      // Rendered as the reference shows it, malformed (`https  ://../…`): clients must build the
      // media URL themselves. Absent until the media can be downloaded, as the schema says.
      mediaUrl: this.mediaAvailable(recording)
        ? `https  ://../${this.accountId}/calls/${recording.callId}/recordings/${recording.id}/media`
        : null,
      transcription: null,
    };
  }

  private error(response: ServerResponse, status: number, type: string, description: string): void {
    this.json(response, status, { type, description });
  }
}

function isConference(recording: SimRecording): boolean {
  return recording.extra?.conferenceId !== undefined;
}

function pageTokenOf(conference: SimConference): string {
  return Buffer.from(JSON.stringify({ at: conference.createdAt.getTime(), id: conference.id })).toString(
    'base64url',
  );
}

function readPageToken(token: string): { at: number; id: string } | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { at, id } = parsed as { at?: unknown; id?: unknown };
    return typeof at === 'number' && typeof id === 'string' ? { at, id } : undefined;
  } catch {
    return undefined;
  }
}

/** `62.5` → `PT1M2.5S`, `1.415` → `PT1.415S`, as Bandwidth writes durations. */
function isoDuration(seconds: number): string {
  const totalMs = Math.round(seconds * 1000);
  const minutes = Math.floor(totalMs / 60_000);
  const rest = (totalMs - minutes * 60_000) / 1000;
  return `PT${minutes > 0 ? `${minutes}M` : ''}${rest}S`;
}

/** A config account pointing at the simulator, with the credentials it accepts. */
export function bandwidthSimulatorAccount(
  sim: BandwidthSimulator,
  id = 'bandwidth-sim',
): AccountOf<'bandwidth'> {
  return {
    ...sim.accountBase(id),
    provider: 'bandwidth',
    auth: { accountId: sim.accountId, username: sim.username, password: sim.password },
  };
}
