/**
 * Daily reconcile of every account: the report goes to `reports/reconcile/{yyyy}/{mm}/{dd}.json`
 * in the bucket, and `ReconcileGaps`, `NewReconcileGaps` (not in the day before's report: the
 * alarm's), `ExpiringRecordings` and `VerifiedPassAgeSeconds` per account (and per stage) go out
 * as metrics.
 */
import type { RecordingIndex, VerificationProgressStore } from '../core/ports.ts';
import {
  countNewGaps,
  previousReconcileReport,
  type ReconcileReport,
  type RecordingSource,
  reconcileAccount,
  reconcileReportKey,
  type VerificationReport,
} from '../core/reconcile.ts';
import { emfLine, writeStdout } from './emf.ts';
import { environmentAccountJob } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { type AccountJobDeps, builtOnce } from './runtime.ts';

export interface ReconcileHandlerDeps
  extends AccountJobDeps<RecordingSource, RecordingIndex & VerificationProgressStore> {
  now?: () => Date;
}

/** Kept free at the end of the invocation: the slice of reads under way, then the report. */
export const REPORT_MARGIN_MS = 60_000;

/**
 * With Lambda's context the read-back is time-boxed: each account gets an even share of the time
 * left (what one leaves goes to the next) and resumes its rotating pass on the next day.
 */
export const createReconcileHandler =
  (deps: ReconcileHandlerDeps) =>
  async (_event?: unknown, context?: { getRemainingTimeInMillis(): number }) => {
    const end = context ? Date.now() + context.getRemainingTimeInMillis() - REPORT_MARGIN_MS : undefined;
    const now = deps.now?.() ?? new Date();
    const report: ReconcileReport = { accounts: [] };
    const failed: string[] = [];
    const accounts = await deps.accounts.list();
    const previous = await previousReconcileReport(deps.store, now).catch((error: Error) => {
      // Every gap then counts as new: the alarm may notify again, it never misses one.
      deps.logger.warn('previous reconcile report unreadable', { now: now.toISOString(), error: error.name });
      return undefined;
    });
    for (const [position, account] of accounts.entries()) {
      const verification =
        end === undefined
          ? undefined
          : {
              progress: deps.index,
              deadline: Date.now() + (end - Date.now()) / (accounts.length - position),
            };
      try {
        const { report: checked } = await reconcileAccount({
          account,
          source: await deps.adapterFor(account.id),
          index: deps.index,
          store: deps.store,
          now: () => now,
          verification,
        });
        report.accounts.push(checked);
        const expiring = checked.gaps.filter((gap) => gap.kind === 'expiring').length;
        const before = previous?.accounts.find((reported) => reported.accountId === account.id);
        const metrics: Parameters<typeof emfLine>[1] = {
          ReconcileGaps: checked.gaps.length,
          NewReconcileGaps: countNewGaps(checked.gaps, before),
          ExpiringRecordings: expiring,
        };
        if (checked.verification) metrics.VerifiedPassAgeSeconds = verifiedPassAge(checked.verification, now);
        // Per account, and per stage for the stack's alarms: an alarm per account would put
        // hundreds of accounts past CloudFormation's 500 resources (the report names the account).
        (deps.emit ?? writeStdout)(emfLine({ stage: 'reconcile', account: account.id }, metrics, now));
      } catch (error) {
        failed.push(account.id);
        deps.logger.error('reconcile failed', {
          account: account.id,
          error: (error as Error).name,
          reason: (error as Error).message,
        });
      }
    }
    const key = reconcileReportKey(now);
    await deps.store.putDocument(key, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
    const gaps = report.accounts.reduce((sum, account) => sum + account.gaps.length, 0);
    deps.logger.info('reconcile done', { key, accounts: report.accounts.length, gaps });
    // Every account that could be checked is reported; the failure still counts as the run's error.
    if (failed.length > 0) throw new Error(`reconcile could not check accounts ${failed.join(', ')}`);
    return { key, gaps };
  };

/**
 * How stale the proof is that every archived object still hashes: seconds since the last complete
 * pass started (what it re-read was read after that), or since the pass under way started.
 */
export function verifiedPassAge(verification: VerificationReport, now: Date): number {
  const since = verification.lastPass?.startedAt ?? verification.passStartedAt;
  return Math.max(0, Math.round((now.getTime() - Date.parse(since)) / 1000));
}

export const handler = lambdaHandler(
  'reconcile',
  builtOnce(() => createReconcileHandler(environmentAccountJob())),
);
