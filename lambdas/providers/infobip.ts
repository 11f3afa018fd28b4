/**
 * Infobip IVR recordings (`GET /voice/ivr/1/files`). The API is a bare listing of the files that
 * Record actions in IVR scenarios produced: no status, no duration, no time filter, no single-file
 * metadata endpoint, no delete (files simply expire after two months), and no total count.
 */
import type { AccountOf } from '../core/config.ts';
import { ProviderResponseError, RecordingGoneError, WebhookParseError } from '../core/errors.ts';
import type { Recording, RecordingRef } from '../core/recording.ts';
import type { AdapterOptions, ListWindow, ProviderAdapter, WebhookRecording } from './adapter.ts';
import { inWindow, windowBounds } from './adapter.ts';
import { accountSecrets, basicAuth, downloadLimits, ProviderHttp } from './http.ts';
import { asArray, looksLikeXml, parseXml, toText, toUtcIso } from './parse.ts';

const FILES_PATH = '/voice/ivr/1/files';
/** The reference numbers pages from 1. */
const FIRST_PAGE = 1;
const DEFAULT_PAGE_SIZE = 100;

export interface InfobipAdapterOptions extends AdapterOptions {
  /** Files asked for per listing page. */
  pageSize?: number;
}

type FileEntry = Record<string, unknown>;

export function createInfobipAdapter(
  account: AccountOf<'infobip'>,
  options: InfobipAdapterOptions = {},
): ProviderAdapter {
  const auth = account.auth;
  const authorization = 'apiKey' in auth ? `App ${auth.apiKey}` : basicAuth(auth.username, auth.password);
  const http = new ProviderHttp({
    accountId: account.id,
    provider: 'infobip',
    baseUrl: account.baseUrl,
    ...downloadLimits(account),
    // The Basic token decodes to the password, so it is a secret too.
    secrets: [
      ...accountSecrets(account),
      ...('apiKey' in auth ? [] : [authorization.replace(/^Basic /, '')]),
    ],
    headers: { authorization },
    retry: options.retry,
    timeoutMs: options.timeoutMs,
    logger: options.logger,
  });
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;

  /**
   * Every file the listing returns, page by page. There is no total and no "last page" marker, so
   * a short page proves nothing: only an empty page ends the listing.
   */
  async function* allFiles(filter: { messageId?: string } = {}): AsyncGenerator<FileEntry> {
    let previousPageIds = '';
    for (let page = FIRST_PAGE; ; page += 1) {
      const query = { page, pageSize, messageId: filter.messageId };
      const response = await http.requestText(FILES_PATH, {
        query,
        // Asked for JSON, but an account may be set to answer XML anyway: both are parsed.
        headers: { accept: 'application/json' },
      });
      http.expectOk(response, FILES_PATH, query);
      const files = parseFilesPage(response.text, query);
      if (files.length === 0) return;
      // A server that ignores `page` would hand out page 1 forever; stop instead of looping.
      const pageIds = files.map(fileIdOf).join(',');
      if (pageIds === previousPageIds) {
        throw new ProviderResponseError(
          `${http.who} answered page ${page} of ${http.describe(http.url(FILES_PATH, query))} with the same files as page ${page - 1}: it does not page`,
        );
      }
      previousPageIds = pageIds;
      yield* files;
    }
  }

  /** `{"files":[…]}`, a bare `[…]` (both in the reference) or the XML form; anything else is an error. */
  function parseFilesPage(text: string, query: Record<string, string | number | undefined>): FileEntry[] {
    const url = http.url(FILES_PATH, query);
    const wrongShape = (what: string) =>
      new ProviderResponseError(
        `${http.who} answered ${http.describe(url)} with ${what}: ${http.snippet(text)}`,
      );
    let entries: unknown[];
    if (looksLikeXml(text)) {
      let document: Record<string, unknown>;
      try {
        document = parseXml(text);
      } catch {
        throw wrongShape('a body that is not well-formed XML');
      }
      const root = document.recordedAudioFilesResponse;
      if (root === undefined) throw wrongShape('XML without <recordedAudioFilesResponse>');
      // `<files/>` parses as "" and a single <file> as an object rather than an array.
      const files = isObject(root) ? root.files : undefined;
      entries = asArray(isObject(files) ? (files.file as unknown) : undefined);
    } else {
      const json = http.parseJson(text, url);
      if (Array.isArray(json)) {
        entries = json;
      } else if (isObject(json) && ('files' in json || 'results' in json)) {
        // The reference's field table calls the collection `results`; its examples say `files`.
        const collection = json.files ?? json.results;
        if (collection !== null && collection !== undefined && !Array.isArray(collection)) {
          throw wrongShape('"files" that is not an array');
        }
        entries = asArray(collection);
      } else if (isObject(json) && Object.keys(json).length === 0) {
        // A serializer that drops empty collections would end the listing with `{}`.
        entries = [];
      } else {
        throw wrongShape('neither a "files" array nor a bare array');
      }
    }
    return entries.map((entry, index) => {
      if (!isObject(entry) || fileIdOf(entry) === '') {
        throw wrongShape(`file #${index + 1} without a "url" naming the file`);
      }
      return entry;
    });
  }

  function toRecording(file: FileEntry): Recording {
    return {
      accountId: account.id,
      provider: 'infobip',
      providerRecordingId: fileIdOf(file),
      callId: toText(file.messageId),
      from: toText(file.from),
      to: toText(file.to),
      // An IVR scenario runs on inbound calls and on API-launched outbound ones alike; the file
      // entry does not say which.
      direction: 'unknown',
      startedAt: recordedAtIso(file.recordedAt, account.timeZone),
      // The listing has no duration field, and the audio is always PCM 16-bit 8 kHz mono WAVE.
      format: 'wav',
      channels: 1,
      // There is no status: a file appears in the listing once it is stored and downloadable.
      readiness: 'ready',
      raw: file,
    };
  }

  /** Finds one file through the listing, since Infobip has no per-file metadata endpoint. */
  async function findFile(ref: RecordingRef): Promise<FileEntry | undefined> {
    // The messageId filter turns a scan of every file into one or two small pages.
    for await (const file of allFiles({ messageId: ref.callId })) {
      if (fileIdOf(file) === ref.providerRecordingId) return file;
    }
    return undefined;
  }

  return {
    account,
    http,
    supportsDelete: false,

    async *list(window: ListWindow): AsyncIterable<Recording> {
      const bounds = windowBounds(window);
      const seen = new Set<string>();
      // No server-side time filter and no documented order: read every page, filter here.
      for await (const file of allFiles()) {
        const recording = toRecording(file);
        if (seen.has(recording.providerRecordingId)) continue;
        seen.add(recording.providerRecordingId);
        if (inWindow(recording.startedAt, bounds)) yield recording;
      }
    },

    async get(ref: RecordingRef): Promise<Recording> {
      const file = await findFile(ref);
      if (file) return toRecording(file);
      // Not listed any more: files expire two months after recording.
      return {
        accountId: account.id,
        provider: 'infobip',
        providerRecordingId: ref.providerRecordingId,
        callId: ref.callId,
        direction: 'unknown',
        readiness: 'gone',
        raw: null,
      };
    },

    async download(ref: RecordingRef) {
      // Always under the configured base: the `url` in a listing is relative, and its file id is
      // all we keep of it.
      const path = `${FILES_PATH}/${encodeURIComponent(ref.providerRecordingId)}`;
      return http.openAudio(path, {
        headers: { accept: 'audio/wav, */*' },
        onStatus: (response) => {
          if (response.status === 404) {
            throw new RecordingGoneError(
              `${http.who} no longer has file ${ref.providerRecordingId} (Infobip keeps IVR recordings for two months)`,
            );
          }
        },
      });
    },

    async delete(ref: RecordingRef): Promise<never> {
      throw new ProviderResponseError(
        `${http.who}: Infobip has no API to delete IVR recording ${ref.providerRecordingId}; files expire after two months`,
      );
    },

    parseWebhook(request): WebhookRecording[] {
      // Infobip documents no recording callback; this accepts a listing entry (or `{"files":[…]}`)
      // forwarded by whatever the customer's IVR scenario calls at the end.
      let body: unknown;
      try {
        body = JSON.parse(request.body);
      } catch {
        throw new WebhookParseError(`${http.who}: webhook body is not JSON`);
      }
      let entries: unknown[];
      if (isObject(body) && 'url' in body) {
        entries = [body];
      } else if (isObject(body) && Array.isArray(body.files)) {
        entries = body.files;
      } else if (isObject(body) && Array.isArray(body.results) && body.results.every(isDeliveryReport)) {
        // Infobip's voice delivery reports arrive as `{"results":[{messageId, status…}]}`: not a recording.
        return [];
      } else {
        throw new WebhookParseError(
          `${http.who}: webhook body has neither a "url" naming a file nor a "files" array`,
        );
      }
      return entries.map((entry, index) => {
        if (!isObject(entry) || fileIdOf(entry) === '') {
          throw new WebhookParseError(`${http.who}: webhook file #${index + 1} has no "url" naming the file`);
        }
        const recording = toRecording(entry);
        return {
          accountId: recording.accountId,
          provider: recording.provider,
          providerRecordingId: recording.providerRecordingId,
          callId: recording.callId,
          hints: {
            from: recording.from,
            to: recording.to,
            direction: recording.direction,
            startedAt: recording.startedAt,
            format: recording.format,
            channels: recording.channels,
          },
        };
      });
    },
  };
}

/**
 * The file id: the last segment of `url` (`/voice/ivr/1/files/3C67…`). It, not the messageId, is
 * the recording's identity: one message carries a file per Record action (per `groupId`).
 */
function fileIdOf(file: FileEntry): string {
  const url = toText(file.url);
  if (!url) return '';
  try {
    const segment = new URL(url, 'http://relative.invalid').pathname.split('/').pop() ?? '';
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

/**
 * `2018-04-30T07:25:32.920+0000` (an offset without a colon) in the examples; the field table
 * types it `int`, so epoch seconds or milliseconds are read too.
 */
function recordedAtIso(value: unknown, zone: string): string | undefined {
  const text = toText(value);
  if (text && /^\d+$/.test(text)) {
    const epoch = Number(text);
    return new Date(epoch < 1e11 ? epoch * 1000 : epoch).toISOString();
  }
  return toUtcIso(text, zone);
}

function isDeliveryReport(entry: unknown): boolean {
  return isObject(entry) && !('url' in entry) && isObject(entry.status);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
