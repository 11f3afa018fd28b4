/**
 * Typed errors. Each class sets `name` to its own class name, which is what Step Functions
 * Retry/Catch matches on (`ErrorEquals: ['ProviderUnavailableError']`), so never rename one
 * without updating the workflow definition.
 */
export abstract class CallvaultError extends Error {
  /** Whether repeating the same operation later may succeed. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration file or value that cannot be used. Names the field. */
export class ConfigError extends CallvaultError {
  readonly retryable = false;
}

/** No account of that id is configured (a webhook's path, a CLI's `--account`). */
export class UnknownAccountError extends ConfigError {}

/** The provider refused the account's credentials (401/403). Retrying cannot help. */
export class ProviderAuthError extends CallvaultError {
  readonly retryable = false;
}

/** 429, 5xx, timeout or network failure that outlived the transport's own retries. */
export class ProviderUnavailableError extends CallvaultError {
  readonly retryable = true;
}

/**
 * The account's provider is at its limit: every slot of its `maxConcurrency` is taken, or the
 * provider itself answered 429 (`throttled`). The workflow waits and tries again; the recording
 * does not fail for it.
 */
export class ProviderBusyError extends CallvaultError {
  readonly retryable = true;
  /** Set when the provider said 429, as opposed to callvault's own limit being reached. */
  readonly throttled: boolean;
  readonly retryAfterMs?: number;

  constructor(
    message: string,
    options: { cause?: unknown; throttled?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.throttled = options.throttled ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The provider answered something that cannot be understood (garbage JSON, wrong shape, 4xx). */
export class ProviderResponseError extends CallvaultError {
  readonly retryable = false;
}

/** The recording exists but its audio is not ready yet. */
export class RecordingNotReadyError extends CallvaultError {
  readonly retryable = true;
}

/** The recording was deleted or expired at the provider: nothing to archive, ever. */
export class RecordingGoneError extends CallvaultError {
  readonly retryable = false;
}

/** The recording was erased while its execution ran: it is never archived again. */
export class RecordingErasedError extends CallvaultError {
  readonly retryable = false;
}

/**
 * The audio body was not what it claimed: shorter than Content-Length, cut by a reset, or an
 * XML/JSON error document where audio was expected. A fresh download may succeed.
 */
export class IncompleteDownloadError extends CallvaultError {
  readonly retryable = true;
}

/**
 * A download that grew past the account's `maxDownloadBytes` (or announced it would). Fetching
 * it again would only fill the store again.
 */
export class DownloadTooLargeError extends CallvaultError {
  readonly retryable = false;
}

/**
 * The provider pointed a request at an address callvault never connects to: private, loopback,
 * link-local or metadata, neither the configured host nor an allowed download host.
 */
export class ForbiddenAddressError extends CallvaultError {
  readonly retryable = false;
}

/** A webhook body that cannot be turned into a recording reference. */
export class WebhookParseError extends CallvaultError {
  readonly retryable = false;
}

/** The downloaded bytes are not audio in a format we know (WAV, MP3, ZIP, Ogg, FLAC). */
export class InvalidAudioError extends CallvaultError {
  readonly retryable = false;
}

/** The recording was still not ready when its readiness deadline passed. */
export class ReadinessDeadlineError extends CallvaultError {
  readonly retryable = false;
}

/** A sweep could not hand every recording to the workflow; the cursor stopped before the first. */
export class SweepIncompleteError extends CallvaultError {
  readonly retryable = true;
}

/** The retry job could not hand some failed recordings over again; the next run tries them. */
export class RetryHandOverError extends CallvaultError {
  readonly retryable = true;
}

/** A CLI or API request that cannot be served as asked (unknown id, no archive yet). */
export class UsageError extends CallvaultError {
  readonly retryable = false;
}

/** A file of the local data directory that cannot be used as it is (a damaged journal). Names it. */
export class DataDirectoryError extends CallvaultError {
  readonly retryable = false;
}

/**
 * S3 or DynamoDB throttled the call or was briefly unavailable (SlowDown, ThrottlingException,
 * 503) after the SDK's own retries: the workflow retries the step later.
 */
export class AwsThrottledError extends CallvaultError {
  readonly retryable = true;
}

/** The object is under legal hold or inside its retention: it may not be deleted or overwritten. */
export class ObjectLockedError extends CallvaultError {
  readonly retryable = false;
}

/** An archived object is missing or its bytes no longer match the index. */
export class ArchiveVerificationError extends CallvaultError {
  readonly retryable = false;
}
