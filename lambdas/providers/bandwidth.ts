import { ProviderResponseError, WebhookParseError } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import type { ProviderAdapter, WebhookRecording } from '../core/ports.ts';
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
  windowBounds,
} from './adapter.ts';
import { basicAuth, type ProviderHttp, type RequestOptions } from './http.ts';
import { isObject, toNumber, toText } from './parse.ts';

/** Bandwidth's cap on one listing answer: an answer this long may have been cut short. */
export const BANDWIDTH_LIST_CAP = 1000;

/** Recording events that announce a finished recording; every other `eventType` is ignored. */
const RECORDING_EVENTS = new Set(['recordingAvailable', 'recordingComplete']);

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

/** One element of the listing, or the single-recording answer (`callRecordingMetadata`). */
type RecordingMetadata = Record<string, unknown> & { recordingId: string };

export const createBandwidthAdapter: AdapterFactory<'bandwidth'> = (account, options = {}) => {
  const { accountId, username, password } = account.auth;
  const authorization = basicAuth(username, password);
  const logger = options.logger ?? silentLogger;
  const http = accountHttp(account, options, {
    secrets: [authorization.slice('Basic '.length)],
    headers: { authorization, accept: 'application/json' },
  });
  const accountPath = `/api/v2/accounts/${encodeURIComponent(accountId)}`;

  function recordingPath(ref: RecordingRef): string {
    if (!ref.callId) {
      throw new ProviderResponseError(
        `${http.who}: recording ${ref.providerRecordingId} has no call id, and Bandwidth can only address a recording through its call (/calls/{callId}/recordings/{recordingId}); take callId from the listing or the recordingAvailable callback`,
      );
    }
    return `${accountPath}/calls/${encodeURIComponent(ref.callId)}/recordings/${encodeURIComponent(ref.providerRecordingId)}`;
  }

  function describe(path: string, query?: RequestOptions['query']): string {
    return http.describe(http.url(path, query));
  }

  function toRecording(record: RecordingMetadata, knownCallId?: string): Recording {
    const status = toText(record.status);
    return {
      accountId: account.id,
      provider: 'bandwidth',
      providerRecordingId: record.recordingId,
      callId: toText(record.callId) ?? knownCallId,
      from: toText(record.from),
      to: toText(record.to),
      direction: toDirection(record.direction),
      startedAt: toUtcIso(record.startTime, account.timeZone),
      endedAt: toUtcIso(record.endTime, account.timeZone),
      durationSec: isoDurationSeconds(record.duration),
      format: toText(record.fileFormat)?.toLowerCase(),
      channels: toNumber(record.channels),
      readiness: readinessOf(status, record),
      providerStatus: status,
      // parentCallId, transferCallerId, transferTo, transcription and mediaUrl stay here only.
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
  function withId(
    item: Record<string, unknown>,
    index: number,
    query: RequestOptions['query'],
  ): item is RecordingMetadata {
    if (isMetadata(item)) return true;
    logger.warn('bandwidth listing item without a recordingId skipped', {
      account: account.id,
      provider: 'bandwidth',
      page: describe(`${accountPath}/recordings`, query),
      item: index,
      callId: toText(item.callId),
      startTime: toText(item.startTime),
    });
    return false;
  }

  /**
   * One listing request: a time slice from `minStartTime` (the position; the window's `since` at
   * first) of at most BANDWIDTH_LIST_CAP recordings. A full answer continues from its last start.
   */
  const listPage: ProviderAdapter['listPage'] = async (window, position) => {
    const bounds = windowBounds(window);
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    const minStartTime = position ?? iso(bounds.since);
    const query = { minStartTime, maxStartTime: iso(bounds.until) };
    const records = await fetchList(query);
    const seen = new Set<string>();
    const recordings: Recording[] = [];
    for (const [index, record] of records.entries()) {
      if (!withId(record, index, query) || seen.has(record.recordingId)) continue;
      seen.add(record.recordingId);
      const recording = toRecording(record);
      if (bounds.contains(recording.startedAt)) recordings.push(recording);
    }
    if (records.length < BANDWIDTH_LIST_CAP) return { recordings };
    return { recordings, next: nextMinStartTime(http, records, minStartTime) };
  };

  async function get(ref: RecordingRef): Promise<Recording> {
    const path = recordingPath(ref);
    const { status, json } = await http.getJson(path);
    if (status === 404) return goneRecording(account, ref);
    const record = bandwidthItems(http, json, http.url(path))
      .filter(isMetadata)
      .find((item) => item.recordingId === ref.providerRecordingId);
    if (!record) {
      throw new ProviderResponseError(
        `${http.who} answered ${describe(path)} with metadata for another recording: ${http.snippet(JSON.stringify(json))}`,
      );
    }
    return toRecording(record, ref.callId);
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
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      throw new WebhookParseError(
        `${http.who}: the Bandwidth callback is not JSON: ${http.snippet(request.body)}`,
      );
    }
    const events = Array.isArray(body) ? body : [body];
    return events.flatMap((event) => parseEvent(event));
  };

  function parseEvent(event: unknown): WebhookRecording[] {
    if (!isObject(event)) {
      throw new WebhookParseError(
        `${http.who}: the Bandwidth callback is not a JSON object: ${http.snippet(JSON.stringify(event) ?? '')}`,
      );
    }
    const fields = event;
    const eventType = toText(fields.eventType);
    if (!eventType) {
      throw new WebhookParseError(`${http.who}: the Bandwidth callback has no eventType`);
    }
    // answer, disconnect, dtmf, transcriptionAvailable… are not about a finished recording.
    // conferenceRecordingAvailable is, but conference recordings live under /conferences and
    // have no call id to address them by.
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
      throw new WebhookParseError(
        `${http.who}: the Bandwidth ${eventType} callback for recording ${recordingId} belongs to another Bandwidth account`,
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
          startedAt: toUtcIso(fields.startTime, account.timeZone),
          endedAt: toUtcIso(fields.endTime, account.timeZone),
          durationSec: isoDurationSeconds(fields.duration),
          format: toText(fields.fileFormat)?.toLowerCase(),
          channels: toNumber(fields.channels),
          providerStatus: status,
          // recordingComplete carries no status: its media follows with recordingAvailable.
          readiness:
            eventType === 'recordingComplete' ? 'pending' : readinessOf(status, { ...fields, recordingId }),
        }),
      },
    ];
  }

  return adapterFrom(account, http, {
    supportsDelete: true,
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

function isMetadata(item: Record<string, unknown>): item is RecordingMetadata {
  return typeof item.recordingId === 'string' && item.recordingId !== '';
}

function toDirection(value: unknown): Direction {
  return value === 'inbound' || value === 'outbound' ? value : 'unknown';
}
