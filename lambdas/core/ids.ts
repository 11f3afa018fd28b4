/** Deterministic names: the same recording always gets the same id, execution name and object key. */
import { createHash } from 'node:crypto';
import { ARCHIVE_KEY_PREFIX } from './names.ts';
import type { RecordingRef } from './recording.ts';

/** Where an entry without a start time sorts: before every dated one. */
export const UNDATED = '0000-00-00T00:00:00.000Z';

/**
 * The order the index lists entries in, as one comparable string: start time, then id (unique,
 * so it also marks a position in a listing that resumes after it).
 */
export function listingOrder(entry: { startedAt?: string; id: string }): string {
  return `${entry.startedAt ?? UNDATED}#${entry.id}`;
}

/** 32 hex chars identifying (account, provider recording): the index key and the CLI's `<id>`. */
export function recordingId(ref: Pick<RecordingRef, 'accountId' | 'providerRecordingId'>): string {
  return createHash('sha256')
    .update(`${ref.accountId}\n${ref.providerRecordingId}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The Step Functions execution name: at most 80 characters of [A-Za-z0-9-_], so a duplicate
 * start for the same recording is refused by Step Functions itself. A recording whose earlier
 * executions failed gets a new name per retry round (`-r1`, `-r2`).
 */
export function executionName(
  ref: Pick<RecordingRef, 'accountId' | 'providerRecordingId'>,
  retryRound = 0,
): string {
  const account = ref.accountId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  const base = `${account}-${recordingId(ref)}`;
  return retryRound > 0 ? `${base}-r${retryRound}` : base;
}

/** `recordings/{accountId}/{yyyy}/{mm}/{dd}/` from the UTC start date; `undated/` when unknown. */
export function objectKeyPrefix(ref: RecordingRef, startedAt: string | undefined): string {
  const account = encodeURIComponent(ref.accountId);
  const name = encodeURIComponent(ref.providerRecordingId);
  const date = startedAt?.match(/^(\d{4})-(\d{2})-(\d{2})T/);
  const folder = date ? `${date[1]}/${date[2]}/${date[3]}` : 'undated';
  return `${ARCHIVE_KEY_PREFIX}${account}/${folder}/${name}.`;
}

/** Whether `key` is an object of the recording whose prefix this is: `X.` is also the start of `X.1.wav`, recording `X.1`'s, so only an extension may follow. */
export function isObjectAt(keyPrefix: string, key: string): boolean {
  return key.startsWith(keyPrefix) && /^[A-Za-z0-9]+$/.test(key.slice(keyPrefix.length));
}
