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
  listPages,
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
/** The query parameters a listing is filtered and ordered by, kept on every page of it. */
const LISTING_FILTERS = ['PageSize', 'SortBy', 'StartTime', 'EndTime'] as const;

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
   * The next page's URL under the configured base. next_page_uri is host-relative and its prefix
   * varies (`/restcomm/2012-04-24/…`, `/api/2012-04-24/…`, even another host), so only the part
   * from `2012-04-24/` on is kept. Restcomm also drops the StartTime/EndTime/SortBy filters from
   * it, which would page through the unfiltered list: they are put back.
   */
  function nextPageUrl(nextPageUri: unknown, filters: Record<string, string>, current: URL): URL | undefined {
    // The literal string "null" marks the last page; num_pages/total cannot be trusted for it.
    const text = toText(nextPageUri)?.replace(/^\\+/, '');
    if (!text) return undefined;
    let link: URL;
    try {
      link = new URL(text, http.baseUrl);
    } catch {
      throw shapeError(http, current, 'an unusable next_page_uri', text);
    }
    const at = link.pathname.indexOf(`/${API_VERSION}/`);
    if (at < 0) throw shapeError(http, current, `a next_page_uri outside ${API_VERSION}`, text);
    const next = http.url(link.pathname.slice(at));
    for (const [key, value] of link.searchParams) next.searchParams.append(key, value);
    for (const [key, value] of Object.entries(filters)) {
      if (!next.searchParams.has(key)) next.searchParams.set(key, value);
    }
    return next;
  }

  /**
   * One listing page. The position is the next page's URL (under the configured base, as
   * `nextPageUrl` makes it); the first page is built from the window.
   */
  const listPage: ProviderAdapter['listPage'] = async (window, position) => {
    const bounds = windowBounds(window);
    const { since, until } = bounds;
    const filters: Record<string, string> = { PageSize: String(pageSize), SortBy: 'DateCreated:asc' };
    // Both bounds are inclusive, whole seconds, UTC; the exact window is applied below.
    if (since !== undefined) filters.StartTime = restcommTime(Math.floor(since / 1000) * 1000);
    if (until !== undefined) filters.EndTime = restcommTime(Math.ceil(until / 1000) * 1000);
    const first = http.url(`${accountPath}/Recordings.json`, { ...filters, Page: 0 });
    const url = position === undefined ? first : new URL(position);
    // A checkpointed position is fetched only where the adapter itself would page to.
    if (url.origin !== first.origin)
      throw shapeError(http, first, 'a listing position on another host', position ?? '');
    const response = await api(url);
    http.expectOk(response, url.href);
    const page = parseListPage(http, response, url);
    const seen = new Set<string>();
    const recordings: Recording[] = [];
    for (const [index, entry] of page.recordings.entries()) {
      if (!hasSid(entry, index, url)) continue;
      const recording = toRecording(entry);
      if (seen.has(recording.providerRecordingId)) continue;
      seen.add(recording.providerRecordingId);
      if (bounds.contains(recording.startedAt)) recordings.push(recording);
    }
    // Each page keeps the filters of the one before: a listing continued past the limit has its own StartTime.
    const kept = Object.fromEntries(
      LISTING_FILTERS.flatMap((key) => {
        const value = url.searchParams.get(key);
        return value === null ? [] : [[key, value]];
      }),
    );
    const next = nextPageUrl(page.nextPageUri, kept, url);
    if (next?.href === url.href) throw sameNextPageTwice(http, url);
    if (next) return { recordings, next: next.href };
    // The last page. Restcomm ends every listing at its limit, so one that got there may have
    // stopped short of the window's end: a new listing goes on from the second of its last
    // recording (inclusive: recordings of that second are listed again, and de-duplicated).
    const pageNumber = Number(url.searchParams.get('Page') ?? 0);
    const listedSoFar =
      pageNumber * Number(url.searchParams.get('PageSize') ?? pageSize) + page.recordings.length;
    if (listedSoFar < page.limit) return { recordings };
    const from = continuedFrom(page, url);
    return {
      recordings,
      next: http.url(`${accountPath}/Recordings.json`, { ...kept, StartTime: from, Page: 0 }).href,
    };
  };

  /** Where a listing that reached Restcomm's limit goes on: its last recording's second. */
  function continuedFrom(page: RestcommListPage, url: URL): string {
    const lastCreated = toUtcIso(page.recordings.at(-1)?.fields.date_created, account.timeZone);
    if (!lastCreated) {
      throw new ProviderResponseError(
        `${http.who}: a listing that reached its limit of ${page.limit} recordings (${http.describe(url)}) ends with one that has no date_created, so it cannot go on past it`,
      );
    }
    const from = restcommTime(Math.floor(Date.parse(lastCreated) / 1000) * 1000);
    const current = url.searchParams.get('StartTime');
    // A StartTime that does not move on would list the same recordings for ever: more than the
    // limit share one second, or the answer is not oldest first as asked.
    if (current !== null && from <= current) {
      throw new ProviderResponseError(
        `${http.who}: a listing from ${current} reached its limit of ${page.limit} recordings and ends at ${from}, so it cannot advance: more than ${page.limit} recordings share that second, or they are not sorted oldest first`,
      );
    }
    return from;
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
    list: (window) => listPages(listPage, window, (position) => sameNextPageTwice(http, new URL(position))),
    get,
    download,
    delete: remove,
    parseWebhook,
  });
};

function sameNextPageTwice(http: ProviderHttp, url: URL): ProviderResponseError {
  return new ProviderResponseError(
    `${http.who} sent the same next_page_uri twice (${http.describe(url)}): the listing would never end`,
  );
}

/** `2018-10-05T22:45:32`, UTC, as StartTime/EndTime expect. */
function restcommTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

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
