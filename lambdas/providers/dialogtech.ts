import {
  ProviderAuthError,
  ProviderResponseError,
  ProviderUnavailableError,
  RecordingGoneError,
  RecordingNotReadyError,
  WebhookParseError,
} from '../core/errors.ts';
import type { AudioDownload, ProviderAdapter, WebhookRecording, WebhookRequest } from '../core/ports.ts';
import type { KnownRecording, Readiness, Recording, RecordingRef } from '../core/recording.ts';
import { toUtcIso } from '../core/time.ts';
import { type AdapterFactory, accountHttp, adapterFrom, windowBounds } from './adapter.ts';
import type { ProviderHttp, TextResponse } from './http.ts';
import { asArray, isObject, parseWebhookJson, parseXml, toNumber, toText } from './parse.ts';

const API_PATH = 'ibp_api.php';

/** The words DialogTech puts in `result_description` that change what a failure means. */
const PROCESSING = /being processed/i;
const NOT_FOUND = /file not found/i;
/** A 404 too, but the file is there: DialogTech failed to read or remove it, and may not next time. */
const FAILED_ON_FILE = /error in (retrieving|removing) recording/i;
const NO_RESULTS = /no results returned/i;
const BAD_KEY = /invalid api_key/i;

type Query = Record<string, string | number>;
type Item = Record<string, unknown>;

/** The `<response>` envelope every non-audio answer comes in. */
interface Envelope {
  result: string;
  description: string;
  data: unknown;
}

/** The envelope of an answer, or undefined when the body is not DialogTech's XML at all. */
function readEnvelope(text: string): Envelope | undefined {
  let document: Item;
  try {
    document = parseXml(text);
  } catch {
    return undefined;
  }
  const response = document.response;
  if (!isObject(response)) return undefined;
  const result = toText(response.result);
  if (result === undefined) return undefined;
  return {
    result: result.toLowerCase(),
    description: toText(response.result_description) ?? '',
    data: response.data,
  };
}

export const createDialogtechAdapter: AdapterFactory<'dialogtech'> = (account, options = {}) => {
  const { accessKey, secretAccessKey } = account.auth;
  const http = accountHttp(account, options);
  const logger = options.logger;

  // DialogTech authenticates by query-string keys, not headers: every request carries them.
  const apiQuery = (action: string, params: Query): Query => ({
    access_key: accessKey,
    secret_access_key: secretAccessKey,
    action,
    ...params,
  });

  const describe = (query: Query): string => http.describe(http.url(API_PATH, query));

  const unreadable = (response: TextResponse, query: Query): ProviderResponseError =>
    new ProviderResponseError(
      `${http.who} answered ${describe(query)} (HTTP ${response.status}) with a body that is not a DialogTech XML response: ${http.snippet(response.text)}`,
    );

  /** A failed envelope (also a 200 whose result is `failed`) that has no more specific meaning. */
  const refused = (response: TextResponse, envelope: Envelope, query: Query): Error => {
    const reason = http.redact(envelope.description || `result ${envelope.result}`);
    if (BAD_KEY.test(envelope.description)) {
      return new ProviderAuthError(
        `${http.who} was refused by the provider (HTTP ${response.status}, "${reason}") for ${describe(query)}: check the account's credentials`,
      );
    }
    return new ProviderResponseError(
      `${http.who} answered ${describe(query)} with HTTP ${response.status}: ${reason}`,
    );
  };

  /** One (type, id) list. DialogTech has no paging: the whole list comes in one answer. */
  async function listPair(pair: { type: string; id: string | number }): Promise<Item[]> {
    const query = apiQuery('recording.list', { type: pair.type, id: String(pair.id) });
    const response = await http.requestText(API_PATH, { query });
    const envelope = readEnvelope(response.text);
    if (!envelope) throw unreadable(response, query);
    // An empty list is a 404 "No results returned", not an error.
    if (response.status === 404 && envelope.result === 'failed' && NO_RESULTS.test(envelope.description)) {
      return [];
    }
    if (response.status !== 200 || envelope.result !== 'success') throw refused(response, envelope, query);
    // `<data/>` parses as "", a single `<recording>` as an object, several as an array.
    if (envelope.data === undefined || envelope.data === '') return [];
    if (!isObject(envelope.data)) throw unreadable(response, query);
    const items = asArray(envelope.data.recording as Item | Item[] | undefined);
    if (!items.every(isObject)) throw unreadable(response, query);
    return items.filter((item, index) => hasSid(item, index, pair));
  }

  /**
   * The sid names the recording and its download. A list entry without one cannot be fetched,
   * but failing the list for it would stop every later sweep of it: it is reported and the rest
   * of the list is listed.
   */
  function hasSid(item: Item, index: number, pair: { type: string; id: string | number }): boolean {
    if (toText(item.sid) !== undefined) return true;
    logger?.warn('dialogtech list entry without a sid skipped', {
      account: account.id,
      provider: 'dialogtech',
      list: `${pair.type} ${pair.id}`,
      item: index,
      date: toText(item.date),
    });
    return false;
  }

  /**
   * Finds a recording's list entry: there is no per-recording metadata endpoint. Only for a
   * recording nobody described (a bare `{recordingId}` callback): a sweep hands its entry over.
   */
  async function findInLists(sid: string): Promise<Item | undefined> {
    for (const pair of account.lists) {
      const found = (await listPair(pair)).find((item) => toText(item.sid) === sid);
      if (found) return found;
    }
    return undefined;
  }

  function toRecording(item: Item, readiness: Readiness, providerStatus?: string): Recording {
    // The sid stays a string: `0932654521723728` would lose its leading zero (and digits) as a number.
    const sid = toText(item.sid) ?? '';
    // `date` carries no zone: it is the account's local time.
    const startedAt = toUtcIso(item.date, account.timeZone);
    // `minutes` is decimal minutes (`5.3` = 318 s); rounding to ms drops float noise.
    const minutes = toNumber(item.minutes);
    const durationSec = minutes === undefined ? undefined : Math.round(minutes * 60_000) / 1000;
    const endedAt =
      startedAt !== undefined && durationSec !== undefined
        ? new Date(Date.parse(startedAt) + durationSec * 1000).toISOString()
        : undefined;
    return {
      accountId: account.id,
      provider: 'dialogtech',
      providerRecordingId: sid,
      // recording.download takes the call's SID: the recording has no id of its own.
      callId: sid,
      // `dnis` is the tracking number that was dialed; `number_connected` (where the call was
      // forwarded) is not the caller, so it stays in `raw` only. The caller is not listed.
      to: toText(item.dnis),
      // Call-tracking numbers receive calls.
      direction: 'inbound',
      startedAt,
      endedAt,
      durationSec,
      format: account.format,
      readiness,
      providerStatus,
      raw: item,
    };
  }

  /**
   * Maps the non-audio answers of recording.download before the transport's generic handling:
   * 202 "being processed" is not ready yet, a DialogTech 404 is gone, a 400 names its problem.
   * A 404 that is not DialogTech's XML (a wrong baseUrl) is not proof the recording is gone.
   */
  function audioAnswer(
    ref: RecordingRef,
    query: Query,
    answer: TextResponse,
    seen?: (envelope?: Envelope) => void,
  ) {
    const envelope = readEnvelope(answer.text);
    seen?.(envelope);
    const sid = ref.providerRecordingId;
    if (answer.status === 202 || (envelope && PROCESSING.test(envelope.description))) {
      throw new RecordingNotReadyError(
        `${http.who}: recording ${sid} is still being processed by DialogTech (HTTP ${answer.status})`,
      );
    }
    if (envelope?.result === 'failed' && FAILED_ON_FILE.test(envelope.description)) {
      throw new ProviderUnavailableError(
        `${http.who}: DialogTech could not read recording ${sid} (HTTP ${answer.status}: ${envelope.description}); trying again later`,
      );
    }
    if (envelope?.result === 'failed' && (answer.status === 404 || NOT_FOUND.test(envelope.description))) {
      throw new RecordingGoneError(
        `${http.who}: recording ${sid} is gone (HTTP ${answer.status}: ${envelope.description})`,
      );
    }
    if (envelope && answer.status !== 200) throw refused(answer, envelope, query);
    // Anything else (a 200 document instead of audio, a foreign 404) is left to the transport.
  }

  function openRecording(ref: RecordingRef, seen?: (envelope?: Envelope) => void): Promise<AudioDownload> {
    const query = apiQuery('recording.download', { sid: ref.providerRecordingId, format: account.format });
    return http.openAudio(API_PATH, { query, onStatus: (answer) => audioAnswer(ref, query, answer, seen) });
  }

  /** Closes a probe's audio unread (the transport then frees the connection). */
  function discard(download: AudioDownload): void {
    download.body.destroy();
  }

  /** Readiness by probing the download, the only per-recording request DialogTech has. */
  async function probe(
    ref: RecordingRef,
  ): Promise<{ readiness: Readiness; status: string; description?: string }> {
    let envelope: Envelope | undefined;
    try {
      discard(await openRecording(ref, (seen) => (envelope = seen)));
      return { readiness: 'ready', status: '200' };
    } catch (error) {
      if (error instanceof RecordingNotReadyError) {
        return { readiness: 'pending', status: '202', description: envelope?.description };
      }
      if (error instanceof RecordingGoneError) {
        return { readiness: 'gone', status: '404', description: envelope?.description };
      }
      throw error;
    }
  }

  /**
   * One (type, id) list per page, the position naming the list (`type=…&id=…`); no dates are
   * taken. A position naming a list the config no longer has (a redeploy changed `lists` mid-pass)
   * starts again from the first list: re-listing loses nothing, a saved index might skip lists or
   * fail every later sweep.
   */
  const listPage: ProviderAdapter['listPage'] = async (window, position) => {
    const bounds = windowBounds(window);
    const at =
      position === undefined ? 0 : account.lists.findIndex((pair) => listPosition(pair) === position);
    if (position !== undefined && at < 0) {
      logger?.warn('dialogtech listing position names no configured list', { account: account.id, position });
    }
    const index = Math.max(at, 0);
    const pair = account.lists[index] as (typeof account.lists)[number];
    // A recording can sit in several (type, id) lists; later pages may repeat it.
    const seen = new Set<string>();
    const recordings: Recording[] = [];
    for (const item of await listPair(pair)) {
      const recording = toRecording(item, 'ready');
      if (seen.has(recording.providerRecordingId)) continue;
      seen.add(recording.providerRecordingId);
      // The list takes no dates: the window is applied here.
      if (recording.startedAt === undefined) {
        // No window can place it; skipping would mean never archiving it.
        logger?.warn('dialogtech recording without a readable date', {
          account: account.id,
          sid: recording.providerRecordingId,
          date: toText(item.date),
        });
      } else if (!bounds.contains(recording.startedAt)) {
        continue;
      }
      recordings.push(recording);
    }
    const next = account.lists[index + 1];
    return next === undefined ? { recordings } : { recordings, next: listPosition(next) };
  };

  return adapterFrom(account, http, {
    canDelete: () => true,
    windowedListing: false,
    listPage,

    async get(ref: RecordingRef, known?: KnownRecording): Promise<Recording> {
      // The probe is the one request a check needs; the listing's metadata came with the sweep.
      const state = await probe(ref);
      // What the probe alone tells of the recording.
      const probed = {
        accountId: account.id,
        provider: 'dialogtech',
        providerRecordingId: ref.providerRecordingId,
        callId: ref.callId ?? ref.providerRecordingId,
        direction: 'inbound',
        format: account.format,
        readiness: state.readiness,
        providerStatus: state.status,
      } as const;
      if (known?.startedAt !== undefined) {
        return { ...known, ...probed, raw: known.raw ?? { sid: ref.providerRecordingId } };
      }
      // Not described: the lists are read once, when the audio is there to archive.
      const item = state.readiness === 'ready' ? await findInLists(ref.providerRecordingId) : undefined;
      if (item) return toRecording(item, state.readiness, state.status);
      return {
        ...probed,
        raw: { sid: ref.providerRecordingId, status: state.status, description: state.description },
      };
    },

    download(ref) {
      return openRecording(ref);
    },

    async delete(ref) {
      const query = apiQuery('recording.remove', { delete_now: 1, sid: ref.providerRecordingId });
      const response = await http.requestText(API_PATH, { query });
      if (response.status === 202) {
        throw new RecordingNotReadyError(
          `${http.who}: recording ${ref.providerRecordingId} is still being processed and cannot be removed yet`,
        );
      }
      const envelope = readEnvelope(response.text);
      if (!envelope) throw unreadable(response, query);
      if (response.status === 200 && envelope.result === 'success') {
        return { status: response.status, alreadyGone: false };
      }
      // "Error in removing recording" is a removal that failed, not a file already gone.
      if (envelope.result === 'failed' && FAILED_ON_FILE.test(envelope.description)) {
        throw new ProviderUnavailableError(
          `${http.who}: DialogTech could not remove recording ${ref.providerRecordingId} (HTTP ${response.status}: ${envelope.description}); trying again later`,
        );
      }
      // "File not found": already gone, which is what we wanted.
      if (envelope.result === 'failed' && (response.status === 404 || NOT_FOUND.test(envelope.description))) {
        return { status: response.status, alreadyGone: true };
      }
      throw refused(response, envelope, query);
    },

    /**
     * DialogTech documents no recording callback. What it can send is a post-call webhook
     * (form-encoded or JSON) carrying the call's `sid` (or `call_sid`); that call's recording is
     * then fetched through the API like any other.
     */
    parseWebhook(request) {
      return webhookCalls(http, request).flatMap((call): WebhookRecording[] => {
        // A post-call body that says the call was not recorded has nothing to archive.
        const recorded = toText(call.recorded ?? call.recording);
        if (recorded !== undefined && /^(0|false|no)$/i.test(recorded)) return [];
        const sid = toText(call.sid ?? call.call_sid);
        if (sid === undefined) {
          throw new WebhookParseError(`${http.who}: the webhook body has no "sid" (or "call_sid") field`);
        }
        const known = toRecording(call, 'ready');
        const hints: WebhookRecording['hints'] = { direction: 'inbound', format: account.format };
        if (known.to !== undefined) hints.to = known.to;
        if (known.startedAt !== undefined) hints.startedAt = known.startedAt;
        if (known.endedAt !== undefined) hints.endedAt = known.endedAt;
        if (known.durationSec !== undefined) hints.durationSec = known.durationSec;
        return [
          { accountId: account.id, provider: 'dialogtech', providerRecordingId: sid, callId: sid, hints },
        ];
      });
    },
  });
};

/** The calls of a post-call webhook body: form fields, or a JSON object or list of them. */
export function webhookCalls(http: ProviderHttp, request: WebhookRequest): Item[] {
  const body = request.body.trim();
  if (body === '') throw new WebhookParseError(`${http.who}: the webhook body is empty`);
  const contentType = request.headers['content-type'];
  if (!/json/i.test(contentType ?? '') && !body.startsWith('{') && !body.startsWith('[')) {
    return [Object.fromEntries(new URLSearchParams(body))];
  }
  const parsed = parseWebhookJson(body, {
    who: http.who,
    problem: 'the webhook body is not valid JSON',
    contentType,
    expected: 'form fields, or a JSON object or a list of them',
  });
  const calls = asArray(parsed as Item | Item[]);
  if (calls.length === 0 || !calls.every(isObject)) {
    throw new WebhookParseError(`${http.who}: the JSON webhook body is not an object (or a list of them)`);
  }
  return calls;
}

/** A list's listing position: `type=call&id=42`. */
function listPosition(pair: { type: string; id: string | number }): string {
  return new URLSearchParams({ type: pair.type, id: String(pair.id) }).toString();
}
