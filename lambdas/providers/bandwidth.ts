import { ProviderResponseError, WebhookParseError } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import type { ListPage, ProviderAdapter, WebhookRecording } from '../core/ports.ts';
import {
  type Direction,
  definedOnly,
  type Readiness,
  type Recording,
  type RecordingRef,
} from '../core/recording.ts';
import { isoDurationSeconds, toUtcIso } from '../core/time.ts';
import {
  type AdapterFactory,
  accountHttp,
  adapterFrom,
  goneRecording,
  openAudioOrAskRecording,
  type WindowBounds,
  windowBounds,
} from './adapter.ts';
import { basicAuth, type ProviderHttp, type RequestOptions } from './http.ts';
import { isObject, jsonKind, parseWebhookJson, toNumber, toText } from './parse.ts';

/** Bandwidth's cap on one listing answer: an answer this long may have been cut short. */
export const BANDWIDTH_LIST_CAP = 1000;

/**
 * Bandwidth's cap on one conference listing answer (`pageSize`: 1 to 1000, default 1000); more
 * conferences come by the `Link: <…>; rel="next"` header, which is the only paging followed.
 */
export const BANDWIDTH_CONFERENCE_PAGE_CAP = 1000;

/**
 * How many conferences one listing unit reads the recordings of (one request each) before it
 * hands over what it found and checkpoints, so a unit stays a bounded number of requests.
 */
export const CONFERENCES_PER_UNIT = 25;

/**
 * How long before the window's start a conference may have been created and still have a
 * recording starting inside the window. Conferences are listed by creation time only; one that
 * completed before the window cannot have a recording in it and costs no request.
 */
export const CONFERENCE_LOOKBACK_MS = 24 * 3_600_000;

/** Call recording events that announce a finished recording; every other `eventType` is ignored. */
const RECORDING_EVENTS = new Set(['recordingAvailable', 'recordingComplete']);
/** The one conference recording event: "the recording is available for download". */
const CONFERENCE_RECORDING_EVENT = 'conferenceRecordingAvailable';

/** How far apart a conference's times and its recordings' may be, from clocks that disagree. */
const CLOCK_SLACK_MS = 60_000;

/** The position of the listing's conference part (call recordings come first). */
const CONFERENCES_POSITION = 'conferences';

/**
 * Status words of a downloadable recording. The OpenAPI describes `complete`, but its own example
 * says `completed`: both mean the same.
 */
const READY_STATUSES = new Set(['complete', 'completed']);
/** Status words after which the recording will never become downloadable. */
const TERMINAL_STATUSES = new Set(['error', 'deleted', 'absent']);
/**
 * Status words that mean "not yet". An unknown word is treated the same, and logged, unless a
 * mediaUrl says the file may be downloaded.
 */
const PENDING_STATUSES = new Set(['processing', 'partial']);

/**
 * One element of a listing, or the single-recording answer (`callRecordingMetadata`, or
 * `conferenceRecordingMetadata` under /conferences).
 */
type RecordingMetadata = Record<string, unknown> & { recordingId: string };

/** One element of the conference listing (the `conference` schema, without its members). */
type ConferenceItem = Record<string, unknown> & { id: string };

/**
 * A conference recording's providerRecordingId: `{conferenceId}/{recordingId}`, the two ids its
 * API path nests. A conference recording has no call id to be addressed by, and its recordingId
 * alone is not known to be distinct from every call recording's, so both ids make the one id.
 */
export function conferenceRecordingId(conferenceId: string, recordingId: string): string {
  return `${conferenceId}/${recordingId}`;
}

/** The conference and recording ids of a conference recording's ref; undefined for a call's. */
export function conferenceRecordingOf(
  ref: Pick<RecordingRef, 'providerRecordingId' | 'callId'>,
): { conferenceId: string; recordingId: string } | undefined {
  if (ref.callId) return undefined;
  const slash = ref.providerRecordingId.indexOf('/');
  if (slash <= 0 || slash === ref.providerRecordingId.length - 1) return undefined;
  return {
    conferenceId: ref.providerRecordingId.slice(0, slash),
    recordingId: ref.providerRecordingId.slice(slash + 1),
  };
}

/**
 * Where a listing is. Call recordings first, by `minStartTime` slices (a bare ISO time, as
 * positions always were, so a checkpoint of an older version resumes); then conferences:
 * `conferences?page={the next link's query}&after={last conference read}&at={its createdTime}`.
 */
type Position =
  | { phase: 'calls'; minStartTime?: string }
  | { phase: 'conferences'; page?: string; after?: string; at?: string };

export const createBandwidthAdapter: AdapterFactory<'bandwidth'> = (account, options = {}) => {
  const { accountId, username, password } = account.auth;
  const authorization = basicAuth(username, password);
  const logger = options.logger ?? silentLogger;
  const http = accountHttp(account, options, {
    secrets: [authorization.slice('Basic '.length)],
    headers: { authorization, accept: 'application/json' },
  });
  const accountPath = `/api/v2/accounts/${encodeURIComponent(accountId)}`;

  const conferencesPath = `${accountPath}/conferences`;
  const conferencePageSize = Math.min(
    BANDWIDTH_CONFERENCE_PAGE_CAP,
    Math.max(1, Math.floor(options.pageSize ?? BANDWIDTH_CONFERENCE_PAGE_CAP)),
  );

  function conferenceRecordingsPath(conferenceId: string): string {
    return `${conferencesPath}/${encodeURIComponent(conferenceId)}/recordings`;
  }

  function recordingPath(ref: RecordingRef): string {
    const conference = conferenceRecordingOf(ref);
    if (conference) {
      return `${conferenceRecordingsPath(conference.conferenceId)}/${encodeURIComponent(conference.recordingId)}`;
    }
    if (!ref.callId) {
      throw new ProviderResponseError(
        `${http.who}: recording ${ref.providerRecordingId} has no call id, and Bandwidth can only address a call recording through its call (/calls/{callId}/recordings/{recordingId}) and a conference recording as {conferenceId}/{recordingId}; take callId from the listing or the recordingAvailable callback`,
      );
    }
    return `${accountPath}/calls/${encodeURIComponent(ref.callId)}/recordings/${encodeURIComponent(ref.providerRecordingId)}`;
  }

  function describe(path: string, query?: RequestOptions['query']): string {
    return http.describe(http.url(path, query));
  }

  function toRecording(record: RecordingMetadata, knownCallId?: string): Recording {
    const callId = toText(record.callId) ?? knownCallId;
    const conferenceId = toText(record.conferenceId);
    // Not documented in the call recordings listing; if one shows up there, it is still addressable.
    if (!callId && conferenceId && !conferenceId.includes('/')) {
      return toConferenceRecording(record, conferenceId);
    }
    return {
      ...mediaFields(record),
      providerRecordingId: record.recordingId,
      callId,
      from: toText(record.from),
      to: toText(record.to),
      direction: toDirection(record.direction),
    };
  }

  /** `conferenceRecordingMetadata`: no call, no parties, no direction; the conference name in raw. */
  function toConferenceRecording(record: RecordingMetadata, conferenceId: string): Recording {
    return {
      ...mediaFields(record),
      providerRecordingId: conferenceRecordingId(conferenceId, record.recordingId),
      direction: 'unknown',
    };
  }

  /** A recording's times and media as metadata and callbacks both give them. */
  function timesAndMedia(fields: Record<string, unknown>) {
    return {
      startedAt: toUtcIso(fields.startTime, account.timeZone),
      endedAt: toUtcIso(fields.endTime, account.timeZone),
      durationSec: isoDurationSeconds(fields.duration),
      format: toText(fields.fileFormat)?.toLowerCase(),
      channels: toNumber(fields.channels),
    };
  }

  /** What call and conference recording metadata say alike: times, media, status. */
  function mediaFields(record: RecordingMetadata): Omit<Recording, 'providerRecordingId' | 'direction'> {
    const status = toText(record.status);
    return {
      accountId: account.id,
      provider: 'bandwidth',
      ...timesAndMedia(record),
      readiness: readinessOf(status, record),
      providerStatus: status,
      // parentCallId, transferCallerId, transferTo, transcription, mediaUrl, a conference's name stay here only.
      raw: record,
    };
  }

  function readinessOf(status: string | undefined, record: RecordingMetadata): Readiness {
    if (status !== undefined && READY_STATUSES.has(status)) return 'ready';
    if (status !== undefined && TERMINAL_STATUSES.has(status)) return 'gone';
    if (status !== undefined && PENDING_STATUSES.has(status)) return 'pending';
    // The schema documents mediaUrl as "only present if the recording is finished and may be
    // downloaded": with no status word, or one we do not know, that is the provider saying so.
    if (toText(record.mediaUrl)) return 'ready';
    if (status !== undefined) {
      // "Additional states may be added in the future": keep waiting rather than fail or drop it.
      logger.warn('unknown Bandwidth recording status, treated as pending', {
        account: account.id,
        provider: 'bandwidth',
        recordingId: record.recordingId,
        status,
      });
    }
    return 'pending';
  }

  /** One listing answer, every item of it (ids or not: all of them place the next request). */
  async function fetchList(query: RequestOptions['query']): Promise<Record<string, unknown>[]> {
    const path = `${accountPath}/recordings`;
    const { status, json } = await http.getJson(path, { query });
    if (status === 404) {
      throw new ProviderResponseError(
        `${http.who} answered ${describe(path, query)} with HTTP 404: check the account's auth.accountId`,
      );
    }
    return bandwidthItems(http, json, http.url(path, query));
  }

  /**
   * `recordingId` is optional in the OpenAPI schema. An item without one cannot be fetched, but
   * failing the answer for it would stop every later sweep at the same place: it is reported
   * and the rest of the answer is listed.
   */
  function withId(item: Record<string, unknown>, index: number, page: string): item is RecordingMetadata {
    if (isMetadata(item)) return true;
    logger.warn('bandwidth listing item without a recordingId skipped', {
      account: account.id,
      provider: 'bandwidth',
      page,
      item: index,
      callId: toText(item.callId),
      conferenceId: toText(item.conferenceId),
      startTime: toText(item.startTime),
    });
    return false;
  }

  /** Where `position` (a `next` this adapter handed out, or none) says the listing is. */
  function readPosition(position: string | undefined): Position {
    if (position === undefined) return { phase: 'calls' };
    if (position === CONFERENCES_POSITION || position.startsWith(`${CONFERENCES_POSITION}?`)) {
      const params = new URLSearchParams(position.slice(CONFERENCES_POSITION.length + 1));
      return {
        phase: 'conferences',
        page: params.get('page') ?? undefined,
        after: params.get('after') ?? undefined,
        at: params.get('at') ?? undefined,
      };
    }
    if (!/^\d{4}-\d{2}-\d{2}T/.test(position) || toUtcIso(position) === undefined) {
      throw new ProviderResponseError(
        `${http.who}: listing position ${JSON.stringify(position)} is neither a minStartTime nor a conference position`,
      );
    }
    return { phase: 'calls', minStartTime: position };
  }

  function conferencePosition(fields: { page?: string; after?: string; at?: string }): string {
    const params = new URLSearchParams(
      Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const text = params.toString();
    return text ? `${CONFERENCES_POSITION}?${text}` : CONFERENCES_POSITION;
  }

  /**
   * One listing unit. Call recordings: a time slice from `minStartTime` (the position; the
   * window's `since` at first) of at most BANDWIDTH_LIST_CAP recordings; a full answer continues
   * from its last start. Once they are done, conference recordings (`conferencePage`).
   */
  const listPage: ProviderAdapter['listPage'] = async (window, position) => {
    const bounds = windowBounds(window);
    const at = readPosition(position);
    if (at.phase === 'conferences') return conferencePage(bounds, at);
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    const minStartTime = at.minStartTime ?? iso(bounds.since);
    const query = { minStartTime, maxStartTime: iso(bounds.until) };
    const records = await fetchList(query);
    const seen = new Set<string>();
    const recordings: Recording[] = [];
    const page = describe(`${accountPath}/recordings`, query);
    for (const [index, record] of records.entries()) {
      if (!withId(record, index, page) || seen.has(record.recordingId)) continue;
      seen.add(record.recordingId);
      const recording = toRecording(record);
      if (bounds.contains(recording.startedAt)) recordings.push(recording);
    }
    // "Get Call Recordings" holds call recordings only: the conferences' come next.
    if (records.length < BANDWIDTH_LIST_CAP) return { recordings, next: CONFERENCES_POSITION };
    return { recordings, next: nextMinStartTime(http, records, minStartTime) };
  };

  /**
   * One unit of the conference part: one conference listing answer (the first built from the
   * window, the next ones from its `Link` header), and the recordings of at most
   * CONFERENCES_PER_UNIT of its conferences that may hold one starting in the window, from the
   * one after `after` on. A page of more such conferences is read in several units, each
   * fetching the page again (by the same link) and skipping what the unit before read.
   */
  async function conferencePage(
    bounds: WindowBounds,
    at: Extract<Position, { phase: 'conferences' }>,
  ): Promise<ListPage> {
    const first = {
      minCreatedTime:
        bounds.since === undefined
          ? undefined
          : new Date(bounds.since - CONFERENCE_LOOKBACK_MS).toISOString(),
      maxCreatedTime:
        bounds.until === undefined ? undefined : new Date(bounds.until + CLOCK_SLACK_MS).toISOString(),
      pageSize: conferencePageSize,
    };
    const query: Record<string, string | number | undefined> =
      at.page === undefined ? first : { ...first, ...Object.fromEntries(new URLSearchParams(at.page)) };
    const url = http.url(conferencesPath, query);
    const response = await http.requestText(conferencesPath, {
      query,
      headers: { accept: 'application/json' },
    });
    if (response.status === 404) {
      throw new ProviderResponseError(
        `${http.who} answered ${http.describe(url)} with HTTP 404: check the account's auth.accountId`,
      );
    }
    http.expectOk(response, conferencesPath, query);
    const json = http.parseJson(response.text, url);
    if (!Array.isArray(json) || !json.every(isObject)) {
      throw new ProviderResponseError(
        `${http.who} answered ${http.describe(url)} with JSON that is not a list of conferences: ${http.snippet(JSON.stringify(json) ?? '')}`,
      );
    }
    const nextPage = nextConferencePage(response.headers.link, url, first);
    const conferences = json.filter((item, index): item is ConferenceItem =>
      conferenceWithId(item, index, url),
    );
    const recordings: Recording[] = [];
    const seen = new Set<string>();
    let read = 0;
    for (let index = resumeIndex(conferences, at); index < conferences.length; index += 1) {
      const conference = conferences[index] as ConferenceItem;
      if (!mayHoldWindow(conference, bounds)) continue;
      if (read === CONFERENCES_PER_UNIT) {
        const last = conferences[index - 1] as ConferenceItem;
        return {
          recordings,
          next: conferencePosition({ page: at.page, after: last.id, at: toText(last.createdTime) }),
        };
      }
      read += 1;
      for (const recording of await conferenceRecordings(conference.id)) {
        if (seen.has(recording.providerRecordingId) || !bounds.contains(recording.startedAt)) continue;
        seen.add(recording.providerRecordingId);
        recordings.push(recording);
      }
    }
    return nextPage === undefined
      ? { recordings }
      : { recordings, next: conferencePosition({ page: nextPage }) };
  }

  /**
   * Whether a conference may hold a recording that starts in the window: not if it was created
   * after the window or completed before it (a recording lies within its conference), give or
   * take CLOCK_SLACK_MS. A conference without those times is asked.
   */
  function mayHoldWindow(conference: ConferenceItem, bounds: WindowBounds): boolean {
    const completed = Date.parse(toText(conference.completedTime) ?? '');
    if (bounds.until !== undefined && createdMs(conference) - CLOCK_SLACK_MS >= bounds.until) return false;
    if (bounds.since !== undefined && completed + CLOCK_SLACK_MS < bounds.since) return false;
    return true;
  }

  /** Where a unit resumes in a page: after `after`, or, gone from the page since, at its createdTime. */
  function resumeIndex(conferences: ConferenceItem[], at: { after?: string; at?: string }): number {
    if (at.after === undefined) return 0;
    const found = conferences.findIndex((conference) => conference.id === at.after);
    if (found >= 0) return found + 1;
    const since = Date.parse(at.at ?? '');
    if (Number.isNaN(since)) return 0;
    // Conferences sharing its createdTime are read again: a repeat is harmless, a skip is not.
    const index = conferences.findIndex((conference) => !(createdMs(conference) < since));
    return index < 0 ? conferences.length : index;
  }

  /**
   * The next page's query from the `Link: <{url}>; rel="next"` header, or undefined on the last
   * page. Only its query is taken: the request goes to the configured host and the conference
   * listing path whatever host the link names. The window's filters are kept if it drops them.
   */
  function nextConferencePage(
    header: string | string[] | undefined,
    current: URL,
    filters: Record<string, string | number | undefined>,
  ): string | undefined {
    const text = Array.isArray(header) ? header.join(', ') : header;
    if (text === undefined || text.trim() === '') return undefined;
    const links = [...text.matchAll(/<([^>]*)>([^<]*)/g)];
    if (links.length === 0) {
      throw new ProviderResponseError(
        `${http.who} answered ${http.describe(current)} with a Link header that is not <url>; rel="next": ${http.snippet(text)}`,
      );
    }
    const target = links.find((link) =>
      /;\s*rel\s*=\s*"?([^";,]*)"?/i
        .exec(link[2] ?? '')?.[1]
        ?.split(/\s+/)
        .includes('next'),
    )?.[1];
    if (target === undefined) return undefined;
    let link: URL;
    try {
      link = new URL(target, current);
    } catch {
      throw new ProviderResponseError(
        `${http.who} answered ${http.describe(current)} with a next Link that is not a URL: ${http.snippet(target)}`,
      );
    }
    if (!link.pathname.replace(/\/$/, '').endsWith(conferencesPath)) {
      throw new ProviderResponseError(
        `${http.who} answered ${http.describe(current)} with a next Link to another resource than the conference listing: ${http.snippet(target)}`,
      );
    }
    for (const [key, value] of Object.entries(filters)) {
      if (value !== undefined && !link.searchParams.has(key)) link.searchParams.set(key, String(value));
    }
    if (canonicalQuery(link.searchParams) === canonicalQuery(current.searchParams)) {
      throw new ProviderResponseError(
        `${http.who} answered ${http.describe(current)} with a next Link to the same page: the conference listing would never end`,
      );
    }
    return link.searchParams.toString();
  }

  /**
   * `id` is optional in the `conference` schema. A conference without one (or with a `/`, which
   * no path segment holds) cannot be asked for its recordings: it is reported and skipped.
   */
  function conferenceWithId(item: Record<string, unknown>, index: number, page: URL): item is ConferenceItem {
    if (typeof item.id === 'string' && item.id !== '' && !item.id.includes('/')) return true;
    logger.warn('bandwidth conference without a usable id skipped', {
      account: account.id,
      provider: 'bandwidth',
      page: http.describe(page),
      item: index,
      name: toText(item.name),
      createdTime: toText(item.createdTime),
    });
    return false;
  }

  /** A conference's recordings, oldest first: the answer has no documented order. */
  async function conferenceRecordings(conferenceId: string): Promise<Recording[]> {
    const path = conferenceRecordingsPath(conferenceId);
    const { status, json } = await http.getJson(path);
    if (status === 404) {
      // Listed a moment ago: it has expired since, and its recordings with it.
      logger.warn('bandwidth conference gone before its recordings were listed', {
        account: account.id,
        provider: 'bandwidth',
        conferenceId,
      });
      return [];
    }
    const page = describe(path);
    const recordings = bandwidthItems(http, json, http.url(path))
      .filter((item, index): item is RecordingMetadata => withId(item, index, page))
      .map((record) => {
        const other = toText(record.conferenceId);
        if (other !== undefined && other !== conferenceId) {
          throw new ProviderResponseError(
            `${http.who} answered ${page} with recording ${JSON.stringify(http.redact(record.recordingId))} of another conference`,
          );
        }
        return toConferenceRecording(record, conferenceId);
      });
    return recordings.sort(
      (a, b) =>
        (a.startedAt ?? '').localeCompare(b.startedAt ?? '') ||
        a.providerRecordingId.localeCompare(b.providerRecordingId),
    );
  }

  async function get(ref: RecordingRef): Promise<Recording> {
    const path = recordingPath(ref);
    const { status, json } = await http.getJson(path);
    if (status === 404) return goneRecording(account, ref);
    const conference = conferenceRecordingOf(ref);
    const wanted = conference?.recordingId ?? ref.providerRecordingId;
    const record = bandwidthItems(http, json, http.url(path))
      .filter(isMetadata)
      .find(
        (item) =>
          item.recordingId === wanted &&
          (conference === undefined ||
            toText(item.conferenceId) === undefined ||
            toText(item.conferenceId) === conference.conferenceId),
      );
    if (!record) {
      throw new ProviderResponseError(
        `${http.who} answered ${describe(path)} with metadata for another recording: ${http.snippet(JSON.stringify(json))}`,
      );
    }
    return conference
      ? toConferenceRecording(record, conference.conferenceId)
      : toRecording(record, ref.callId);
  }

  const download: ProviderAdapter['download'] = async (ref) => {
    const media = { headers: { accept: 'audio/vnd.wave, audio/mpeg, */*' } };
    return openAudioOrAskRecording(http, `${recordingPath(ref)}/media`, media, () => get(ref), {
      gone: (recording) =>
        `${http.who}: recording ${ref.providerRecordingId} is gone at Bandwidth (${recording.providerStatus ?? 'HTTP 404'})`,
      // Still processing, or "complete" a moment before its media appeared.
      notReady: (recording) =>
        `${http.who}: recording ${ref.providerRecordingId} has no media yet (status ${recording.providerStatus ?? 'unknown'})`,
    });
  };

  const remove: ProviderAdapter['delete'] = async (ref) => {
    if (conferenceRecordingOf(ref)) {
      // The OpenAPI has GET only under /conferences/{conferenceId}/recordings: nothing is sent.
      throw new ProviderResponseError(
        `${http.who}: recording ${ref.providerRecordingId} is a conference recording, and Bandwidth's API cannot delete conference recordings (/conferences/{conferenceId}/recordings/{recordingId} has no DELETE): it stays at Bandwidth until Bandwidth expires it`,
      );
    }
    // Per the OpenAPI, deleting the recording deletes its metadata, media and transcription
    // together (the media becomes inaccessible at once and is purged within 24-48 hours), so the
    // separate DELETE …/media is not needed.
    const path = recordingPath(ref);
    const response = await http.requestText(path, { method: 'DELETE' });
    if (response.status === 404) return { status: 404, alreadyGone: true };
    http.expectOk(response, path);
    return { status: response.status, alreadyGone: false };
  };

  const parseWebhook: ProviderAdapter['parseWebhook'] = (request) => {
    const body = parseWebhookJson(request.body, {
      who: http.who,
      problem: 'the Bandwidth callback is not JSON',
      contentType: request.headers['content-type'],
      expected: 'a JSON object or a list of them',
    });
    const events = Array.isArray(body) ? body : [body];
    return events.flatMap((event) => parseEvent(event));
  };

  function parseEvent(event: unknown): WebhookRecording[] {
    if (!isObject(event)) {
      throw new WebhookParseError(
        `${http.who}: the Bandwidth callback is not a JSON object (it is ${jsonKind(event)})`,
      );
    }
    const fields = event;
    const eventType = toText(fields.eventType);
    if (!eventType) {
      throw new WebhookParseError(`${http.who}: the Bandwidth callback has no eventType`);
    }
    if (eventType === CONFERENCE_RECORDING_EVENT) return [parseConferenceEvent(fields)];
    // answer, disconnect, dtmf, transcriptionAvailable… are not about a finished recording.
    if (!RECORDING_EVENTS.has(eventType)) return [];
    const recordingId = toText(fields.recordingId);
    const callId = toText(fields.callId);
    if (!recordingId || !callId) {
      throw new WebhookParseError(
        `${http.who}: the Bandwidth ${eventType} callback lacks ${recordingId ? 'callId' : 'recordingId'}, which Bandwidth needs to address the recording`,
      );
    }
    const callbackAccount = toText(fields.accountId);
    if (callbackAccount !== undefined && callbackAccount !== accountId) {
      // Neither its recordingId nor its accountId is repeated: both are the sender's text.
      throw new WebhookParseError(
        `${http.who}: the Bandwidth ${eventType} callback belongs to another Bandwidth account (its accountId is not this account's)`,
      );
    }
    const status = toText(fields.status);
    return [
      {
        accountId: account.id,
        provider: 'bandwidth',
        providerRecordingId: recordingId,
        callId,
        hints: definedOnly({
          from: toText(fields.from),
          to: toText(fields.to),
          direction: fields.direction === undefined ? undefined : toDirection(fields.direction),
          ...timesAndMedia(fields),
          providerStatus: status,
          // recordingComplete carries no status: its media follows with recordingAvailable.
          readiness:
            eventType === 'recordingComplete' ? 'pending' : readinessOf(status, { ...fields, recordingId }),
        }),
      },
    ];
  }

  /**
   * `conferenceRecordingAvailable`: sent "after a conference recording has been processed";
   * addressed by its conference (it has no call), with no parties or direction to hint.
   */
  function parseConferenceEvent(fields: Record<string, unknown>): WebhookRecording {
    const eventType = CONFERENCE_RECORDING_EVENT;
    const recordingId = toText(fields.recordingId);
    const conferenceId = toText(fields.conferenceId);
    if (!recordingId || !conferenceId) {
      throw new WebhookParseError(
        `${http.who}: the Bandwidth ${eventType} callback lacks ${recordingId ? 'conferenceId' : 'recordingId'}, which Bandwidth needs to address the recording`,
      );
    }
    if (conferenceId.includes('/')) {
      throw new WebhookParseError(
        `${http.who}: the Bandwidth ${eventType} callback names a conferenceId with a "/", which no conference path holds`,
      );
    }
    const callbackAccount = toText(fields.accountId);
    if (callbackAccount !== undefined && callbackAccount !== accountId) {
      throw new WebhookParseError(
        `${http.who}: the Bandwidth ${eventType} callback belongs to another Bandwidth account (its accountId is not this account's)`,
      );
    }
    const status = toText(fields.status);
    return {
      accountId: account.id,
      provider: 'bandwidth',
      providerRecordingId: conferenceRecordingId(conferenceId, recordingId),
      hints: definedOnly({
        direction: 'unknown' as const,
        ...timesAndMedia(fields),
        providerStatus: status,
        readiness: readinessOf(status, { ...fields, recordingId }),
      }),
    };
  }

  return adapterFrom(account, http, {
    // Its API has DELETE for call recordings only (/conferences/…/recordings has GET alone).
    canDelete: (ref) => conferenceRecordingOf(ref) === undefined,
    unaddressable: (ref) =>
      ref.callId || conferenceRecordingOf(ref)
        ? undefined
        : 'Bandwidth addresses a call recording through its call: "callId" is required (or the id of a conference recording, "{conferenceId}/{recordingId}")',
    windowedListing: true,
    listPage,
    get,
    download,
    delete: remove,
    parseWebhook,
  });
};

/**
 * A listing or single-recording answer as objects: an array, or a single recording where one is
 * sent. A single object without a recordingId is some other document (an error, a changed API),
 * not a recording to skip.
 */
export function bandwidthItems(http: ProviderHttp, json: unknown, url: URL): Record<string, unknown>[] {
  const items: unknown[] = Array.isArray(json) ? json : [json];
  const single = !Array.isArray(json) && isObject(json) && isMetadata(json);
  if (!items.every(isObject) || (!Array.isArray(json) && !single)) {
    throw new ProviderResponseError(
      `${http.who} answered ${http.describe(url)} with JSON that is not recording metadata: ${http.snippet(JSON.stringify(json) ?? '')}`,
    );
  }
  return items;
}

/**
 * The window step: where the next listing request starts after a full (capped) answer. It is the
 * last startTime, inclusive, so recordings sharing that instant across the cut are asked for
 * again (and de-duplicated). If the whole answer shares one instant, moving on would skip
 * recordings, and an answer that does not advance would loop: both are refused.
 */
export function nextMinStartTime(
  http: ProviderHttp,
  records: Record<string, unknown>[],
  current: string | undefined,
): string {
  const first = toUtcIso(records[0]?.startTime);
  const last = toUtcIso(records.at(-1)?.startTime);
  if (!last) {
    throw new ProviderResponseError(
      `${http.who}: a full answer of ${BANDWIDTH_LIST_CAP} recordings ends with one that has no startTime (${http.snippet(JSON.stringify(records.at(-1)))}), so the listing cannot go on past it`,
    );
  }
  if (first === last) {
    throw new ProviderResponseError(
      `${http.who}: all ${BANDWIDTH_LIST_CAP} recordings of a full answer start at ${last}, so more than ${BANDWIDTH_LIST_CAP} recordings may share that instant; Bandwidth lists at most ${BANDWIDTH_LIST_CAP} per answer and has no paging, so the rest cannot be listed`,
    );
  }
  if (current !== undefined && last <= current) {
    // Only possible if the answer is not sorted oldest first as documented; stop, don't loop.
    throw new ProviderResponseError(
      `${http.who}: a full answer for minStartTime ${current} ends at ${last}: the recordings are not sorted oldest first, so the listing cannot advance safely`,
    );
  }
  return last;
}

/** A conference's createdTime in epoch ms; NaN when it has none. */
function createdMs(conference: Record<string, unknown>): number {
  return Date.parse(toText(conference.createdTime) ?? '');
}

/** A query as one comparable string, whatever the order of its parameters. */
function canonicalQuery(params: URLSearchParams): string {
  return [...params.entries()]
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .sort()
    .join('&');
}

function isMetadata(item: Record<string, unknown>): item is RecordingMetadata {
  return typeof item.recordingId === 'string' && item.recordingId !== '';
}

function toDirection(value: unknown): Direction {
  return value === 'inbound' || value === 'outbound' ? value : 'unknown';
}
