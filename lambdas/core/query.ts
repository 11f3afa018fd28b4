/**
 * The search API's core: query-string parameters → an index query (the same query code the CLI
 * uses), and an archived recording → a short-lived URL to its audio.
 */
import { UsageError } from './errors.ts';
import type { EntryStatus, IndexEntry, IndexPage, IndexQuery, RecordingIndex } from './ports.ts';
import { ENTRY_STATUSES, PROVIDERS, type ProviderName } from './recording.ts';
import { toUtcIso } from './time.ts';

/** Index ids are `recordingId`'s: 32 lowercase hex characters. */
const RECORDING_ID = /^[0-9a-f]{32}$/;

/** Whether `id` has the shape of a recording id; anything else names no recording. */
export function isRecordingId(id: string): boolean {
  return RECORDING_ID.test(id);
}

/** A value quoted for a message, cut short: a request may carry kilobytes of it. */
export function quoted(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/**
 * Reads `account, provider, number, status, since, until, limit, cursor`; UsageError names a bad
 * one. `until` is exclusive (entries started before it): `since` equal to `until` is an empty
 * range, `since` after `until` an error.
 */
export function parseRecordingQuery(params: Record<string, string | undefined>): IndexQuery {
  const known = new Set(['account', 'provider', 'number', 'status', 'since', 'until', 'limit', 'cursor']);
  for (const name of Object.keys(params)) {
    if (!known.has(name))
      throw new UsageError(`unknown parameter "${name}" (known: ${[...known].join(', ')})`);
  }
  const time = (name: 'since' | 'until') => {
    const value = params[name];
    if (value === undefined) return undefined;
    const iso = toUtcIso(value);
    if (!iso) throw new UsageError(`"${name}" must be an ISO-8601 time or date, got ${quoted(value)}`);
    // The index orders times as strings: only four-digit years (in UTC) compare as they should.
    if (!/^\d{4}-/.test(iso)) throw new UsageError(`"${name}" must be in the years 0000 to 9999 (UTC)`);
    return iso;
  };
  const { provider, status, limit } = params;
  if (provider !== undefined && !PROVIDERS.includes(provider as ProviderName)) {
    throw new UsageError(`"provider" must be one of ${PROVIDERS.join(', ')}`);
  }
  if (status !== undefined && !ENTRY_STATUSES.includes(status as EntryStatus)) {
    throw new UsageError(`"status" must be one of ${ENTRY_STATUSES.join(', ')}`);
  }
  // Plain decimal digits only: Number() would also take `0x2`, `1e2`, ` 2 ` and `2.0`.
  const pageSize = limit === undefined ? 100 : /^\d{1,4}$/.test(limit) ? Number(limit) : Number.NaN;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new UsageError('"limit" must be a whole number from 1 to 1000');
  }
  const since = time('since');
  const until = time('until');
  if (since !== undefined && until !== undefined && since > until) {
    throw new UsageError(`"since" (${since}) must not be after "until" (${until})`);
  }
  return {
    accountId: params.account,
    provider: provider as ProviderName | undefined,
    number: params.number,
    status: status as EntryStatus | undefined,
    since,
    until,
    limit: pageSize,
    cursor: params.cursor,
  };
}

export async function searchRecordings(
  params: Record<string, string | undefined>,
  index: RecordingIndex,
): Promise<IndexPage> {
  return index.query(parseRecordingQuery(params));
}

export interface AudioUrlSigner {
  /** A GET URL for the object, valid for `expiresInSeconds`. */
  presign(bucket: string, key: string, expiresInSeconds: number): Promise<string>;
}

export interface AudioLink {
  id: string;
  url: string;
  expiresAt: string;
  contentType?: string;
  bytes?: number;
  sha256?: string;
}

/** Why a recording has no audio to hand out: its status, and the reason the index keeps. */
export function notArchivedError(entry: IndexEntry): UsageError {
  return new UsageError(`recording ${entry.id} is ${entry.status}: ${entry.reason ?? 'no audio archived'}`);
}

/** A short-lived link to an archived recording's audio; UsageError when there is none. */
export async function audioLink(
  id: string,
  deps: { index: RecordingIndex; signer: AudioUrlSigner; expiresInSeconds?: number; now?: () => Date },
): Promise<AudioLink | undefined> {
  const entry = await deps.index.get(id);
  if (!entry) return undefined;
  if (entry.status !== 'archived' || !entry.bucket || !entry.key) {
    throw notArchivedError(entry);
  }
  const expiresInSeconds = deps.expiresInSeconds ?? 300;
  const now = deps.now?.() ?? new Date();
  return {
    id,
    url: await deps.signer.presign(entry.bucket, entry.key, expiresInSeconds),
    expiresAt: new Date(now.getTime() + expiresInSeconds * 1000).toISOString(),
    contentType: entry.contentType,
    bytes: entry.bytes,
    sha256: entry.sha256,
  };
}
