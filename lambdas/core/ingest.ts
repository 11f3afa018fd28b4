/**
 * The three steps of the ingest workflow, provider- and AWS-neutral:
 * check readiness (and decide what the state machine does next), archive (provider → store,
 * counted, hashed, header-checked) and record the outcome in the index.
 * The state machine carries an `IngestState` from step to step.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type AudioFormat, SNIFF_BYTES, sniffAudioFormat } from './audio-format.ts';
import type { ReadinessConfig } from './config.ts';
import { InvalidAudioError, RecordingErasedError } from './errors.ts';
import { objectKeyPrefix, recordingId } from './ids.ts';
import type {
  ArchiveStore,
  IndexEntry,
  IngestOutcome,
  ProviderAdapter,
  ProviderSlots,
  RecordingIndex,
  StoredObject,
  SweepLedger,
} from './ports.ts';
import { withProviderSlot } from './provider-slots.ts';
import { definedOnly, type KnownRecording, type Recording, type RecordingRef } from './recording.ts';

/** What the state machine's Choice state routes on. */
export type Decision = 'archive' | 'wait' | 'skip' | 'timeout' | 'done';

/** Recording metadata carried between steps (the raw provider record is kept out: it can be large). */
export type RecordingSummary = Omit<Recording, 'raw'> & { raw?: string };

export interface ArchiveResult {
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  contentType: string;
  /** True when the object was already in the store and the provider was not asked again. */
  recovered: boolean;
}

export interface IngestState {
  ref: RecordingRef;
  /** What the sweep's listing or the callback told: the check asks the provider only the rest. */
  hints?: KnownRecording;
  /** The retry round of this execution (its name's `-rN`, absent for 0); its outcome names it. */
  round?: number;
  /** Handed over by a sweep: its recorded outcome frees a place in the sweep's pacing. */
  paced?: boolean;
  recording?: RecordingSummary;
  decision?: Decision;
  /** Readiness checks done so far. */
  attempt?: number;
  /** When the first check ran (UTC ISO): the readiness deadline counts from here. */
  firstCheckedAt?: string;
  /** Seconds the Wait state sleeps before the next check. */
  waitSeconds?: number;
  reason?: string;
  archive?: ArchiveResult;
  /** Set by a Catch: `{ Error, Cause }`. */
  error?: { Error?: string; Cause?: string };
}

export interface IngestDeps {
  adapterFor(accountId: string): Promise<ProviderAdapter>;
  index: RecordingIndex;
  store: ArchiveStore;
  readiness: ReadinessConfig;
  /** Bounds checks and downloads in flight per account; none means unbounded. */
  slots?: ProviderSlots;
  now?: () => Date;
}

/** What each step uses of the dependencies. */
export type CheckDeps = Pick<IngestDeps, 'adapterFor' | 'index' | 'readiness' | 'slots' | 'now'>;
export type ArchiveDeps = Pick<IngestDeps, 'adapterFor' | 'store' | 'slots'> & {
  /** Read just before the download: an erasure since CheckReadiness stops the archive. */
  index: Pick<RecordingIndex, 'get'>;
};
export type RecordDeps = Pick<IngestDeps, 'index' | 'now'> & {
  /** The sweeps' in-flight counters (absent: nothing is paced). */
  ledger?: Pick<SweepLedger, 'addInFlight'>;
};

/** What a record step is told: the outcome to index, or `none` (nothing to index, see freePacedPlace). */
export type RecordStepOutcome = IngestOutcome | 'none';

const MAX_RAW_CHARS = 16_000;

/** Step 1: asks the provider whether the recording is ready and decides what happens next. */
export async function checkReadiness(state: IngestState, deps: CheckDeps): Promise<IngestState> {
  const now = deps.now?.() ?? new Date();
  const existing = await deps.index.get(recordingId(state.ref));
  // Only an archived or erased recording is final: one skipped as gone is asked about again when
  // a sweep or a callback starts it anew (Infobip lists a new file only once it is stored). An
  // erased one must never be archived again, whoever starts it.
  if (existing?.status === 'archived') return { ...state, decision: 'done', reason: 'already archived' };
  if (existing?.status === 'erased') return { ...state, decision: 'done', reason: 'erased' };
  const adapter = await deps.adapterFor(state.ref.accountId);
  const recording = await withProviderSlot(deps.slots, adapter.account, () =>
    adapter.get(state.ref, state.hints),
  );
  const summary = summarize(recording, state.hints);
  const attempt = (state.attempt ?? 0) + 1;
  const firstCheckedAt = state.firstCheckedAt ?? now.toISOString();
  const { initialDelaySeconds, maxDelaySeconds, deadlineSeconds } = deps.readiness;
  const elapsedSeconds = (now.getTime() - Date.parse(firstCheckedAt)) / 1000;
  // Always set: the Archive step's Catch for "not ready after all" goes to the Wait state too.
  const backoff = Math.min(maxDelaySeconds, initialDelaySeconds * 2 ** (attempt - 1));
  // Never shorter than the first delay, even right before the deadline: no busy loop.
  const waitSeconds = Math.max(
    initialDelaySeconds,
    Math.min(backoff, Math.ceil(deadlineSeconds - elapsedSeconds)),
  );
  // Archive's Catch sends "listed as ready, but no audio yet" back here: the deadline bounds it.
  const archiveNotReady = state.error?.Error === 'RecordingNotReadyError';
  const next: IngestState = {
    ...state,
    recording: summary,
    attempt,
    firstCheckedAt,
    waitSeconds,
    error: undefined,
  };

  if (recording.readiness === 'gone') return { ...next, decision: 'skip', reason: goneReason(recording) };
  if (recording.readiness === 'ready' && !(archiveNotReady && elapsedSeconds >= deadlineSeconds))
    return { ...next, decision: 'archive' };
  if (elapsedSeconds >= deadlineSeconds) {
    if (recording.readiness === 'ready') {
      return {
        ...next,
        decision: 'timeout',
        reason: `listed as ready, but the audio was still not there after ${deadlineSeconds} s`,
      };
    }
    return {
      ...next,
      decision: 'timeout',
      reason: `still not ready after ${deadlineSeconds} s (provider status: ${recording.providerStatus ?? 'pending'})`,
    };
  }
  return { ...next, decision: 'wait' };
}

/**
 * Step 2: streams the audio from the provider into the store. If an earlier attempt already
 * completed the object (a crash between archive and index), it is re-hashed from the store and
 * the provider is not asked again. Nothing is written unless the body arrives whole: the store
 * only completes an object once the counted, hashed stream ended cleanly.
 */
export async function archiveRecording(state: IngestState, deps: ArchiveDeps): Promise<ArchiveResult> {
  const stored = await findStored(state, deps.store);
  if (stored) {
    const body = await deps.store.read(stored.key);
    const { bytes, sha256 } = await hashStream(body);
    return {
      bucket: stored.bucket,
      key: stored.key,
      bytes,
      sha256,
      contentType: stored.contentType ?? 'application/octet-stream',
      recovered: true,
    };
  }
  return downloadToStore(state, deps);
}

/**
 * This recording's object, if an earlier round stored it. The key's date folder is the start time
 * that round knew, which a later round may not (or may newly) know: every key this round can tell
 * is looked at, its own first, then the hints' date, then `undated/`. So an object stored undated
 * is found once the date is known, and one stored dated is found while the hints (the index's
 * entry, a listing) carry its date.
 */
async function findStored(state: IngestState, store: ArchiveStore): Promise<StoredObject | undefined> {
  const dates = [state.recording?.startedAt, state.hints?.startedAt, undefined];
  for (const prefix of new Set(dates.map((startedAt) => objectKeyPrefix(state.ref, startedAt)))) {
    const found = await store.find(prefix);
    // Only this recording's own object counts as recovered: it names the recording it holds.
    if (found?.metadata?.['callvault-recording-id'] === recordingId(state.ref)) return found;
  }
  return undefined;
}

/**
 * Downloads the recording from the provider into the store under its key, whatever the store
 * holds there (reconcile's repair: a new object version where the bucket is versioned). The key
 * is `prefix` plus the audio's extension; by default the prefix of the recording's start date.
 */
export async function downloadToStore(
  state: IngestState,
  deps: ArchiveDeps,
  prefix = objectKeyPrefix(state.ref, state.recording?.startedAt),
): Promise<ArchiveResult> {
  const adapter = await deps.adapterFor(state.ref.accountId);
  return withProviderSlot(deps.slots, adapter.account, () => streamToStore(state, deps, adapter, prefix));
}

/** The provider half of the archive step: the slot is held until the object is complete. */
async function streamToStore(
  state: IngestState,
  deps: ArchiveDeps,
  adapter: ProviderAdapter,
  prefix: string,
): Promise<ArchiveResult> {
  // The slot may have taken long to come: an erasure in the meantime must not be undone by an
  // object written now (an Object Lock retention would then keep it).
  const entry = await deps.index.get(recordingId(state.ref));
  if (entry?.status === 'erased') {
    throw new RecordingErasedError(
      `recording ${state.ref.providerRecordingId} of account ${state.ref.accountId} was erased at ${entry.erasedAt}: not archived`,
    );
  }
  const download = await adapter.download(state.ref);
  const { head, body } = await peek(download.body, SNIFF_BYTES);
  const format = sniffAudioFormat(head);
  if (!format) {
    download.body.destroy();
    throw new InvalidAudioError(
      `${adapter.who}: recording ${state.ref.providerRecordingId} is not audio (${download.contentType}${download.foreign ? '' : `, starts with ${JSON.stringify(head.toString('latin1').slice(0, 12))}`})`,
    );
  }
  const key = prefix + format.extension;
  await deps.store.write(
    key,
    body,
    format.contentType,
    objectMetadata(state.ref, format),
    download.contentLength,
  );
  const sha256 = download.body.sha256;
  if (sha256 === undefined)
    throw new Error(`download of ${state.ref.providerRecordingId} ended without a digest`);
  return {
    bucket: deps.store.bucket,
    key,
    bytes: download.body.bytes,
    sha256,
    contentType: format.contentType,
    recovered: false,
  };
}

/**
 * What recordOutcome wrote, and whether the index took it: an archived or erased entry, a later
 * round's, or this round's same outcome written already (a retried task) wins instead.
 */
export interface RecordedOutcome {
  entry: IndexEntry;
  written: boolean;
}

/** Step 3: writes the outcome to the index. An archived entry is never overwritten. */
export async function recordOutcome(
  state: IngestState,
  outcome: IngestOutcome,
  deps: RecordDeps,
): Promise<RecordedOutcome> {
  const now = (deps.now?.() ?? new Date()).toISOString();
  const recording = state.recording;
  const entry: IndexEntry = {
    id: recordingId(state.ref),
    accountId: state.ref.accountId,
    provider: state.ref.provider,
    providerRecordingId: state.ref.providerRecordingId,
    callId: recording?.callId ?? state.ref.callId,
    status: outcome,
    startedAt: recording?.startedAt,
    endedAt: recording?.endedAt,
    durationSec: recording?.durationSec,
    from: recording?.from,
    to: recording?.to,
    direction: recording?.direction,
    channels: recording?.channels,
    providerStatus: recording?.providerStatus,
    readiness: recording?.readiness,
    raw: recording?.raw,
    updatedAt: now,
    round: state.round ?? 0,
  };
  if (outcome === 'archived') {
    const archive = state.archive;
    if (!archive) throw new Error('recordOutcome(archived) needs the archive result');
    Object.assign(entry, {
      bucket: archive.bucket,
      key: archive.key,
      bytes: archive.bytes,
      sha256: archive.sha256,
      contentType: archive.contentType,
      container: archive.contentType === 'application/zip' ? 'zip' : undefined,
      archivedAt: now,
    });
  } else {
    const failure = describeError(state.error);
    entry.reason = state.reason ?? failure.message;
    entry.errorName = failure.name;
  }
  const written = await deps.index.put(entry);
  await freePacedPlace(state, deps);
  return { entry, written };
}

/**
 * An execution a sweep handed over frees its place in the sweep's in-flight count as it ends,
 * with an outcome or without one (found archived or erased). Advisory: a decrement lost here
 * leaves the count high until the sweep finds it stale; one done twice leaves it low.
 */
export async function freePacedPlace(state: IngestState, deps: Pick<RecordDeps, 'ledger'>): Promise<void> {
  if (!state.paced || !deps.ledger) return;
  await deps.ledger.addInFlight(state.ref.accountId, -1).catch(() => undefined);
}

function summarize(recording: Recording, hints: IngestState['hints']): RecordingSummary {
  const { raw, ...fields } = recording;
  const merged: RecordingSummary = { ...hints, ...definedOnly(fields) } as RecordingSummary;
  const rawJson = raw === undefined ? undefined : JSON.stringify(raw);
  merged.raw = rawJson && rawJson.length > MAX_RAW_CHARS ? `${rawJson.slice(0, MAX_RAW_CHARS)}…` : rawJson;
  return merged;
}

function goneReason(recording: Recording): string {
  return recording.providerStatus
    ? `gone at the provider (status: ${recording.providerStatus})`
    : 'gone at the provider (deleted or expired)';
}

/**
 * A Catch hands the state machine `{ Error, Cause }`; in AWS the Cause of a Lambda error is a
 * JSON document with `errorMessage`, in the local interpreter it is the message itself.
 */
export function describeError(error: IngestState['error']): { name?: string; message: string } {
  if (!error) return { message: 'unknown failure' };
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string; errorType?: string };
    if (parsed.errorMessage) return { name: error.Error ?? parsed.errorType, message: parsed.errorMessage };
  } catch {
    // Not JSON: the cause is the message.
  }
  return { name: error.Error, message: cause || error.Error || 'unknown failure' };
}

function objectMetadata(ref: RecordingRef, format: AudioFormat): Record<string, string> {
  return {
    'callvault-account': ref.accountId,
    'callvault-provider': ref.provider,
    'callvault-recording-id': recordingId(ref),
    'callvault-format': format.extension,
  };
}

/**
 * Reads the first `bytes` bytes (or the whole body if shorter) and returns them with a stream of
 * the complete body. Built on the async iterator, not unshift(): a short body may have ended
 * before the head could be pushed back.
 */
async function peek(stream: Readable, bytes: number): Promise<{ head: Buffer; body: Readable }> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const headChunks: Buffer[] = [];
  let length = 0;
  while (length < bytes) {
    const next = await chunks.next();
    if (next.done) break;
    headChunks.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(headChunks);
  async function* whole() {
    if (head.length > 0) yield head;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  return { head, body: Readable.from(whole(), { objectMode: false }) };
}

/** A small stored document (a report, a manifest) as text. */
export async function readText(store: Pick<ArchiveStore, 'read'>, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function hashStream(body: Readable): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
