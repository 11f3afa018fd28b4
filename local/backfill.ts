/**
 * `callvault backfill`: archives a window of history through the sweep workflow, one sweep
 * execution per account, named after the window so that a second run (after Ctrl-C or a hard
 * kill) finds the first: the local stack resumes an unfinished execution from its journal, the
 * sweep from its checkpoint, and only the ingest executions that were in flight run again.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EntryStatus, WorkflowStarter } from '../lambdas/core/ports.ts';
import { passKey, type SweepRequest, type SweepState } from '../lambdas/core/sweep.ts';
import { outcomeOf } from './harvest.ts';
import type { EndedExecution, LocalStack } from './stack.ts';

export interface BackfillWindow {
  since: string;
  until?: string;
}

export interface BackfillProgress {
  /** Recordings the sweeps have listed in the window so far. */
  found: number;
  archived: number;
  skipped: number;
  failed: number;
  /** Already archived (or still gone): nothing downloaded. */
  alreadyDone: number;
  bytes: number;
  /** True once every account's listing is complete. */
  listed: boolean;
}

export interface BackfillResult extends BackfillProgress {
  /** Per account whose sweep failed: why. */
  sweepErrors: { accountId: string; reason: string }[];
  problems: { providerRecordingId: string; status: EntryStatus; reason: string }[];
}

/** The sweep execution name for an account's window and round: at most 80 characters. */
export function backfillExecutionName(accountId: string, window: BackfillWindow, round: number): string {
  const digest = createHash('sha256')
    .update(`${window.since}\n${window.until ?? ''}`)
    .digest('hex')
    .slice(0, 12);
  return `backfill-${accountId.slice(0, 48)}-${digest}${round > 0 ? `-r${round}` : ''}`;
}

/**
 * Starts (or finds, if a run before this one started it) the backfill sweep of an account: the
 * first round whose execution is unknown is started; a running one is joined; ended ones are
 * rounds of earlier, completed backfills of the same window.
 */
export async function startBackfillSweep(
  starter: WorkflowStarter,
  request: SweepRequest,
  window: BackfillWindow,
): Promise<string> {
  for (let round = 0; ; round += 1) {
    const name = backfillExecutionName(request.accountId, window, round);
    const status = await starter.status(name);
    if (status === 'running') return name;
    if (status === 'unknown' && (await starter.start(name, request)) === 'started') return name;
  }
}

export async function backfill(
  stack: LocalStack,
  accountIds: readonly string[],
  window: BackfillWindow,
  onProgress: (progress: BackfillProgress) => void = () => {},
): Promise<BackfillResult> {
  // This process's own stack counts every execution it runs, the ones resumed from a killed run
  // included; attached to a `serve`, only what started after the backfill did.
  const since = 'stepFunctions' in stack ? '' : new Date().toISOString();
  const result: BackfillResult = {
    found: 0,
    archived: 0,
    skipped: 0,
    failed: 0,
    alreadyDone: 0,
    bytes: 0,
    listed: false,
    sweepErrors: [],
    problems: [],
  };
  const found = new Map<string, number>();
  const counted = new Set<string>();
  const count = (execution: EndedExecution) => {
    if (counted.has(execution.name)) return;
    counted.add(execution.name);
    const outcome = outcomeOf(execution);
    if (outcome.status === 'done') result.alreadyDone += 1;
    else {
      result[outcome.status] += 1;
      if (outcome.status !== 'archived') {
        result.problems.push({
          providerRecordingId: (execution.input as { ref: { providerRecordingId: string } }).ref
            .providerRecordingId,
          status: outcome.status,
          reason: outcome.reason,
        });
      }
    }
    result.bytes += (execution.output as { archive?: { bytes?: number } } | undefined)?.archive?.bytes ?? 0;
  };
  const report = () => {
    result.found = [...found.values()].reduce((a, b) => a + b, 0);
    onProgress({ ...result });
  };

  const sweeps = accountIds.map(async (accountId) => {
    const request: SweepRequest = { accountId, backfill: { ...window }, waitIfBusy: true };
    const key = passKey(request);
    const watched = new Set<string>();
    const watch = async () => {
      // Ingest executions of this account started since the backfill began, each counted as it ends.
      for (const name of await stack.ingestStartedSince(accountId, since)) {
        if (watched.has(name)) continue;
        watched.add(name);
        void stack.waitFor([name], (ended) => {
          count(ended);
          report();
        });
      }
    };
    try {
      const name = await startBackfillSweep(stack.runtime.sweepStarter, request, window);
      let state: SweepState | undefined;
      const ended = stack.sweepOutcome(name).then((outcome) => {
        state = outcome;
      });
      while (!state) {
        const checkpoint = await stack.runtime.ledger.get(accountId, key);
        if (checkpoint?.active) found.set(accountId, checkpoint.active.listed);
        await watch();
        report();
        await Promise.race([ended, sleep(500)]);
      }
      await ended;
      found.set(accountId, state.progress?.listed ?? found.get(accountId) ?? 0);
      await watch();
      await stack.waitFor([...watched]);
    } catch (error) {
      result.sweepErrors.push({ accountId, reason: (error as Error).message });
    }
  });
  await Promise.all(sweeps);
  result.listed = true;
  report();
  return result;
}

/** True when nothing in the window failed (the CLI's exit status). */
export function backfillSucceeded(result: BackfillResult): boolean {
  return result.sweepErrors.length === 0 && result.failed === 0;
}
