/**
 * The retry job: every `failed` entry of the index (the sparse byStatus GSI, whatever the
 * recording's age), handed over again once its backoff has passed, through the same hand-over
 * as sweeps and webhooks. A recording stops being retried when it is archived, skipped as gone,
 * or has failed `maxAttempts` times; then it stays `failed` with its reason.
 */
import type { RetryConfig } from './config.ts';
import { handOver } from './hand-over.ts';
import type { IngestState } from './ingest.ts';
import type { ComplianceIndex, IndexEntry, RecordingIndex, WorkflowStarter } from './ports.ts';
import { describedOf, refOf } from './recording.ts';

/** The log message the stack's metric filter counts (the "retries exhausted" alarm). */
export const RETRIES_EXHAUSTED_MESSAGE = 'failed recordings reached the retry limit';

/** The execution input that hands an index entry's recording over again, with what it knows. */
export function retryInput(entry: IndexEntry): IngestState {
  const hints = describedOf(entry);
  return Object.keys(hints).length > 0 ? { ref: refOf(entry), hints } : { ref: refOf(entry) };
}

export interface RetryDeps {
  index: RecordingIndex;
  starter: WorkflowStarter;
  retry: RetryConfig;
  now?: () => Date;
}

export interface RetryRequest {
  /** Only this account's failed entries. */
  accountId?: string;
  /** Only this entry: retried now, whatever its backoff and attempts (someone asked for it). */
  id?: string;
  /** Ignore the backoff (the CLI runs the job now); the attempt limit still holds. */
  ignoreBackoff?: boolean;
}

export interface RetryResult {
  /** Failed entries looked at. */
  failed: number;
  /** Executions started. */
  started: string[];
  /** Executions of the entry's round found still running (started by another path first). */
  running: string[];
  /** Not due yet: their backoff has not passed. */
  notDue: number;
  /** Ids of entries that reached maxAttempts: they stay failed with their reason. */
  exhausted: string[];
  /**
   * Of them, the ones not reported yet at this many failures: the alarm counts these, as it
   * notifies only when it changes state (a count of every exhausted entry would never drop).
   */
  newlyExhausted: { id: string; failures: number }[];
  /** Entries that could not be handed over (the reason per id). */
  errors: { id: string; reason: string }[];
}

/** When the next retry of a failed entry is due: the backoff counts from its last failure. */
export function retryDueAt(entry: IndexEntry, retry: RetryConfig): Date {
  const failures = Math.max(1, entry.failures ?? 1);
  const delaySeconds = Math.min(retry.maxDelaySeconds, retry.initialDelaySeconds * 2 ** (failures - 1));
  return new Date(Date.parse(entry.updatedAt) + delaySeconds * 1000);
}

export async function retryFailed(request: RetryRequest, deps: RetryDeps): Promise<RetryResult> {
  const now = deps.now?.() ?? new Date();
  const result: RetryResult = {
    failed: 0,
    started: [],
    running: [],
    notDue: 0,
    exhausted: [],
    newlyExhausted: [],
    errors: [],
  };

  const retryOne = async (entry: IndexEntry, forced: boolean) => {
    result.failed += 1;
    const failures = entry.failures ?? 1;
    if (!forced && failures >= deps.retry.maxAttempts) {
      result.exhausted.push(entry.id);
      if ((entry.retryLimitReported ?? 0) < failures) result.newlyExhausted.push({ id: entry.id, failures });
      return;
    }
    const due = retryDueAt(entry, deps.retry);
    if (!forced && !request.ignoreBackoff && due > now) {
      result.notDue += 1;
      return;
    }
    try {
      const handed = await handOver(retryInput(entry), entry, deps.starter);
      if (handed.outcome === 'started') result.started.push(handed.name);
      else if (handed.outcome === 'running') result.running.push(handed.name);
    } catch (error) {
      result.errors.push({ id: entry.id, reason: (error as Error).message });
    }
  };

  if (request.id) {
    const entry = await deps.index.get(request.id);
    if (entry?.status === 'failed' && (!request.accountId || entry.accountId === request.accountId))
      await retryOne(entry, true);
    return result;
  }
  let cursor: string | undefined;
  do {
    const page = await deps.index.listFailed({ accountId: request.accountId, cursor });
    for (const entry of page.items) await retryOne(entry, false);
    cursor = page.cursor;
  } while (cursor);
  return result;
}

/**
 * Notes on each entry that it was reported at its retry limit, once the report is out (a run that
 * dies in between reports it again next time, rather than never). An entry that changed since
 * (retried, archived) is left as it is.
 */
export async function noteRetryLimitReported(
  index: ComplianceIndex,
  exhausted: RetryResult['newlyExhausted'],
): Promise<void> {
  for (const { id, failures } of exhausted) {
    await index.patch(id, { retryLimitReported: failures }, { expectStatus: 'failed' });
  }
}
