/** The provider-neutral model every adapter produces. */
import type { EntryStatus, IndexEntry } from './ports.ts';

export const PROVIDERS = ['infobip', 'dialogtech', 'voipbin', 'restcomm', 'bandwidth'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Every status an index entry can have: the API and the CLI accept these. */
export const ENTRY_STATUSES: readonly EntryStatus[] = ['archived', 'skipped', 'failed', 'erased'];

/** When the call was and between whom, as an index entry says it. */
export const CALL_FIELDS = [
  'startedAt',
  'endedAt',
  'durationSec',
  'from',
  'to',
  'direction',
] as const satisfies readonly (keyof IndexEntry)[];

/**
 * What an entry keeps of the call across rounds (never its readiness or status: those are asked
 * anew), handed to the next round as hints, so it knows the start date the audio was stored under.
 */
const DESCRIBED_FIELDS = [...CALL_FIELDS, 'channels'] as const;

/**
 * `ready`: the audio can be downloaded now. `pending`: still processing at the provider.
 * `gone`: deleted or expired at the provider; it will never become ready.
 */
export type Readiness = 'ready' | 'pending' | 'gone';

export type Direction = 'inbound' | 'outbound' | 'unknown';

/** Enough to find one recording again at its provider. */
export interface RecordingRef {
  accountId: string;
  provider: ProviderName;
  /** The id that is unique per recording at the provider (Infobip: the file id in `url`). */
  providerRecordingId: string;
  /** The provider's call id; Bandwidth needs it to address a recording. */
  callId?: string;
}

/** Only the ref of a recording or an index entry: what hand-over and an adapter's delete are given. */
export function refOf(recording: RecordingRef): RecordingRef {
  const { accountId, provider, providerRecordingId, callId } = recording;
  return callId === undefined
    ? { accountId, provider, providerRecordingId }
    : { accountId, provider, providerRecordingId, callId };
}

export interface Recording extends RecordingRef {
  from?: string;
  to?: string;
  direction: Direction;
  /** UTC ISO-8601 with milliseconds, e.g. `2019-10-21T16:44:40.928Z`. */
  startedAt?: string;
  endedAt?: string;
  durationSec?: number;
  /** File format as the provider names it, lower case: `wav`, `mp3`, `zip`… */
  format?: string;
  channels?: number;
  readiness: Readiness;
  /** The provider's own status word, kept verbatim for audit (`ended`, `complete`, `202`…). */
  providerStatus?: string;
  /** The provider's record as received, for audit. */
  raw: unknown;
}

/**
 * What a sweep's listing or a callback already told about a recording. A readiness check hands
 * it to the adapter, so a provider without a single-recording endpoint is not listed again.
 */
export type KnownRecording = Partial<Omit<Recording, keyof RecordingRef>>;

/** The fields that are set: spread over other fields, it keeps theirs where this one knows nothing. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

/** The DESCRIBED_FIELDS an entry or a round's hints know of the call, and nothing else. */
export function describedOf(source: KnownRecording): KnownRecording {
  return definedOnly(Object.fromEntries(DESCRIBED_FIELDS.map((field) => [field, source[field]])));
}
