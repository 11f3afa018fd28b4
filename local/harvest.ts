/**
 * One sweep over every configured account on the local stack, waiting until every execution it
 * started or found running has ended, then a summary per account. The same sweep and ingest
 * workflows as in AWS.
 */
import { describeError, type IngestState } from '../lambdas/core/ingest.ts';
import type { IngestOutcome } from '../lambdas/core/ports.ts';
import type { EndedExecution, LocalStack } from './stack.ts';

export interface AccountSummary {
  accountId: string;
  provider: string;
  listed: number;
  archived: number;
  skipped: number;
  failed: number;
  /** Already archived or skipped by an earlier run: nothing was downloaded again. */
  alreadyDone: number;
  /** Per recording that was skipped or failed: why. */
  problems: { providerRecordingId: string; status: IngestOutcome; reason: string }[];
  /** The sweep itself failed (bad credentials, provider down): nothing listed. */
  sweepError?: string;
}

export interface HarvestProgress {
  /** Executions started so far, and how many of them have ended. */
  started: number;
  finished: number;
  account?: string;
}

export interface HarvestOptions {
  onProgress?: (progress: HarvestProgress) => void;
}

export async function harvest(stack: LocalStack, options: HarvestOptions = {}): Promise<AccountSummary[]> {
  const accounts = await stack.runtime.accounts.list();
  const progress: HarvestProgress = { started: 0, finished: 0 };
  const report = () => options.onProgress?.({ ...progress });

  const sweeps = await Promise.all(
    accounts.map(async (account) => {
      const summary: AccountSummary = {
        accountId: account.id,
        provider: account.provider,
        listed: 0,
        archived: 0,
        skipped: 0,
        failed: 0,
        alreadyDone: 0,
        problems: [],
      };
      let handed: string[] = [];
      try {
        // A sweep of the account still running (resumed from an earlier run) is waited for.
        const result = await stack.sweep({ accountId: account.id, waitIfBusy: true });
        summary.listed = result.listed;
        summary.alreadyDone = result.alreadyDone;
        // What the sweep found running (resumed from the journal after a kill, or started by
        // another path first) is this harvest's too: its outcome counts, as for what it started.
        handed = [...new Set([...result.started, ...result.running])];
        progress.started += handed.length;
        report();
      } catch (error) {
        summary.sweepError = (error as Error).message;
      }
      const ended = stack.waitFor(handed, () => {
        progress.finished += 1;
        progress.account = account.id;
        report();
      });
      return { summary, ended };
    }),
  );

  for (const { summary, ended } of sweeps) {
    for (const execution of latestPerRecording(await ended)) {
      const outcome = outcomeOf(execution);
      if (outcome.status === 'archived') summary.archived += 1;
      else if (outcome.status === 'done') summary.alreadyDone += 1;
      else {
        summary[outcome.status] += 1;
        summary.problems.push({
          providerRecordingId: (execution.input as { ref: { providerRecordingId: string } }).ref
            .providerRecordingId,
          status: outcome.status,
          reason: outcome.reason,
        });
      }
    }
  }
  return sweeps.map(({ summary }) => summary);
}

/**
 * The last retry round of each recording among the executions: an execution found running that
 * then failed, while the sweep handed its recording over again, is superseded by the newer
 * round; counting both would count one recording twice.
 */
export function latestPerRecording(executions: readonly EndedExecution[]): EndedExecution[] {
  const latest = new Map<string, { round: number; execution: EndedExecution }>();
  for (const execution of executions) {
    const input = execution.input as IngestState;
    const key = `${input.ref.accountId}\n${input.ref.providerRecordingId}`;
    const round = input.round ?? 0;
    const seen = latest.get(key);
    if (!seen || round > seen.round) latest.set(key, { round, execution });
  }
  return [...latest.values()].map(({ execution }) => execution);
}

/** What an ended execution did, read from its output (or its failure). */
export function outcomeOf(execution: EndedExecution): { status: IngestOutcome | 'done'; reason: string } {
  if (execution.status !== 'SUCCEEDED') {
    return { status: 'failed', reason: execution.cause ?? execution.error ?? execution.status.toLowerCase() };
  }
  const output = execution.output as {
    indexed?: { status: IngestOutcome; reason?: string };
    decision?: string;
  };
  if (!output?.indexed) return { status: 'done', reason: 'already archived' };
  const state = output as { error?: { Error?: string; Cause?: string } };
  return {
    status: output.indexed.status,
    reason: output.indexed.reason ?? describeError(state.error).message,
  };
}

/** True when the harvest found nothing that failed (the CLI's exit status). */
export function harvestSucceeded(summaries: readonly AccountSummary[]): boolean {
  return summaries.every((summary) => !summary.sweepError && summary.failed === 0);
}
