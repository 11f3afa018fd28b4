/**
 * Handing a recording to the ingest workflow, shared by sweeps and webhooks: one execution per
 * recording and retry round, named deterministically, so Step Functions refuses duplicates.
 */
import { executionName } from './ids.ts';
import type { IngestState } from './ingest.ts';
import type { IndexEntry, WorkflowStarter } from './ports.ts';
import type { Recording } from './recording.ts';

/** A listing entry larger than this travels without its raw record (Step Functions caps state at 256 KB). */
const MAX_HANDED_RAW_CHARS = 4_000;

/** Rounds tried past executions that ended without recording any outcome. */
const MAX_LOST_ROUNDS = 5;

export type HandOver =
  | { outcome: 'started'; name: string }
  | { outcome: 'running'; name: string }
  | { outcome: 'done' };

/**
 * The execution input for a recording a sweep listed: its reference plus everything the listing
 * said, so the readiness check does not ask the provider for it again.
 */
export function listedState(recording: Recording): IngestState {
  const { accountId, provider, providerRecordingId, callId, raw, ...fields } = recording;
  const hints: NonNullable<IngestState['hints']> = Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  );
  if (raw !== undefined && (JSON.stringify(raw)?.length ?? 0) <= MAX_HANDED_RAW_CHARS) hints.raw = raw;
  return { ref: { accountId, provider, providerRecordingId, callId }, hints };
}

/**
 * The first retry round to use, given the recording's index entry; undefined once archived (or
 * erased: an erased recording is never archived again).
 * Every outcome written (failed, or skipped as gone) names the round that wrote it, so the next
 * hand-over starts after it: a recording re-offered any number of times always gets a fresh
 * name, and only executions that ended writing nothing at all are stepped over below.
 */
export function firstRound(entry: IndexEntry | undefined): number | undefined {
  if (!entry) return 0;
  if (entry.status === 'archived' || entry.status === 'erased') return undefined;
  if (entry.round !== undefined) return entry.round + 1;
  // Written before entries carried their round: failures counted the failed rounds only.
  const failures = entry.failures ?? (entry.status === 'failed' ? 1 : 0);
  return entry.status === 'failed' ? failures : failures + 1;
}

/**
 * Starts the recording's execution. If one of that name exists and is still running, nothing
 * more is needed; if it ended, yet the index holds no newer outcome, its outcome was lost (its
 * last step failed too) and the next round is started, so the recording is never stranded.
 */
export async function handOver(
  input: IngestState,
  entry: IndexEntry | undefined,
  starter: WorkflowStarter,
): Promise<HandOver> {
  const first = firstRound(entry);
  if (first === undefined) return { outcome: 'done' };
  for (let round = first; round < first + MAX_LOST_ROUNDS; round += 1) {
    const name = executionName(input.ref, round);
    // The execution carries its round (absent means 0), so the outcome it writes names it.
    const carried = round > 0 ? { ...input, round } : input;
    if ((await starter.start(name, carried)) === 'started') return { outcome: 'started', name };
    if ((await starter.status(name)) !== 'ended') return { outcome: 'running', name };
  }
  throw new Error(
    `${MAX_LOST_ROUNDS} executions for recording ${input.ref.providerRecordingId} ended without recording an outcome`,
  );
}
