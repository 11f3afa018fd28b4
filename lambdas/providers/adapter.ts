/**
 * What every provider adapter shares: the options it is built with and the helpers for the
 * parts of `ProviderAdapter` (the core's port, `core/ports.ts`) that are the same at every
 * provider: list windows, paging to the end, refusing another recording's metadata, the gone
 * recording, the audio 404 that the recording resource explains.
 */
import type { AccountConfig, AccountOf } from '../core/config.ts';
import { ProviderResponseError, RecordingGoneError, RecordingNotReadyError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { AudioDownload, ListWindow, ProviderAdapter } from '../core/ports.ts';
import type { Recording, RecordingRef } from '../core/recording.ts';
import { accountSecrets, ProviderHttp, type RequestOptions, type RetryPolicy } from './http.ts';

/** What an adapter is built with besides its account. */
export interface AdapterOptions {
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
  /** Headers timeout and body idle timeout, ms. */
  timeoutMs?: number;
  /** Items per listing request, where the provider takes a page size (Infobip, Restcomm, VoIPBin). */
  pageSize?: number;
}

/** How each provider's adapter is made: its account, typed by provider, and the options. */
export type AdapterFactory<P extends AccountConfig['provider']> = (
  account: AccountOf<P>,
  options?: AdapterOptions,
) => ProviderAdapter;

/**
 * The account's transport: its base URL, download limits and credentials (redacted from every
 * message, with `extra.secrets`, the forms a credential takes in a header), and the options'
 * retry, timeout and logger.
 */
export function accountHttp(
  account: AccountConfig,
  options: AdapterOptions,
  extra: { secrets?: string[]; headers?: Record<string, string> } = {},
): ProviderHttp {
  return new ProviderHttp({
    accountId: account.id,
    provider: account.provider,
    baseUrl: account.baseUrl,
    allowedDownloadHosts: account.allowedDownloadHosts,
    maxDownloadBytes: account.maxDownloadBytes,
    secrets: [...accountSecrets(account), ...(extra.secrets ?? [])],
    headers: extra.headers,
    retry: options.retry,
    timeoutMs: options.timeoutMs,
    logger: options.logger,
  });
}

/** What an adapter writes itself; `list` defaults to `listPage` followed to the end. */
export type AdapterParts = Omit<ProviderAdapter, 'account' | 'who' | 'list'> &
  Partial<Pick<ProviderAdapter, 'list'>>;

/** The account's adapter from its parts, speaking in messages as its transport's `who`. */
export function adapterFrom(
  account: AccountConfig,
  http: ProviderHttp,
  parts: AdapterParts,
): ProviderAdapter {
  return { account, who: http.who, list: (window) => listPages(parts.listPage, window), ...parts };
}

/** A list window's bounds as epoch milliseconds, and which start times it holds. */
export interface WindowBounds {
  since?: number;
  until?: number;
  /**
   * Since inclusive, until exclusive. A recording without a start time is kept: no window can
   * place it, and dropping it would mean never archiving it (the index de-duplicates by id).
   */
  contains(startedAt: string | undefined): boolean;
}

/** Reads a window; a bound that is not a date is a RangeError naming it. */
export function windowBounds(window: ListWindow): WindowBounds {
  const bound = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new RangeError(`list window "${name}" is not a date: ${value}`);
    return ms;
  };
  const since = bound(window.since, 'since');
  const until = bound(window.until, 'until');
  return {
    since,
    until,
    contains(startedAt) {
      if (startedAt === undefined) return true;
      const at = Date.parse(startedAt);
      return (since === undefined || at >= since) && (until === undefined || at < until);
    },
  };
}

/**
 * A whole listing from `listPage`: follows `next` to the end, yields each recording once, and
 * refuses a position the provider hands out twice (the listing would never end).
 */
export async function* listPages(
  listPage: ProviderAdapter['listPage'],
  window: ListWindow,
  repeated: (position: string) => Error = (position) =>
    new ProviderResponseError(`the provider handed out listing position ${position} twice`),
): AsyncGenerator<Recording> {
  const seen = new Set<string>();
  const visited = new Set<string>();
  let position: string | undefined;
  for (;;) {
    const page = await listPage(window, position);
    for (const recording of page.recordings) {
      if (seen.has(recording.providerRecordingId)) continue;
      seen.add(recording.providerRecordingId);
      yield recording;
    }
    if (page.next === undefined) return;
    if (visited.has(page.next)) throw repeated(page.next);
    visited.add(page.next);
    position = page.next;
  }
}

/**
 * The metadata a provider answered for `ref`, refused when it names another recording: acting on
 * it would record that recording's readiness and times under this one's id.
 */
export function sameRecording(
  http: ProviderHttp,
  ref: RecordingRef,
  recording: Recording,
  url: URL,
): Recording {
  if (recording.providerRecordingId === ref.providerRecordingId) return recording;
  throw new ProviderResponseError(
    `${http.who} answered ${http.describe(url)} with the metadata of recording ${JSON.stringify(http.redact(recording.providerRecordingId))} instead of ${ref.providerRecordingId}`,
  );
}

/** A recording the provider no longer has, as `get` answers it (never thrown). */
export function goneRecording(account: Pick<AccountConfig, 'id' | 'provider'>, ref: RecordingRef): Recording {
  return {
    accountId: account.id,
    provider: account.provider,
    providerRecordingId: ref.providerRecordingId,
    callId: ref.callId,
    direction: 'unknown',
    readiness: 'gone',
    raw: null,
  };
}

/** Thrown from `openAudio`'s status hook so the 404 can be explained by the recording resource. */
class AudioNotFound extends Error {}

/** How an adapter words the two meanings a 404 on the audio can turn out to have. */
export interface AudioNotFoundMessages {
  gone(recording: Recording): string;
  notReady(recording: Recording): string;
}

/**
 * Opens the audio at `path`. A 404 on the audio alone does not say whether the file is not
 * written yet or never will be: the recording's metadata (`get`) tells which, and the answer is
 * RecordingGoneError or RecordingNotReadyError (worth asking again).
 */
export async function openAudioOrAskRecording(
  http: ProviderHttp,
  path: string,
  options: RequestOptions,
  get: () => Promise<Recording>,
  messages: AudioNotFoundMessages,
): Promise<AudioDownload> {
  try {
    return await http.openAudio(path, {
      ...options,
      onStatus: (response) => {
        if (response.status === 404) throw new AudioNotFound();
      },
    });
  } catch (error) {
    if (!(error instanceof AudioNotFound)) throw error;
  }
  const recording = await get();
  if (recording.readiness === 'gone') throw new RecordingGoneError(messages.gone(recording));
  throw new RecordingNotReadyError(messages.notReady(recording));
}
