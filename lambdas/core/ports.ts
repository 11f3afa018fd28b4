/**
 * The interfaces the core works against. `lambdas/aws/` implements them with the AWS SDK (real
 * AWS or the local stack's endpoints); tests may hand in the same real implementations or fakes.
 */
import type { Readable } from 'node:stream';
import type { AccountConfig } from './config.ts';
import type { Direction, ProviderName, Readiness } from './recording.ts';

export type EntryStatus = 'archived' | 'skipped' | 'failed';

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
   * The retry round of the execution that wrote this outcome (its name's `-rN`): the next
   * hand-over starts at the round after it, so an outcome of any kind moves the name on.
   */
  round?: number;
  /** The provider's record as received, JSON. */
  raw?: string;
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
  query(query: IndexQuery): Promise<IndexPage>;
  /** Entries whose status is `failed`, whatever their age (a sparse index), oldest first per page. */
  listFailed(query: { accountId?: string; cursor?: string; limit?: number }): Promise<IndexPage>;
  getCursor(accountId: string): Promise<string | undefined>;
  setCursor(accountId: string, cursor: string): Promise<void>;
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

/** Starts one ingest execution; `exists` when an execution of that name was started before. */
export interface WorkflowStarter {
  start(name: string, input: unknown): Promise<'started' | 'exists'>;
  /** Whether the execution of that name is still running, has ended, or is unknown. */
  status(name: string): Promise<'running' | 'ended' | 'unknown'>;
}

export interface AccountDirectory {
  /** Every configured account (auth may be omitted in the deployed stack until `get`). */
  list(): Promise<AccountConfig[]>;
  /** One account with its credentials; throws ConfigError for an unknown id. */
  get(accountId: string): Promise<AccountConfig>;
}
