/**
 * Restcomm (Telestax CPaaS) recordings, under the account's context path (`…/restcomm`):
 * `GET 2012-04-24/Accounts/{AccountSid}/Recordings.json` lists them (Basic auth AccountSid:AuthToken),
 * `GET|DELETE …/Recordings/{sid}` reads or removes one, and `…/Recordings/{sid}.wav` is the audio,
 * public by design. Recordings have no status: a recording the API lists is finished.
 */
import { XMLParser } from 'fast-xml-parser';
import { ProviderResponseError, WebhookParseError } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import type { ProviderAdapter, WebhookRecording } from '../core/ports.ts';
import type { Direction, Recording, RecordingRef } from '../core/recording.ts';
import { toUtcIso } from '../core/time.ts';
import {
  type AdapterFactory,
  accountHttp,
  adapterFrom,
  goneRecording,
  openAudioOrAskRecording,
  sameRecording,
  windowBounds,
} from './adapter.ts';
import { basicAuth, type ProviderHttp, type TextResponse } from './http.ts';
import {
  asArray,
  asObject,
  describeBody,
  jsonKind,
  looksLikeXml,
  parseWebhookJson,
  toNumber,
  toText,
} from './parse.ts';

const API_VERSION = '2012-04-24';
const DEFAULT_PAGE_SIZE = 100;
/**
 * Restcomm lists at most `Limit` of the matching recordings, however they are paged: 10,000
 * unless asked (the answer's `limit`). The doc gives no maximum, so callvault does not ask.
 */
export const RESTCOMM_LIST_LIMIT = 10_000;

/**
 * Where the next listing unit starts: a new listing from `from` (a second, UTC, inclusive) at
 * `page` of it, leaving out `listed`, the recordings of that second an earlier unit handed over.
 */
interface ListingPosition {
  from?: string;
  page: number;
  listed: string[];
}

/** One recording in the JSON field names (`sid`, `date_created`, `call_sid`, …), and as received. */
export interface RestcommEntry {
  fields: Record<string, unknown>;
  raw: unknown;
}

/** A listing page as Restcomm answered it, before the window and the paging are applied. */
export interface RestcommListPage {
  recordings: RestcommEntry[];
  nextPageUri: unknown;
  /** The answer's `limit`: how many recordings the whole listing holds at most. */
  limit: number;
}

/**
 * Restcomm's XML puts the paging links in attributes (`<Recordings nextpageuri="…">`), which the
 * shared parser drops, so this file keeps its own.
 */
const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

export const createRestcommAdapter: AdapterFactory<'restcomm'> = (account, options = {}) => {
  const { accountSid, authToken } = account.auth;
  const authorization = basicAuth(accountSid, authToken);
  // No default headers: the audio URLs are public, so credentials go only with API calls below.
  const http = accountHttp(account, options, { secrets: [authorization.slice('Basic '.length)] });
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const logger = options.logger ?? silentLogger;
  const accountPath = `${API_VERSION}/Accounts/${encodeURIComponent(accountSid)}`;
  const recordingPath = (sid: string) => `${accountPath}/Recordings/${encodeURIComponent(sid)}`;

  /** An authenticated API call; every path is resolved under the configured base, never elsewhere. */
  function api(url: URL, method: 'GET' | 'DELETE' = 'GET'): Promise<TextResponse> {
    return http.requestText(url.toString(), {
      method,
      headers: { authorization, accept: 'application/json' },
    });
  }

  function toRecording({ fields, raw }: RestcommEntry): Recording {
    return {
      accountId: account.id,
      provider: 'restcomm',
      providerRecordingId: toText(fields.sid) as string,
      callId: toText(fields.call_sid),
      // Recordings carry no parties or direction; only the Record callback has them.
      direction: 'unknown',
      // RFC 2822 with the server's own offset (`Mon, 6 Jan 2014 08:51:07 +0900`). It is the only
      // timestamp and the one StartTime/EndTime filter on, so windows agree with the server's.
      startedAt: toUtcIso(fields.date_created, account.timeZone),
      // A string of fractional seconds: "14.70275".
      durationSec: toNumber(fields.duration),
      // The audio is always fetched as `{sid}.wav`.
      format: 'wav',
      readiness: 'ready',
      raw,
    };
  }

  /**
   * One listing unit: one page of a new listing from the position's second (the window's start
   * at first), oldest first. Restcomm pages by offset (`Page`, zero-indexed), so recordings
   * deleted between units (delete-at-source removes the oldest) would shift later ones onto pages
   * already read, or leave a checkpointed `Page` past the end, which is a 400 for good. A listing
   * from the second of the last recording listed is moved by no deletion of older ones; the ones
   * of that second listed already are left out. next_page_uri only says "there is more".
   */
  const listPage: ProviderAdapter['listPage'] = async (window, position) => {
    const bounds = windowBounds(window);
    const { since, until } = bounds;
    const at = readPosition(position);
    // Both bounds are inclusive, whole seconds, UTC; the exact window is applied below.
    const from = at.from ?? (since === undefined ? undefined : restcommTime(since));
    const url = http.url(`${accountPath}/Recordings.json`, {
      PageSize: pageSize,
      SortBy: 'DateCreated:asc',
      StartTime: from,
      EndTime: until === undefined ? undefined : restcommTime(Math.ceil(until / 1000) * 1000),
      Page: at.page,
    });
    const response = await api(url);
    http.expectOk(response, url.href);
    const page = parseListPage(http, response, url);
    const listed = new Set(at.listed);
    const recordings: Recording[] = [];
    for (const [index, entry] of page.recordings.entries()) {
      if (!hasSid(entry, index, url)) continue;
      const recording = toRecording(entry);
      if (listed.has(recording.providerRecordingId)) continue;
      listed.add(recording.providerRecordingId);
      if (bounds.contains(recording.startedAt)) recordings.push(recording);
    }
    const next = nextPosition(page, at, from, url);
    return next === undefined ? { recordings } : { recordings, next };
  };

  /**
   * Where the listing goes on after a page, or undefined at its end. There is more when Restcomm
   * says so (a next_page_uri), when the page is full, or when the listing stopped at its limit.
   * It goes on from the page's last second; a page all of one second goes on to the next page
   * of the same listing, which only recordings of that second deleted meanwhile could shift.
   */
  function nextPosition(page: RestcommListPage, at: ListingPosition, from: string | undefined, url: URL) {
    const count = page.recordings.length;
    const atLimit = at.page * pageSize + count >= page.limit;
    if (count === 0 || !(toText(page.nextPageUri) || count >= pageSize || atLimit)) return undefined;
    const dated = page.recordings.flatMap((entry) => {
      const created = toUtcIso(entry.fields.date_created, account.timeZone);
      return created ? [{ second: restcommTime(Date.parse(created)), sid: toText(entry.fields.sid) }] : [];
    });
    const last = dated.at(-1)?.second;
    if (last === undefined) {
      throw new ProviderResponseError(
        `${http.who}: a listing page with more to come (${http.describe(url)}) has no recording with a date_created, so the listing cannot go on past it`,
      );
    }
    // A listing from `from` cannot end before it: the answer is not oldest first as asked.
    if (from !== undefined && last < from) {
      throw new ProviderResponseError(
        `${http.who}: a listing from ${from} (${http.describe(url)}) ends at ${last}: the recordings are not sorted oldest first, so the listing cannot advance safely`,
      );
    }
    const listed = dated.flatMap((entry) => (entry.second === last && entry.sid ? [entry.sid] : []));
    if (last !== from) return writePosition({ from: last, page: 0, listed });
    if (atLimit) {
      throw new ProviderResponseError(
        `${http.who}: a listing from ${from} reached its limit of ${page.limit} recordings and ends at ${last}, so it cannot advance: more than ${page.limit} recordings share that second`,
      );
    }
    return count < pageSize ? undefined : writePosition({ from, page: at.page + 1, listed });
  }

  function readPosition(position: string | undefined): ListingPosition {
    if (position === undefined) return { page: 0, listed: [] };
    // A checkpoint of callvault 0.1 is the next page's URL: its offset cannot be trusted, so the
    // listing starts again from its StartTime (what was handed over already is found archived).
    if (/^https?:\/\//.test(position)) {
      const from = URL.canParse(position) ? new URL(position).searchParams.get('StartTime') : null;
      return { ...(from && RESTCOMM_SECOND.test(from) ? { from } : {}), page: 0, listed: [] };
    }
    const params = new URLSearchParams(position);
    const from = params.get('from') ?? undefined;
    const page = Number(params.get('page'));
    if ((from !== undefined && !RESTCOMM_SECOND.test(from)) || !Number.isInteger(page) || page < 0) {
      throw new ProviderResponseError(
        `${http.who}: listing position ${JSON.stringify(position)} is not one this adapter writes`,
      );
    }
    return { ...(from ? { from } : {}), page, listed: params.getAll('listed') };
  }

  /**
   * A recording's sid is its identity and its download path. One listed without it cannot be
   * fetched, but failing the page for it would stop every later sweep there: it is reported and
   * the rest of the page is listed.
   */
  function hasSid({ fields }: RestcommEntry, index: number, url: URL): boolean {
    if (toText(fields.sid)) return true;
    logger.warn('restcomm listing recording without a sid skipped', {
      account: account.id,
      provider: 'restcomm',
      page: http.describe(url),
      item: index,
      callSid: toText(fields.call_sid),
      dateCreated: toText(fields.date_created),
    });
    return false;
  }

  async function get(ref: RecordingRef): Promise<Recording> {
    const url = http.url(`${recordingPath(ref.providerRecordingId)}.json`);
    const response = await api(url);
    if (response.status === 404) return { ...goneRecording(account, ref), providerStatus: '404' };
    http.expectOk(response, url.href);
    return sameRecording(http, ref, toRecording(parseRecording(http, response, url)), url);
  }

  const download: ProviderAdapter['download'] = async (ref) => {
    // Built from the base, never from file_uri (which names internal hosts such as
    // instance1.restcomm.com or `\https://$DOMAIN`). Restcomm redirects it to the file itself.
    // A 404 there is a deleted recording or a file the media server has not finished writing.
    const path = `${recordingPath(ref.providerRecordingId)}.wav`;
    return openAudioOrAskRecording(http, path, {}, () => get(ref), {
      gone: () => `${http.who}: recording ${ref.providerRecordingId} no longer exists`,
      notReady: () =>
        `${http.who}: recording ${ref.providerRecordingId} is listed but its audio file is not there yet`,
    });
  };

  const remove: ProviderAdapter['delete'] = async (ref) => {
    const url = http.url(recordingPath(ref.providerRecordingId));
    const response = await api(url, 'DELETE');
    if (response.status === 404) return { status: 404, alreadyGone: true };
    http.expectOk(response, url.href);
    return { status: response.status, alreadyGone: false };
  };

  const parseWebhook: ProviderAdapter['parseWebhook'] = (request) => {
    return webhookFields(http, request.body, request.headers['content-type'] ?? '').flatMap((fields) =>
      webhookRecording(fields),
    );
  };

  /** The RCML `<Record action>` / `<Dial record>` callback: RecordingUrl names the new recording. */
  function webhookRecording(fields: Record<string, string>): WebhookRecording[] {
    const recordingUrl = toText(fields.RecordingUrl ?? fields.PublicRecordingUrl);
    if (!recordingUrl) {
      // Nothing was recorded (silence, a failed <Dial>) or a plain call-status callback.
      const aboutACall = 'RecordingDuration' in fields || 'RecordingUrl' in fields || 'CallStatus' in fields;
      if (aboutACall) return [];
      throw new WebhookParseError(`${http.who}: the callback has no RecordingUrl and is not a call event`);
    }
    const sid = recordingSidFromUrl(http, recordingUrl);
    const durationSec = toNumber(fields.RecordingDuration);
    return [
      {
        accountId: account.id,
        provider: 'restcomm',
        providerRecordingId: sid,
        callId: toText(fields.CallSid),
        hints: {
          from: toText(fields.From),
          to: toText(fields.To),
          direction: toDirection(fields.Direction),
          durationSec,
          format: 'wav',
          providerStatus: toText(fields.CallStatus),
        },
      },
    ];
  }

  return adapterFrom(account, http, {
    canDelete: () => true,
    windowedListing: true,
    listPage,
    get,
    download,
    delete: remove,
    parseWebhook,
  });
};

function writePosition({ from, page, listed }: ListingPosition): string {
  const params = new URLSearchParams(from === undefined ? {} : { from });
  params.set('page', String(page));
  for (const sid of listed) params.append('listed', sid);
  return params.toString();
}

/** `2018-10-05T22:45:32`, UTC, as StartTime/EndTime expect: the second `ms` falls in. */
function restcommTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

const RESTCOMM_SECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

/** Callbacks say `inbound`, `outbound-api` or `outbound-dial`. */
function toDirection(value: string | undefined): Direction {
  const text = value?.toLowerCase() ?? '';
  if (text === 'inbound') return 'inbound';
  if (text.startsWith('outbound')) return 'outbound';
  return 'unknown';
}

function shapeError(http: ProviderHttp, url: URL, what: string, text: string): ProviderResponseError {
  return new ProviderResponseError(
    `${http.who} answered ${http.describe(url)} with ${what}: ${http.snippet(text)}`,
  );
}

/** Asked for JSON, but a path without `.json` (some next_page_uri values) answers XML. */
function parseDocument(
  http: ProviderHttp,
  response: TextResponse,
  url: URL,
): { xml: boolean; document: unknown } {
  if (/xml/i.test(response.contentType) || looksLikeXml(response.text)) {
    try {
      return { xml: true, document: xmlParser.parse(response.text, true) };
    } catch {
      throw shapeError(http, url, 'a body that is not well-formed XML', response.text);
    }
  }
  return { xml: false, document: http.parseJson(response.text, url) };
}

/** A listing page in XML or JSON; the adapter skips a recording without a sid. */
export function parseListPage(http: ProviderHttp, response: TextResponse, url: URL): RestcommListPage {
  const { xml, document } = parseDocument(http, response, url);
  if (xml) {
    const root = asObject(asObject(document)?.RestcommResponse);
    if (!root || !('Recordings' in root))
      throw shapeError(http, url, 'XML without <Recordings>', response.text);
    // An empty `<Recordings/>` parses as "", one recording as an object, several as an array.
    const list = asObject(root.Recordings) ?? {};
    return {
      recordings: asArray(list.Recording as unknown[] | undefined).map((entry) =>
        fromXml(http, entry, url, response.text),
      ),
      nextPageUri: list['@_nextpageuri'],
      limit: listLimit(list['@_limit']),
    };
  }
  // The deprecated per-call listing answers a bare array; the account listing an object.
  if (Array.isArray(document)) {
    return {
      recordings: document.map((entry) => fromJson(http, entry, url, response.text)),
      nextPageUri: null,
      limit: Number.POSITIVE_INFINITY,
    };
  }
  const body = asObject(document);
  if (!body || !('recordings' in body)) {
    throw shapeError(http, url, 'JSON without a "recordings" list', response.text);
  }
  return {
    recordings: asArray(body.recordings as unknown[]).map((entry) =>
      fromJson(http, entry, url, response.text),
    ),
    nextPageUri: body.next_page_uri,
    limit: listLimit(body.limit),
  };
}

/** The answer's `limit`, or Restcomm's default when it sends none a number can be read from. */
function listLimit(value: unknown): number {
  const limit = toNumber(value);
  return limit !== undefined && Number.isInteger(limit) && limit > 0 ? limit : RESTCOMM_LIST_LIMIT;
}

function fromJson(http: ProviderHttp, entry: unknown, url: URL, text: string): RestcommEntry {
  const fields = asObject(entry);
  if (!fields) throw shapeError(http, url, 'a recording that is not an object', text);
  return { fields, raw: entry };
}

/** `<Sid>`, `<DateCreated>`, `<FileUri>` → `sid`, `date_created`, `file_uri`. */
function fromXml(http: ProviderHttp, entry: unknown, url: URL, text: string): RestcommEntry {
  // An empty `<Recording/>` parses as "": an element without fields (so without a sid).
  const element = entry === '' ? {} : asObject(entry);
  if (!element) throw shapeError(http, url, 'a <Recording> that is not an element', text);
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(element)) {
    fields[key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()] = value;
  }
  return { fields, raw: entry };
}

/** One recording's resource, in XML or JSON (from a bare array, its first element); it must carry a sid. */
export function parseRecording(http: ProviderHttp, response: TextResponse, url: URL): RestcommEntry {
  const { xml, document } = parseDocument(http, response, url);
  const entry = xml
    ? fromXml(http, asObject(asObject(document)?.RestcommResponse)?.Recording, url, response.text)
    : fromJson(http, Array.isArray(document) ? document[0] : document, url, response.text);
  if (!toText(entry.fields.sid)) {
    throw shapeError(
      http,
      url,
      xml ? 'a <Recording> without a <Sid>' : 'a recording without a "sid"',
      response.text,
    );
  }
  return entry;
}

/**
 * The sid is the file name in RecordingUrl, whatever host it names (Restcomm's public
 * recordings URI or an S3 URL); that host is never contacted.
 */
export function recordingSidFromUrl(http: ProviderHttp, recordingUrl: string): string {
  // The URL is the sender's text (a presigned one holds a signature): messages give its length only.
  const length = `${recordingUrl.length} characters`;
  let pathname: string;
  try {
    pathname = new URL(recordingUrl.replace(/^\\+/, ''), 'http://relative.invalid').pathname;
  } catch {
    throw new WebhookParseError(`${http.who}: RecordingUrl is not a URL (${length})`);
  }
  let file: string;
  try {
    file = decodeURIComponent(pathname.split('/').pop() ?? '');
  } catch {
    throw new WebhookParseError(
      `${http.who}: RecordingUrl ends in a malformed %-escape (${length}; expected …/<recording sid>.wav)`,
    );
  }
  const sid = file.replace(/\.(wav|mp3)$/i, '');
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(sid)) {
    throw new WebhookParseError(
      `${http.who}: RecordingUrl does not end in a recording sid (${length}; expected …/<recording sid>.wav, the sid letters, digits, "_" or "-")`,
    );
  }
  return sid;
}

/** Restcomm posts form fields; the same fields as JSON are accepted too. */
export function webhookFields(
  http: ProviderHttp,
  body: string,
  contentType: string,
): Array<Record<string, string>> {
  const text = body.trim();
  if (!text) throw new WebhookParseError(`${http.who}: the callback body is empty`);
  if (/json/i.test(contentType) || text.startsWith('{') || text.startsWith('[')) {
    const parsed = parseWebhookJson(text, {
      who: http.who,
      problem: 'the callback body is not valid JSON',
      contentType,
      expected: 'a JSON object or a list of them, like the form fields',
    });
    return asArray(parsed as unknown[]).map((entry) => {
      const object = asObject(entry);
      if (!object) {
        throw new WebhookParseError(
          `${http.who}: the callback JSON is not an object (it is ${jsonKind(entry)})`,
        );
      }
      return Object.fromEntries(
        Object.entries(object).map(([key, value]) => [key, value === null ? '' : String(value)]),
      );
    });
  }
  if (!/^[^=&\s]+=/.test(text)) {
    throw new WebhookParseError(
      `${http.who}: the callback body is neither form fields nor JSON (${describeBody(text, contentType)}; expected name=value&… form fields or JSON)`,
    );
  }
  return [Object.fromEntries(new URLSearchParams(text))];
}
