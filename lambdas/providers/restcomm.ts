/**
 * Restcomm (Telestax CPaaS) recordings, under the account's context path (`…/restcomm`):
 * `GET 2012-04-24/Accounts/{AccountSid}/Recordings.json` lists them (Basic auth AccountSid:AuthToken),
 * `GET|DELETE …/Recordings/{sid}` reads or removes one, and `…/Recordings/{sid}.wav` is the audio,
 * public by design. Recordings have no status: a recording the API lists is finished.
 */
import { XMLParser } from 'fast-xml-parser';
import type { AccountOf } from '../core/config.ts';
import {
  ProviderResponseError,
  RecordingGoneError,
  RecordingNotReadyError,
  WebhookParseError,
} from '../core/errors.ts';
import type { Direction, Recording, RecordingRef } from '../core/recording.ts';
import type {
  AdapterOptions,
  ListWindow,
  ProviderAdapter,
  WebhookRecording,
  WebhookRequest,
} from './adapter.ts';
import { type DeleteAnswer, inWindow, sameRecording, windowBounds } from './adapter.ts';
import {
  type AudioDownload,
  accountSecrets,
  basicAuth,
  downloadLimits,
  ProviderHttp,
  type TextResponse,
} from './http.ts';
import { asArray, looksLikeXml, toNumber, toText, toUtcIso } from './parse.ts';

const API_VERSION = '2012-04-24';
const DEFAULT_PAGE_SIZE = 100;

export interface RestcommAdapterOptions extends AdapterOptions {
  /** Recordings asked for per listing page. */
  pageSize?: number;
}

/** One recording in the JSON field names (`sid`, `date_created`, `call_sid`, …). */
type RestcommRecord = Record<string, unknown>;

interface ListPage {
  recordings: Array<{ fields: RestcommRecord; raw: unknown }>;
  nextPageUri: unknown;
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

/** The audio answered 404; whether that means "not written yet" or "deleted" needs another look. */
class AudioNotFound extends Error {}

export function createRestcommAdapter(
  account: AccountOf<'restcomm'>,
  options: RestcommAdapterOptions = {},
): ProviderAdapter {
  const { accountSid, authToken } = account.auth;
  const authorization = basicAuth(accountSid, authToken);
  const http = new ProviderHttp({
    accountId: account.id,
    provider: 'restcomm',
    baseUrl: account.baseUrl,
    ...downloadLimits(account),
    secrets: [...accountSecrets(account), authorization.slice('Basic '.length)],
    // No default headers: the audio URLs are public, so credentials go only with API calls below.
    retry: options.retry,
    timeoutMs: options.timeoutMs,
    logger: options.logger,
  });
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const accountPath = `${API_VERSION}/Accounts/${encodeURIComponent(accountSid)}`;
  const recordingPath = (sid: string) => `${accountPath}/Recordings/${encodeURIComponent(sid)}`;

  /** An authenticated API call; every path is resolved under the configured base, never elsewhere. */
  function api(url: URL, method: 'GET' | 'DELETE' = 'GET'): Promise<TextResponse> {
    return http.requestText(url.toString(), {
      method,
      headers: { authorization, accept: 'application/json' },
    });
  }

  function shapeError(url: URL, what: string, text: string): ProviderResponseError {
    return new ProviderResponseError(
      `${http.who} answered ${http.describe(url)} with ${what}: ${http.snippet(text)}`,
    );
  }

  /** Asked for JSON, but a path without `.json` (some next_page_uri values) answers XML. */
  function parseDocument(response: TextResponse, url: URL): { xml: boolean; document: unknown } {
    if (/xml/i.test(response.contentType) || looksLikeXml(response.text)) {
      try {
        return { xml: true, document: xmlParser.parse(response.text, true) };
      } catch {
        throw shapeError(url, 'a body that is not well-formed XML', response.text);
      }
    }
    return { xml: false, document: http.parseJson(response.text, url) };
  }

  function parseListPage(response: TextResponse, url: URL): ListPage {
    const { xml, document } = parseDocument(response, url);
    if (xml) {
      const root = asObject(asObject(document)?.RestcommResponse);
      if (!root || !('Recordings' in root)) throw shapeError(url, 'XML without <Recordings>', response.text);
      // An empty `<Recordings/>` parses as "", one recording as an object, several as an array.
      const list = asObject(root.Recordings) ?? {};
      return {
        recordings: asArray(list.Recording as unknown[] | undefined).map((entry) =>
          fromXml(entry, url, response.text),
        ),
        nextPageUri: list['@_nextpageuri'],
      };
    }
    // The deprecated per-call listing answers a bare array; the account listing an object.
    if (Array.isArray(document)) {
      return { recordings: document.map((entry) => fromJson(entry, url, response.text)), nextPageUri: null };
    }
    const body = asObject(document);
    if (!body || !('recordings' in body)) {
      throw shapeError(url, 'JSON without a "recordings" list', response.text);
    }
    return {
      recordings: asArray(body.recordings as unknown[]).map((entry) => fromJson(entry, url, response.text)),
      nextPageUri: body.next_page_uri,
    };
  }

  function fromJson(entry: unknown, url: URL, text: string): { fields: RestcommRecord; raw: unknown } {
    const fields = asObject(entry);
    if (!fields || !toText(fields.sid)) throw shapeError(url, 'a recording without a "sid"', text);
    return { fields, raw: entry };
  }

  /** `<Sid>`, `<DateCreated>`, `<FileUri>` → `sid`, `date_created`, `file_uri`. */
  function fromXml(entry: unknown, url: URL, text: string): { fields: RestcommRecord; raw: unknown } {
    const element = asObject(entry);
    const fields: RestcommRecord = {};
    for (const [key, value] of Object.entries(element ?? {})) {
      fields[key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()] = value;
    }
    if (!toText(fields.sid)) throw shapeError(url, 'a <Recording> without a <Sid>', text);
    return { fields, raw: entry };
  }

  function toRecording({ fields, raw }: { fields: RestcommRecord; raw: unknown }): Recording {
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
      throw shapeError(current, 'an unusable next_page_uri', text);
    }
    const at = link.pathname.indexOf(`/${API_VERSION}/`);
    if (at < 0) throw shapeError(current, `a next_page_uri outside ${API_VERSION}`, text);
    const next = http.url(link.pathname.slice(at));
    for (const [key, value] of link.searchParams) next.searchParams.append(key, value);
    for (const [key, value] of Object.entries(filters)) {
      if (!next.searchParams.has(key)) next.searchParams.set(key, value);
    }
    return next;
  }

  async function* list(window: ListWindow): AsyncGenerator<Recording> {
    const bounds = windowBounds(window);
    const { since, until } = bounds;
    const filters: Record<string, string> = { PageSize: String(pageSize), SortBy: 'DateCreated:asc' };
    // Both bounds are inclusive, whole seconds, UTC; the exact window is applied below.
    if (since !== undefined) filters.StartTime = restcommTime(Math.floor(since / 1000) * 1000);
    if (until !== undefined) filters.EndTime = restcommTime(Math.ceil(until / 1000) * 1000);
    const seen = new Set<string>();
    const visited = new Set<string>();
    let url: URL | undefined = http.url(`${accountPath}/Recordings.json`, { ...filters, Page: 0 });
    while (url) {
      if (visited.has(url.href)) {
        throw new ProviderResponseError(
          `${http.who} sent the same next_page_uri twice (${http.describe(url)}): the listing would never end`,
        );
      }
      visited.add(url.href);
      const response = await api(url);
      http.expectOk(response, url.href);
      const page = parseListPage(response, url);
      for (const entry of page.recordings) {
        const recording = toRecording(entry);
        if (seen.has(recording.providerRecordingId)) continue;
        seen.add(recording.providerRecordingId);
        if (inWindow(recording.startedAt, bounds)) yield recording;
      }
      url = nextPageUrl(page.nextPageUri, filters, url);
    }
  }

  async function get(ref: RecordingRef): Promise<Recording> {
    const url = http.url(`${recordingPath(ref.providerRecordingId)}.json`);
    const response = await api(url);
    if (response.status === 404) return goneRecording(ref);
    http.expectOk(response, url.href);
    const { xml, document } = parseDocument(response, url);
    if (xml) {
      const element = asObject(asObject(document)?.RestcommResponse)?.Recording;
      return sameRecording(http, ref, toRecording(fromXml(element, url, response.text)), url);
    }
    const entry = Array.isArray(document) ? document[0] : document;
    return sameRecording(http, ref, toRecording(fromJson(entry, url, response.text)), url);
  }

  function goneRecording(ref: RecordingRef): Recording {
    return {
      accountId: account.id,
      provider: 'restcomm',
      providerRecordingId: ref.providerRecordingId,
      callId: ref.callId,
      direction: 'unknown',
      readiness: 'gone',
      providerStatus: '404',
      raw: null,
    };
  }

  async function download(ref: RecordingRef): Promise<AudioDownload> {
    // Built from the base, never from file_uri (which names internal hosts such as
    // instance1.restcomm.com or `\https://$DOMAIN`). Restcomm redirects it to the file itself.
    const path = `${recordingPath(ref.providerRecordingId)}.wav`;
    try {
      return await http.openAudio(path, {
        onStatus: (answer) => {
          if (answer.status === 404) throw new AudioNotFound();
        },
      });
    } catch (error) {
      if (!(error instanceof AudioNotFound)) throw error;
    }
    // A 404 on the audio is either a deleted recording or a file the media server has not
    // finished writing; the recording resource tells which.
    const current = await get(ref);
    if (current.readiness === 'gone') {
      throw new RecordingGoneError(`${http.who}: recording ${ref.providerRecordingId} no longer exists`);
    }
    throw new RecordingNotReadyError(
      `${http.who}: recording ${ref.providerRecordingId} is listed but its audio file is not there yet`,
    );
  }

  async function remove(ref: RecordingRef): Promise<DeleteAnswer> {
    const url = http.url(recordingPath(ref.providerRecordingId));
    const response = await api(url, 'DELETE');
    if (response.status === 404) return { status: 404, alreadyGone: true };
    http.expectOk(response, url.href);
    return { status: response.status, alreadyGone: false };
  }

  function parseWebhook(request: WebhookRequest): WebhookRecording[] {
    return webhookFields(request.body, request.headers['content-type'] ?? '').flatMap((fields) =>
      webhookRecording(fields),
    );
  }

  /** The RCML `<Record action>` / `<Dial record>` callback: RecordingUrl names the new recording. */
  function webhookRecording(fields: Record<string, string>): WebhookRecording[] {
    const recordingUrl = toText(fields.RecordingUrl ?? fields.PublicRecordingUrl);
    if (!recordingUrl) {
      // Nothing was recorded (silence, a failed <Dial>) or a plain call-status callback.
      const aboutACall = 'RecordingDuration' in fields || 'RecordingUrl' in fields || 'CallStatus' in fields;
      if (aboutACall) return [];
      throw new WebhookParseError(`${http.who}: the callback has no RecordingUrl and is not a call event`);
    }
    const sid = recordingSidFromUrl(recordingUrl);
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

  /**
   * The sid is the file name in RecordingUrl, whatever host it names (Restcomm's public
   * recordings URI or an S3 URL); that host is never contacted.
   */
  function recordingSidFromUrl(recordingUrl: string): string {
    let pathname: string;
    try {
      pathname = new URL(recordingUrl.replace(/^\\+/, ''), 'http://relative.invalid').pathname;
    } catch {
      throw new WebhookParseError(`${http.who}: RecordingUrl is not a URL: ${http.snippet(recordingUrl)}`);
    }
    const file = decodeURIComponent(pathname.split('/').pop() ?? '');
    const sid = file.replace(/\.(wav|mp3)$/i, '');
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(sid)) {
      throw new WebhookParseError(
        `${http.who}: RecordingUrl does not end in a recording sid: ${http.snippet(recordingUrl)}`,
      );
    }
    return sid;
  }

  /** Restcomm posts form fields; the same fields as JSON are accepted too. */
  function webhookFields(body: string, contentType: string): Array<Record<string, string>> {
    const text = body.trim();
    if (!text) throw new WebhookParseError(`${http.who}: the callback body is empty`);
    if (/json/i.test(contentType) || text.startsWith('{') || text.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new WebhookParseError(
          `${http.who}: the callback body is not valid JSON: ${http.snippet(text)}`,
        );
      }
      return asArray(parsed as unknown[]).map((entry) => {
        const object = asObject(entry);
        if (!object) throw new WebhookParseError(`${http.who}: the callback JSON is not an object`);
        return Object.fromEntries(
          Object.entries(object).map(([key, value]) => [key, value === null ? '' : String(value)]),
        );
      });
    }
    if (!/^[^=&\s]+=/.test(text)) {
      throw new WebhookParseError(
        `${http.who}: the callback body is neither form fields nor JSON: ${http.snippet(text)}`,
      );
    }
    return [Object.fromEntries(new URLSearchParams(text))];
  }

  return {
    account,
    http,
    supportsDelete: true,
    list,
    get,
    download,
    delete: remove,
    parseWebhook,
  };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
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
