/**
 * The interfaces the core works against. `lambdas/aws/` implements the stores with the AWS SDK
 * (real AWS or the local stack's endpoints) and `lambdas/providers/` the provider adapter; tests
 * may hand in the same real implementations or fakes.
 */
import type { Readable } from 'node:stream';
import type { AccountConfig } from './config.ts';
import type {
  Direction,
  KnownRecording,
  ProviderName,
  Readiness,
  Recording,
  RecordingRef,
} from './recording.ts';

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

/**
 * One bounded unit of a listing: one provider request (a page, a Bandwidth time slice, one
 * DialogTech list). `next` is where the following unit starts, opaque to the caller and small
 * enough to checkpoint; absent once the listing is complete.
 */
export interface ListPage {
  recordings: Recording[];
  next?: string;
}

/** The audio bytes as they stream by, counted and SHA-256-hashed. */
export interface MeteredBody extends Readable {
  readonly bytes: number;
  /** Hex SHA-256 of every byte, set once the stream has ended. */
  readonly sha256: string | undefined;
}

export interface AudioDownload {
  /** The audio bytes; read `body.bytes` and `body.sha256` once it has ended. */
  body: MeteredBody;
  contentType: string;
  contentLength?: number;
  /** Another host than the configured one answered (a redirect): its bytes are never quoted. */
  foreign?: boolean;
}

/** What the provider answered to a deletion: its HTTP status, and whether it had it no more. */
export interface DeleteAnswer {
  status: number;
  alreadyGone: boolean;
}

/**
 * The one interface every provider adapter implements. An adapter knows its provider's API and
 * quirks and nothing about S3, DynamoDB or Step Functions.
 */
export interface ProviderAdapter {
  readonly account: AccountConfig;
  /** Who is talking, for messages: `voipbin account "vb-main"`. */
  readonly who: string;

  /**
   * Whether the provider applies a list window itself. When it does not (the whole listing is
   * read and filtered here anyway), a sweep gains nothing by windowing and only risks missing.
   */
  readonly windowedListing: boolean;

  /**
   * One unit of the listing of the window, starting at `position` (a previous page's `next`;
   * undefined for the first). Recordings are in the window; a page may repeat a recording of an
   * earlier page where the provider's pages overlap.
   */
  listPage(window: ListWindow, position?: string): Promise<ListPage>;

  /**
   * Every recording in the window, page by page to the end. Each recording is yielded once even
   * where the provider's pages overlap.
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

  /**
   * Whether the provider's API can delete this recording: Infobip's can delete none (files
   * expire), Bandwidth's no conference recording.
   */
  canDelete(ref: RecordingRef): boolean;

  /**
   * Why this ref cannot be asked for at all (Bandwidth: a call recording without its call id),
   * so a minimal webhook naming it is refused at once instead of failing in the workflow.
   */
  unaddressable?(ref: RecordingRef): string | undefined;

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

/** What the ingest workflow records; `erased` is set only by an erasure and is final. */
export type EntryStatus = 'archived' | 'skipped' | 'failed' | 'erased';
export type IngestOutcome = Exclude<EntryStatus, 'erased'>;

/** Who put a recording under legal hold, when and why. */
export interface LegalHold {
  by: string;
  at: string;
  reason?: string;
}

/** One row of the index: what the CLI, the query API and the sweeps see. */
export interface IndexEntry {
  id: string;
  accountId: string;
  provider: ProviderName;
  providerRecordingId: string;
  callId?: string;
  status: EntryStatus;
  /** Why a recording was skipped or failed. */
  reason?: string;
  /** The error name for a failure (`ProviderAuthError`…). */
  errorName?: string;
  startedAt?: string;
  endedAt?: string;
  durationSec?: number;
  from?: string;
  to?: string;
  direction?: Direction;
  channels?: number;
  providerStatus?: string;
  readiness?: Readiness;
  bytes?: number;
  sha256?: string;
  contentType?: string;
  /** Set when the provider's file is not plain audio (VoIPBin's ZIP). */
  container?: string;
  bucket?: string;
  key?: string;
  archivedAt?: string;
  updatedAt: string;
  /** How many executions ended failed for this recording (the retry job's backoff and limit). */
  failures?: number;
  /**
   * The `failures` at which the retry job reported the entry at its retry limit (the alarm), so
   * that each limit reached is reported once: a forced retry that fails again is reported again.
   */
  retryLimitReported?: number;
  /**
   * The retry round of the execution that wrote this outcome (its name's `-rN`): the next
   * hand-over starts at the round after it, so an outcome of any kind moves the name on.
   */
  round?: number;
  /** The provider's record as received, JSON. */
  raw?: string;
  /** Set while the recording is under legal hold: no erasure, no deletion. */
  legalHold?: LegalHold;
  /** When reconcile's repair last wrote the object again from the provider (`archivedAt` stays). */
  repairedAt?: string;
  /** When callvault deleted the recording at the provider, after verifying the archive. */
  deletedAtSourceAt?: string;
  /** What the provider answered to that deletion. */
  deleteAtSourceAnswer?: string;
  /** When the audio was erased (status `erased`); `reason` says why, `sha256` stays as evidence. */
  erasedAt?: string;
}

export interface IndexQuery {
  accountId?: string;
  provider?: ProviderName;
  /** Matches `from` or `to`. */
  number?: string;
  status?: EntryStatus;
  /** Inclusive lower bound on startedAt (UTC ISO-8601). */
  since?: string;
  /** Exclusive upper bound on startedAt. */
  until?: string;
  limit?: number;
  /** A page ends before its entries' JSON passes this many bytes (with a cursor). */
  maxBytes?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface IndexPage {
  items: IndexEntry[];
  cursor?: string;
}

export interface RecordingIndex {
  get(id: string): Promise<IndexEntry | undefined>;
  getMany(ids: readonly string[]): Promise<Map<string, IndexEntry>>;
  /**
   * Writes the entry unless an `archived` entry already exists, or one written by a later
   * round, or this round already wrote this status (conditional write). Returns false when the
   * existing entry won. Counters survive every write; a `failed` write counts one more failure.
   */
  put(entry: IndexEntry): Promise<boolean>;
  /** Entries in `listingOrder` (ids.ts): by start time, then id. */
  query(query: IndexQuery): Promise<IndexPage>;
  /**
   * Entries archived that UTC day (`yyyy-mm-dd`: `archivedAt` starts with it), read from an index
   * of archive times, so a day costs its own entries, not the whole index. In no particular order;
   * an entry erased since is among them (its `archivedAt` stays).
   */
  archivedOn(day: string): AsyncIterable<IndexEntry>;
  /** Entries whose status is `failed`, whatever their age (a sparse index), oldest first per page. */
  listFailed(query: { accountId?: string; cursor?: string; limit?: number }): Promise<IndexPage>;
  getCursor(accountId: string): Promise<string | undefined>;
  setCursor(accountId: string, cursor: string): Promise<void>;
}

/** Index writes outside the workflow's outcome: compliance fields on an existing entry. */
export interface ComplianceIndex extends RecordingIndex {
  /**
   * Sets `fields` (and removes `remove`) on an existing entry. `expectStatus`, when given, must
   * be the entry's status at write time, else false is returned and nothing changes.
   */
  patch(
    id: string,
    fields: Partial<IndexEntry>,
    options?: { remove?: (keyof IndexEntry)[]; expectStatus?: EntryStatus },
  ): Promise<boolean>;
}

/**
 * Where an account's rotating read-back of archived objects stands (reconcile re-reads the
 * archive a time-boxed slice per run, in listing order, and picks up where the last run stopped).
 */
export interface VerificationProgress {
  /** `listingOrder` of the last entry verified in the pass under way; none: from the start. */
  position?: string;
  /** When the pass under way started; none when the next run starts a new pass. */
  passStartedAt?: string;
  lastPass?: CompletePass;
}

/** A whole pass: every object archived before `startedAt` was re-read by the run started at `completedAt`. */
export interface CompletePass {
  startedAt: string;
  completedAt: string;
}

export interface VerificationProgressStore {
  getVerification(accountId: string): Promise<VerificationProgress | undefined>;
  setVerification(accountId: string, progress: VerificationProgress): Promise<void>;
}

export interface StoredObject {
  bucket: string;
  key: string;
  bytes: number;
  contentType?: string;
  /** The object's user metadata (`callvault-recording-id`…). */
  metadata?: Record<string, string>;
}

export interface ArchiveStore {
  readonly bucket: string;
  /** The object whose key is this prefix (the key minus its extension) plus an extension, if any. */
  find(keyPrefix: string): Promise<StoredObject | undefined>;
  /**
   * Streams a body into one object; resolves only once the object is complete. `contentLength`,
   * when the provider announced it, lets the store send the body without buffering parts.
   */
  write(
    key: string,
    body: Readable,
    contentType: string,
    metadata: Record<string, string>,
    contentLength?: number,
  ): Promise<void>;
  read(key: string): Promise<Readable>;
}

export type RetentionMode = 'governance' | 'compliance';

/** An object's current version with its lock state. */
export interface ObjectState {
  key: string;
  bytes: number;
  /** Undefined where the bucket is not versioned (the local store). */
  versionId?: string;
  lastModified?: string;
  legalHold: boolean;
  retention?: { mode: RetentionMode; until: string };
}

/**
 * What the compliance commands need of the store beyond the workflow's: lock state, versions,
 * deletes and small documents (reports, manifests). Deployed, S3 Object Lock enforces the rules;
 * locally the store enforces the same rules itself.
 */
export interface ComplianceStore extends ArchiveStore {
  head(key: string): Promise<ObjectState | undefined>;
  /** Every object under the prefix, in key order. */
  list(prefix: string): AsyncIterable<{ key: string; bytes: number }>;
  /** One version's bytes (the current one without `versionId`). */
  readVersion(key: string, versionId?: string): Promise<Readable>;
  /** Every stored version id of the key (`null` for the one of an unversioned bucket). */
  versions(key: string): Promise<(string | null)[]>;
  /**
   * Keys under the prefix whose current version is a delete marker: deleted, their locked versions
   * kept. None where the bucket keeps no versions (a delete there removes the object).
   */
  hiddenKeys(prefix: string): AsyncIterable<string>;
  /**
   * Deletes one version. Throws ObjectLockedError for a held object or one inside its retention,
   * unless the retention is governance and `bypassGovernance` is set.
   */
  deleteVersion(
    key: string,
    versionId: string | null,
    options?: { bypassGovernance?: boolean },
  ): Promise<void>;
  setLegalHold(key: string, on: boolean): Promise<void>;
  /** Writes a small document (a report, a manifest) in one PutObject; its version id if any. */
  putDocument(key: string, body: string, contentType: string): Promise<{ versionId?: string }>;
}

/** Starts one ingest execution; `exists` when an execution of that name was started before. */
export interface WorkflowStarter {
  start(name: string, input: unknown): Promise<'started' | 'exists'>;
  /** Whether the execution of that name is still running, has ended, or is unknown. */
  status(name: string): Promise<'running' | 'ended' | 'unknown'>;
}

/** What an ended execution went through, from its history. */
export interface ExecutionHistory {
  /** The state data as the execution left its last state that completed; undefined if none. */
  lastState(executionArn: string): Promise<unknown>;
}

/** A slot held at an account's provider; release it when the requests are done. */
export interface SlotLease {
  release(): Promise<void>;
}

/**
 * Bounds the requests in flight at each account's provider, across every process that shares
 * the store behind it. Slots are leases that expire, so a task that died cannot hold one.
 */
export interface ProviderSlots {
  /** Takes one of the account's `limit` slots, or throws ProviderBusyError when none is free. */
  acquire(accountId: string, limit: number): Promise<SlotLease>;
  /** The provider answered 429: the account gets fewer slots for a while. */
  slowDown(accountId: string, limit: number, retryAfterMs?: number): Promise<void>;
}

export interface AccountDirectory {
  /** Every configured account (auth may be omitted in the deployed stack until `get`). */
  list(): Promise<AccountConfig[]>;
  /** One account with its credentials; throws ConfigError for an unknown id. */
  get(accountId: string): Promise<AccountConfig>;
}

/** Where a sweep pass is: what it lists, how far it got, what it has counted so far. */
export interface SweepCheckpoint {
  passId: string;
  /** `incremental` looks back from the cursor; `deep` lists the whole retention; `backfill` a given window. */
  kind: 'incremental' | 'deep' | 'backfill';
  window: { since?: string; until?: string };
  startedAt: string;
  /** The next listing unit's position (`ListPage.next`); undefined before the first page. */
  position?: string;
  /** The last recording handed over of the page at `position`, while that page is part done. */
  handedThrough?: string;
  pages: number;
  listed: number;
  started: number;
  alreadyDone: number;
  alreadyRunning: number;
  /** The newest start time handed over in this pass: the cursor once the pass completes. */
  newest?: string;
}

/** One account's sweep record for one pass key (`scheduled`, or a backfill's window). */
export interface SweepRecord {
  /** The pass in progress; absent between passes. */
  active?: SweepCheckpoint;
  /** When the last deep pass started (it completed). */
  lastDeepAt?: string;
  lastCompletedAt?: string;
}

/**
 * Sweep checkpoints and the per-account lease that keeps two sweeps of an account from running
 * at once. Stored in the index table beside the cursors.
 */
export interface SweepLedger {
  get(accountId: string, pass: string): Promise<SweepRecord | undefined>;
  put(accountId: string, pass: string, record: SweepRecord): Promise<void>;
  /**
   * Takes or renews the account's lease for `holder` until `now + ttlMs`. False while another
   * holder's lease has not expired.
   */
  acquire(accountId: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if `holder` still has it. */
  release(accountId: string, holder: string): Promise<void>;
  /**
   * Executions a sweep handed over whose outcome is not recorded yet, per account: what paces
   * the sweep (see lambdas/core/sweep.ts). Advisory: a missed decrement is found stale and reset.
   */
  inFlight(accountId: string): Promise<number>;
  addInFlight(accountId: string, delta: number): Promise<void>;
  resetInFlight(accountId: string): Promise<void>;
}
