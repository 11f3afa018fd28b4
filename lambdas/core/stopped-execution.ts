/**
 * An ingest execution that ended without its own outcome step (timed out, aborted, or failed
 * outside the workflow's Catch) still leaves a `failed` entry, so the retry job and the alarm
 * see it. Fed by Step Functions' "Execution Status Change" event (EventBridge in AWS, the local
 * runner locally).
 */
import {
  type IngestState,
  type RecordDeps,
  type RecordedOutcome,
  type RecordingSummary,
  recordOutcome,
} from './ingest.ts';
import type { ExecutionHistory } from './ports.ts';
import { describedOf } from './recording.ts';

export type StoppedExecutionDeps = RecordDeps & {
  /**
   * Where the execution's last state is read: what its steps learnt of the call (the readiness
   * check's date) is kept on the entry, so the next round stores the audio under the key this
   * one may have stored it under. Absent, or failing, the input's fields are kept.
   */
  history?: ExecutionHistory;
};

/** The `detail` of a Step Functions "Execution Status Change" event (the fields used). */
export interface ExecutionStatusChange {
  executionArn?: string;
  name: string;
  status: string;
  /** The execution input as a JSON string. */
  input?: string | null;
  error?: string | null;
}

/** The Fail state that follows RecordFailed: its outcome is in the index already. */
const RECORDED_FAILURE = 'IngestFailed';

const STOPPED: Record<string, { errorName: string; reason: string }> = {
  TIMED_OUT: {
    errorName: 'ExecutionTimedOut',
    reason: 'the execution timed out before recording an outcome',
  },
  ABORTED: { errorName: 'ExecutionAborted', reason: 'the execution was stopped before recording an outcome' },
};

export async function recordStoppedExecution(
  detail: ExecutionStatusChange,
  deps: StoppedExecutionDeps,
): Promise<RecordedOutcome | undefined> {
  if (detail.status === 'FAILED' && detail.error === RECORDED_FAILURE) return undefined;
  const stopped =
    STOPPED[detail.status] ??
    (detail.status === 'FAILED'
      ? {
          // Only the error's name: its cause may quote a provider's answer.
          errorName: detail.error || 'States.Runtime',
          reason: `the execution failed (${detail.error || 'States.Runtime'}) before recording an outcome`,
        }
      : undefined);
  if (!stopped) return undefined;
  const input = parseInput(detail.input);
  if (!input) return undefined;
  const round = input.round ?? Number(/-r(\d+)$/.exec(detail.name)?.[1] ?? 0);
  const learnt = detail.executionArn ? await lastRecording(detail.executionArn, deps.history) : undefined;
  const state: IngestState = {
    ...input,
    recording: learnt ?? input.recording ?? describedByHints(input),
    round,
    reason: stopped.reason,
    error: { Error: stopped.errorName, Cause: stopped.reason },
  };
  return recordOutcome(state, 'failed', deps);
}

/** The call as the execution's steps last described it (CheckReadiness's summary), if any. */
async function lastRecording(
  executionArn: string,
  history: ExecutionHistory | undefined,
): Promise<RecordingSummary | undefined> {
  const last = (await history?.lastState(executionArn)) as IngestState | null | undefined;
  return last?.recording?.providerRecordingId ? last.recording : undefined;
}

/**
 * What the execution's input told of the call (a sweep's listing, a callback's fields), kept on
 * the failed entry: the next round is handed it back, so it stores the audio under the same key.
 */
function describedByHints({ ref, hints }: IngestState): RecordingSummary | undefined {
  if (!hints) return undefined;
  return { ...ref, ...describedOf(hints) } as RecordingSummary;
}

function parseInput(input: string | null | undefined): IngestState | undefined {
  try {
    const parsed = JSON.parse(input ?? 'null') as IngestState | null;
    return parsed?.ref?.accountId && parsed.ref.providerRecordingId ? parsed : undefined;
  } catch {
    return undefined;
  }
}
