/**
 * The one interface every provider adapter implements. An adapter knows its provider's API and
 * quirks and nothing about S3, DynamoDB or Step Functions.
 */
import type { AccountConfig } from '../core/config.ts';
import { ProviderResponseError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { KnownRecording, Recording, RecordingRef } from '../core/recording.ts';
import type { AudioDownload, ProviderHttp, RetryPolicy } from './http.ts';

/** Which recordings to list. Times are UTC ISO-8601; both bounds are optional. */
export interface ListWindow {
  /** Recordings that started at or after this instant. */
  since?: string;
  /** Recordings that started before this instant. */
  until?: string;
}

/** A callback as received over HTTP: the raw body (signatures are computed over it) and headers. */
export interface WebhookRequest {
  body: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
}

/**
 * What a webhook told us: the recording to fetch, plus whatever metadata the callback carried
 * (the workflow still asks the provider API for readiness and the download).
 */
export interface WebhookRecording extends RecordingRef {
  hints?: Partial<Omit<Recording, keyof RecordingRef | 'raw'>>;
}

export interface ProviderAdapter {
  readonly account: AccountConfig;
  readonly http: ProviderHttp;

  /**
   * Every recording in the window, following the provider's own paging to the end. Each
   * recording is yielded once even where the provider's pages overlap.
   */
  list(window: ListWindow): AsyncIterable<Recording>;

  /**
   * The recording's current metadata and readiness. A recording the provider no longer has is
   * returned with `readiness: 'gone'` rather than thrown. `known` is what the caller already holds
   * (the listing entry a sweep found, a callback's fields): an adapter whose provider has no
   * single-recording endpoint answers from it with O(1) requests instead of listing again;
   * one that has such an endpoint re-reads the metadata there and may ignore it.
   */
  get(ref: RecordingRef, known?: KnownRecording): Promise<Recording>;

  /** Opens the audio as a counted, hashed stream. Throws RecordingNotReadyError / RecordingGoneError. */
  download(ref: RecordingRef): Promise<AudioDownload>;

  /** Whether the provider has an API to delete a recording (Infobip has none: files expire). */
  readonly supportsDelete: boolean;

  /**
   * Deletes the recording at the provider. Deleting what is already gone succeeds; an adapter
   * whose provider cannot delete throws ProviderResponseError.
   */
  delete(ref: RecordingRef): Promise<DeleteAnswer>;

  /**
   * Parses a provider callback. Returns the recordings it announces (often one; none for an
   * event that is not about a finished recording). Throws WebhookParseError naming the problem.
   */
  parseWebhook(request: WebhookRequest): WebhookRecording[];
}

/** What the provider answered to a deletion: its HTTP status, and whether it had it no more. */
export interface DeleteAnswer {
  status: number;
  alreadyGone: boolean;
}

/** What an adapter is built with besides its account. */
export interface AdapterOptions {
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
  /** Headers timeout and body idle timeout, ms. */
  timeoutMs?: number;
}

/** A list window's bounds as epoch milliseconds. */
export interface WindowBounds {
  since?: number;
  until?: number;
}

/** Reads a window; a bound that is not a date is a RangeError naming it. */
export function windowBounds(window: ListWindow): WindowBounds {
  const bound = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new RangeError(`list window "${name}" is not a date: ${value}`);
    return ms;
  };
  return { since: bound(window.since, 'since'), until: bound(window.until, 'until') };
}

/**
 * Since inclusive, until exclusive. A recording without a start time is kept: no window can
 * place it, and dropping it would mean never archiving it (the index de-duplicates by id).
 */
export function inWindow(startedAt: string | undefined, bounds: WindowBounds): boolean {
  if (startedAt === undefined) return true;
  const at = Date.parse(startedAt);
  return (
    (bounds.since === undefined || at >= bounds.since) && (bounds.until === undefined || at < bounds.until)
  );
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
