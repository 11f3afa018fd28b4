/**
 * Infobip IVR recordings (`GET /voice/ivr/1/files`). The API is a bare listing of the files that
 * Record actions in IVR scenarios produced: no status, no duration, no time filter, no single-file
 * metadata endpoint, no delete (files simply expire after two months), and no total count.
 * The reference documents no order either; its example lists files newest first. A listing is
 * cut short only while what it returns proves that order (see `list`).
 */
import { createHash } from 'node:crypto';
import { ProviderResponseError, RecordingGoneError, WebhookParseError } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import type { AudioDownload, ListPage, ListWindow, WebhookRecording } from '../core/ports.ts';
import { type KnownRecording, type Recording, type RecordingRef, refOf } from '../core/recording.ts';
import { toUtcIso } from '../core/time.ts';
import { type AdapterFactory, accountHttp, adapterFrom, goneRecording, windowBounds } from './adapter.ts';
import { basicAuth } from './http.ts';
import { asArray, isObject, looksLikeXml, parseWebhookJson, parseXml, toText } from './parse.ts';

const FILES_PATH = '/voice/ivr/1/files';
/** The reference numbers pages from 1. */
const FIRST_PAGE = 1;
const DEFAULT_PAGE_SIZE = 100;

type FileEntry = Record<string, unknown>;

export const createInfobipAdapter: AdapterFactory<'infobip'> = (account, options = {}) => {
  const auth = account.auth;
  const authorization = 'apiKey' in auth ? `App ${auth.apiKey}` : basicAuth(auth.username, auth.password);
  const http = accountHttp(account, options, {
    // The Basic token decodes to the password, so it is a secret too.
    secrets: 'apiKey' in auth ? [] : [authorization.replace(/^Basic /, '')],
    headers: { authorization },
  });
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const logger = options.logger ?? silentLogger;

  /**
   * One page of the listing. `ended`: the page was empty, which alone ends the listing (a page of
   * files without a url does not). `digest` names the files it held, for `pagingCheck`.
   */
  async function filesPage(
    page: number,
    filter: { messageId?: string },
  ): Promise<{ files: FileEntry[]; digest: string; ended: boolean }> {
    const query = { page, pageSize, messageId: filter.messageId };
    const response = await http.requestText(FILES_PATH, {
      query,
      // Asked for JSON, but an account may be set to answer XML anyway: both are parsed.
      headers: { accept: 'application/json' },
    });
    http.expectOk(response, FILES_PATH, query);
    const entries = parseFilesPage(response.text, query);
    const pageIds = entries.map((entry) => fileIdOf(entry) || JSON.stringify(entry)).join(',');
    const files = entries.filter((entry, index) => hasFileId(entry, index, query));
    return {
      files,
      digest: createHash('sha256').update(pageIds).digest('hex').slice(0, 16),
      ended: entries.length === 0,
    };
  }

  /**
   * How many pages in a row held the same files, this one included (0: it differs from the one
   * before). A server that ignores `page` would hand out page 1 forever, so a second repeat
   * stops the listing. One repeat is not proof: exactly a page of new files arriving between two
   * reads (newest first) pushes the files read onto the next page.
   */
  function pagingCheck(page: number, read: { digest: string; ended: boolean }, before?: PageSeen): number {
    if (read.ended || before?.digest !== read.digest) return 0;
    if (before.repeats >= 1) {
      throw new ProviderResponseError(
        `${http.who} answered pages ${page - 2} to ${page} of ${http.describe(http.url(FILES_PATH, { page, pageSize }))} with the same files: it does not page`,
      );
    }
    return before.repeats + 1;
  }

  /**
   * The file id is the `url`, which the reference always shows. An entry without one cannot be
   * fetched, but failing the page for it would stop every later sweep there (and the files
   * expire after two months): it is reported and the rest of the page is listed.
   */
  function hasFileId(entry: FileEntry, index: number, query: Record<string, string | number | undefined>) {
    if (fileIdOf(entry) !== '') return true;
    logger.warn('infobip listing file without a url skipped', {
      account: account.id,
      provider: 'infobip',
      page: http.describe(http.url(FILES_PATH, query)),
      item: index,
      messageId: toText(entry.messageId),
      recordedAt: toText(entry.recordedAt),
    });
    return false;
  }

  /**
   * The listing, page by page. There is no total and no "last page" marker, so a short page
   * proves nothing: only an empty page ends the listing.
   */
  async function* allPages(filter: { messageId?: string } = {}): AsyncGenerator<FileEntry[]> {
    let before: PageSeen | undefined;
    for (let page = FIRST_PAGE; ; page += 1) {
      const read = await filesPage(page, filter);
      const repeats = pagingCheck(page, read, before);
      if (read.ended) return;
      before = { digest: read.digest, repeats };
      yield read.files;
    }
  }

  /**
   * One listing page. The position is `{page}:{digest of the page before}:{its repeats}`, so the
   * paging check survives a checkpoint (a position without repeats counts none).
   */
  async function listPage(window: ListWindow, position?: string): Promise<ListPage> {
    const bounds = windowBounds(window);
    const [pageText, digest, repeatsText] = (position ?? `${FIRST_PAGE}:`).split(':');
    const page = Number(pageText);
    const repeats = Number(repeatsText ?? 0);
    if (!Number.isInteger(page) || page < FIRST_PAGE || !Number.isInteger(repeats) || repeats < 0) {
      throw new ProviderResponseError(`${http.who}: listing position ${position} is not a page`);
    }
    const read = await filesPage(page, {});
    const { files, ended } = read;
    const repeated = pagingCheck(page, read, digest ? { digest, repeats } : undefined);
    const seen = new Set<string>();
    const recordings: Recording[] = [];
    // No server-side time filter and no documented order: every page is read, filtered here.
    for (const file of files) {
      const recording = toRecording(file);
      if (seen.has(recording.providerRecordingId)) continue;
      seen.add(recording.providerRecordingId);
      if (bounds.contains(recording.startedAt)) recordings.push(recording);
    }
    if (ended) return { recordings };
    return { recordings, next: `${page + 1}:${read.digest}:${repeated}` };
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
      if (!isObject(entry)) throw wrongShape(`file #${index + 1} that is not a file entry`);
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

  /** Finds one file among its message's files (one small page), never by scanning the account. */
  async function findInMessage(ref: RecordingRef, messageId: string): Promise<FileEntry | undefined> {
    for await (const files of allPages({ messageId })) {
      const found = files.find((file) => fileIdOf(file) === ref.providerRecordingId);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * A file announced without its messageId, just recorded: on the listing's first page, newest
   * first. One page is read, never more; elsewhere, the metadata stays unknown.
   */
  async function findRecent(ref: RecordingRef): Promise<FileEntry | undefined> {
    for await (const files of allPages())
      return files.find((file) => fileIdOf(file) === ref.providerRecordingId);
    return undefined;
  }

  /** The file itself, under the configured base: the `url` of a listing is relative. */
  function openFile(ref: RecordingRef): Promise<AudioDownload> {
    const path = `${FILES_PATH}/${encodeURIComponent(ref.providerRecordingId)}`;
    return http.openAudio(path, {
      headers: { accept: 'audio/wav, */*' },
      onStatus: (response) => {
        // A storage host's 404 (an expired signed link) is not Infobip saying the file is gone.
        if (response.status === 404 && !response.foreign) {
          throw new RecordingGoneError(
            `${http.who} no longer has file ${ref.providerRecordingId} (Infobip keeps IVR recordings for two months)`,
          );
        }
      },
    });
  }

  /** Whether the file is there, from its own URL (the body is not read). */
  async function probeFile(ref: RecordingRef): Promise<Recording> {
    try {
      (await openFile(ref)).body.destroy();
    } catch (error) {
      if (error instanceof RecordingGoneError) return goneRecording(account, ref);
      throw error;
    }
    return { ...goneRecording(account, ref), format: 'wav', channels: 1, readiness: 'ready' };
  }

  return adapterFrom(account, http, {
    canDelete: () => false,

    windowedListing: false,
    listPage,
    /**
     * No server-side time filter, so the window is applied here. While every new file read so far
     * is no newer than the one before it (the order the reference's example shows), a page wholly
     * older than the window ends the listing: later pages can only be older still. One file out
     * of that order (or without a date) and every page is read, as the only safe way left.
     */
    async *list(window: ListWindow): AsyncIterable<Recording> {
      const bounds = windowBounds(window);
      const seen = new Set<string>();
      let newestFirst = true;
      let previous: number | undefined;
      for await (const files of allPages()) {
        // A page of files without a url places nothing: it cannot end the listing.
        let pageReachesWindow = files.length === 0;
        for (const file of files) {
          const recording = toRecording(file);
          const at = recording.startedAt === undefined ? undefined : Date.parse(recording.startedAt);
          if (at === undefined || bounds.since === undefined || at >= bounds.since) pageReachesWindow = true;
          // Files shifted onto the next page by a new arrival come again: already judged.
          if (seen.has(recording.providerRecordingId)) continue;
          seen.add(recording.providerRecordingId);
          if (newestFirst && (at === undefined || (previous !== undefined && at > previous))) {
            newestFirst = false;
            options.logger?.info('infobip listing is not newest first: reading every page', {
              account: account.id,
            });
          }
          if (at !== undefined) previous = at;
          if (bounds.contains(recording.startedAt)) yield recording;
        }
        if (newestFirst && !pageReachesWindow) return;
      }
    },

    async get(ref: RecordingRef, known?: KnownRecording): Promise<Recording> {
      // A listing entry (from the sweep or a callback's `files[]`) is proof the file is stored:
      // nothing to ask. The download fetches the file's own URL and learns there if it expired.
      if (known?.startedAt !== undefined) {
        return {
          ...known,
          accountId: account.id,
          provider: 'infobip',
          providerRecordingId: ref.providerRecordingId,
          callId: ref.callId,
          direction: 'unknown',
          format: 'wav',
          channels: 1,
          readiness: 'ready',
          raw: known.raw ?? null,
        };
      }
      const file = ref.callId ? await findInMessage(ref, ref.callId) : await findRecent(ref);
      if (file) return toRecording(file);
      // Not where one page could show it: the file's own URL says whether it is there.
      return probeFile(ref);
    },

    download(ref: RecordingRef) {
      return openFile(ref);
    },

    async delete(ref: RecordingRef): Promise<never> {
      throw new ProviderResponseError(
        `${http.who}: Infobip has no API to delete IVR recording ${ref.providerRecordingId}; files expire after two months`,
      );
    },

    parseWebhook(request): WebhookRecording[] {
      // Infobip documents no recording callback; this accepts a listing entry (or `{"files":[…]}`)
      // forwarded by whatever the customer's IVR scenario calls at the end.
      const body = parseWebhookJson(request.body, {
        who: http.who,
        problem: 'webhook body is not JSON',
        contentType: request.headers['content-type'],
        expected: 'a file entry with a "url", or {"files": [...]}',
      });
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
          ...refOf(recording),
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
  });
};

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

/** What the page before held (its digest) and how many pages in a row held the same. */
interface PageSeen {
  digest: string;
  repeats: number;
}
