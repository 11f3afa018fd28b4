/**
 * VoIPBin adapter. API reference: https://api.voipbin.net/docs/recording.html
 *
 * Quirks handled here:
 * - Auth is an access key or a JWT. An access key travels as `?accesskey=` (the only form the API
 *   takes it in; every URL in a message is redacted); a token, which the tutorial puts in
 *   `?token=`, goes in `Authorization: Bearer <token>`, which keeps it out of URLs.
 * - Listing is cursor paging, newest first: `next_page_token` is the `tm_create` of the page's
 *   last item, the last real page still carries a token, and the end is an empty `result`
 *   (Go encodes an empty list as `null`). A token that does not move is treated as the end.
 * - Timestamps are zone-less `YYYY-MM-DD HH:MM:SS.ffffff` (read in the account's zone); "not set"
 *   is `""`, null or the `9999-01-01 00:00:00.000000` sentinel. A real `tm_delete` means the
 *   recording was (soft-)deleted: it is gone even though the API still returns it.
 * - Status `ended` is the only state with a file; initiating/recording/stopping are pending.
 * - `GET /recordingfiles/{id}` redirects to storage and may hand a ZIP instead of a WAV: the
 *   content type is passed through untouched.
 * - No from/to/direction on a recording; the call is `reference_id` when `reference_type` is `call`.
 */

import {
  ProviderResponseError,
  RecordingGoneError,
  RecordingNotReadyError,
  WebhookParseError,
} from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import type { ListPage, ListWindow, WebhookRecording } from '../core/ports.ts';
import { definedOnly, type Readiness, type Recording, type RecordingRef } from '../core/recording.ts';
import { toUtcIso } from '../core/time.ts';
import {
  type AdapterFactory,
  accountHttp,
  adapterFrom,
  goneRecording,
  listPages,
  sameRecording,
  windowBounds,
} from './adapter.ts';
import { isObject, parseWebhookJson, toText } from './parse.ts';

const PROVIDER = 'voipbin';
const RECORDINGS_PATH = '/v1.0/recordings';
const DEFAULT_PAGE_SIZE = 100;
/**
 * Pages are ordered by `tm_create` but the window is on the start time. A recording starts a few
 * seconds after it is created, so a page created more than this before `since` cannot hold
 * anything that started inside the window, and neither can any older page.
 */
const CREATE_TO_START_SLACK_MS = 60 * 60 * 1000;

/** VoIPBin's status words: only `ended` has a downloadable file. */
const PENDING_STATUSES = new Set(['initiating', 'recording', 'stopping']);

type VoipbinRecord = Record<string, unknown> & { id: string };

export const createVoipbinAdapter: AdapterFactory<'voipbin'> = (account, options = {}) => {
  const logger = options.logger ?? silentLogger;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const auth = account.auth;
  /** Added to every request's query: the access key, when that is the credential. */
  const authQuery = 'accesskey' in auth ? { accesskey: auth.accesskey } : {};
  const http = accountHttp(account, options, {
    headers: {
      ...('token' in auth ? { authorization: `Bearer ${auth.token}` } : {}),
      accept: 'application/json',
    },
  });

  /** A VoIPBin timestamp as UTC ISO, or undefined for the "not set" markers. */
  function time(value: unknown): string | undefined {
    const text = toText(value);
    if (text === undefined || isUnsetSentinel(text)) return undefined;
    return toUtcIso(text, account.timeZone);
  }

  function isDeleted(record: Record<string, unknown>): boolean {
    const text = toText(record.tm_delete);
    // Any real value counts, even one we cannot parse: only the empty markers mean "not deleted".
    return text !== undefined && !isUnsetSentinel(text);
  }

  function readinessOf(record: Record<string, unknown>, status: string | undefined): Readiness {
    if (isDeleted(record)) return 'gone';
    if (status === 'ended') return 'ready';
    if (status !== undefined && !PENDING_STATUSES.has(status)) {
      logger.warn('voipbin recording has an unknown status; treating it as pending', {
        account: account.id,
        provider: PROVIDER,
        status,
      });
    }
    return 'pending';
  }

  function normalize(record: VoipbinRecord): Recording {
    const status = toText(record.status);
    const tmStart = time(record.tm_start);
    const startedAt = tmStart ?? time(record.tm_create);
    const endedAt = time(record.tm_end);
    const durationMs = tmStart && endedAt ? Date.parse(endedAt) - Date.parse(tmStart) : undefined;
    return {
      accountId: account.id,
      provider: PROVIDER,
      providerRecordingId: record.id,
      // A confbridge recording belongs to a conference, not a call: its reference stays in raw.
      callId: toText(record.reference_type) === 'call' ? toText(record.reference_id) : undefined,
      // VoIPBin recordings carry no parties and no direction.
      from: undefined,
      to: undefined,
      direction: 'unknown',
      startedAt,
      endedAt,
      durationSec: durationMs !== undefined && durationMs >= 0 ? durationMs / 1000 : undefined,
      format: toText(record.format)?.toLowerCase(),
      readiness: readinessOf(record, status),
      providerStatus: status,
      raw: record,
    };
  }

  function responseError(url: URL, problem: string, body: unknown): ProviderResponseError {
    return new ProviderResponseError(
      `${http.who} answered ${http.describe(url)} with ${problem}: ${http.snippet(JSON.stringify(body) ?? '')}`,
    );
  }

  function asRecord(value: unknown, url: URL): VoipbinRecord {
    if (!isObject(value) || typeof value.id !== 'string' || value.id === '') {
      throw responseError(url, 'a recording without an "id"', value);
    }
    return value as VoipbinRecord;
  }

  /**
   * `{"result": [...], "next_page_token": "..."}`; a bare array is tolerated as a last page.
   * Every item is returned, those without an id too: their `tm_create` still places the page.
   */
  function parsePage(json: unknown, url: URL): { items: Record<string, unknown>[]; nextToken?: string } {
    const objects = (items: unknown[]) => {
      if (!items.every(isObject)) throw responseError(url, 'a list item that is not a recording', json);
      return items;
    };
    if (Array.isArray(json)) return { items: objects(json) };
    if (!isObject(json)) throw responseError(url, 'a body that is not a recording list', json);
    const result = json.result ?? [];
    if (!Array.isArray(result)) throw responseError(url, 'a "result" that is not a list', json);
    return { items: objects(result), nextToken: toText(json.next_page_token) };
  }

  /**
   * `id` is optional in VoIPBin's schema. An item without one cannot be fetched, but failing the
   * page for it would stop every later sweep there: it is reported and the rest is listed.
   */
  function hasId(record: Record<string, unknown>, index: number, url: URL): record is VoipbinRecord {
    if (typeof record.id === 'string' && record.id !== '') return true;
    logger.warn('voipbin listing item without an id skipped', {
      account: account.id,
      provider: PROVIDER,
      page: http.describe(url),
      item: index,
      referenceId: toText(record.reference_id),
      tmCreate: toText(record.tm_create),
    });
    return false;
  }

  function recordingPath(id: string): string {
    return `${RECORDINGS_PATH}/${encodeURIComponent(id)}`;
  }

  /** One page; the position is the page token the page before handed out. */
  async function listPage(window: ListWindow, position?: string): Promise<ListPage> {
    const bounds = windowBounds(window);
    const token = position;
    const query = { ...authQuery, page_size: pageSize, page_token: token };
    const url = http.url(RECORDINGS_PATH, query);
    const { status, json } = await http.getJson(RECORDINGS_PATH, { query });
    if (status === 404) throw responseError(url, 'HTTP 404 for the recording list', json);
    const page = parsePage(json, url);
    if (page.items.length === 0) return { recordings: [] };

    let oldestCreated = Number.POSITIVE_INFINITY;
    let everyItemDated = true;
    const seen = new Set<string>();
    const recordings: Recording[] = [];
    for (const [index, record] of page.items.entries()) {
      const created = time(record.tm_create);
      if (created) oldestCreated = Math.min(oldestCreated, Date.parse(created));
      else everyItemDated = false;
      if (!hasId(record, index, url) || seen.has(record.id)) continue;
      seen.add(record.id);
      const recording = normalize(record);
      if (bounds.contains(recording.startedAt)) recordings.push(recording);
    }

    if (
      bounds.since !== undefined &&
      everyItemDated &&
      oldestCreated < bounds.since - CREATE_TO_START_SLACK_MS
    )
      return { recordings };
    const next = page.nextToken;
    if (next === undefined) return { recordings };
    if (next === token) {
      // Many recordings sharing one tm_create can fill a page: the cursor cannot move past them.
      stalled(next);
      return { recordings };
    }
    return { recordings, next };
  }

  function stalled(pageToken: string): void {
    logger.warn('voipbin next_page_token did not move; stopping the listing', {
      account: account.id,
      provider: PROVIDER,
      pageToken,
    });
  }

  /** Every page; a token handed out twice ends the listing (with a warning) rather than looping. */
  async function* list(window: ListWindow): AsyncGenerator<Recording> {
    const ended = new Error('voipbin token repeated');
    try {
      yield* listPages(listPage, window, (token) => {
        stalled(token);
        return ended;
      });
    } catch (error) {
      if (error !== ended) throw error;
    }
  }

  async function get(ref: RecordingRef): Promise<Recording> {
    const path = recordingPath(ref.providerRecordingId);
    const { status, json } = await http.getJson(path, { query: authQuery });
    if (status === 404) return goneRecording(account, ref);
    // Some gateway versions wrap a single resource as `{"result": {...}}`.
    const body = isObject(json) && isObject(json.result) ? json.result : json;
    const url = http.url(path, authQuery);
    return sameRecording(http, ref, normalize(asRecord(body, url)), url);
  }

  return adapterFrom(account, http, {
    canDelete: () => true,
    windowedListing: true,
    listPage,
    list,
    get,

    async download(ref) {
      // The file exists only once the recording has `ended`; asking earlier gets no audio.
      const recording = await get(ref);
      if (recording.readiness === 'gone') {
        throw new RecordingGoneError(`${http.who}: recording ${ref.providerRecordingId} was deleted`);
      }
      if (recording.readiness === 'pending') {
        throw new RecordingNotReadyError(
          `${http.who}: recording ${ref.providerRecordingId} is "${recording.providerStatus ?? 'unknown'}", not "ended" yet`,
        );
      }
      const path = `/v1.0/recordingfiles/${encodeURIComponent(ref.providerRecordingId)}`;
      return http.openAudio(path, {
        query: authQuery,
        onStatus: (response) => {
          // The recording was just read as ended and not deleted: a missing file is one the
          // storage has not caught up with ("the file may not be ready"), so it is asked again
          // later, within the readiness deadline, rather than skipped as gone.
          if (response.status === 404) {
            throw new RecordingNotReadyError(
              `${http.who}: recording ${ref.providerRecordingId} has ended but its file is not there yet (HTTP 404)`,
            );
          }
        },
      });
    },

    async delete(ref) {
      const path = recordingPath(ref.providerRecordingId);
      const response = await http.requestText(path, { method: 'DELETE', query: authQuery });
      if (response.status === 404) return { status: 404, alreadyGone: true };
      http.expectOk(response, path, authQuery);
      return { status: response.status, alreadyGone: false };
    },

    parseWebhook(request) {
      // Not V8's message: it quotes the body (`Unexpected token 'o', "token=abc12"...`).
      const body = parseWebhookJson(request.body, {
        who: http.who,
        problem: 'the webhook body is not JSON',
        contentType: request.headers['content-type'],
        expected: 'a JSON event object or a list of them',
      });
      const events = Array.isArray(body) ? body : [body];
      const recordings: WebhookRecording[] = [];
      for (const event of events) {
        if (!isObject(event) || typeof event.type !== 'string') {
          throw new WebhookParseError(`${http.who}: a webhook event has no "type"`);
        }
        // recording_started, call_hangup…: only a finished recording has something to archive.
        if (event.type !== 'recording_finished') continue;
        const data = event.data;
        if (!isObject(data) || typeof data.id !== 'string' || data.id === '') {
          throw new WebhookParseError(`${http.who}: a recording_finished event has no "data.id"`);
        }
        const {
          accountId,
          provider,
          providerRecordingId,
          callId,
          raw: _raw,
          ...hints
        } = normalize(data as VoipbinRecord);
        recordings.push({ accountId, provider, providerRecordingId, callId, hints: definedOnly(hints) });
      }
      return recordings;
    },
  });
};

/** `9999-01-01 00:00:00.000000` (and Go's zero time) stand for "not set" in VoIPBin's database. */
function isUnsetSentinel(text: string): boolean {
  return text.startsWith('9999-') || text.startsWith('0001-01-01');
}
