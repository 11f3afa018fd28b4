/**
 * What an operator asks first: per account, when the last sweep ran and how it ended, where the
 * cursor is, how many recordings are archived / failed / skipped, and how old the oldest
 * recording still waiting to be archived (failed, retried by later rounds) is.
 */
import type { Metrics } from './metrics.ts';
import type { RecordingIndex } from './ports.ts';
import type { AccountMetrics } from './status-metrics.ts';

/** The outcome of one sweep, as the sweep workflow records it. */
export interface SweepRun {
  at: string;
  provider: string;
  outcome: 'succeeded' | 'failed';
  listed?: number;
  started?: number;
  /** `ErrorName: message` of a failed sweep (the transport's redacted message). */
  error?: string;
  /** The last successful sweep, kept across failed ones. */
  lastSucceededAt?: string;
}

/** Where sweeps leave their outcome (one record per account, the latest). */
export interface SweepJournal {
  /** Replaces the account's record (keeping `lastSucceededAt`); resolves to the run it replaced. */
  record(accountId: string, run: Omit<SweepRun, 'lastSucceededAt'>): Promise<SweepRun | undefined>;
  last(accountId: string): Promise<SweepRun | undefined>;
  /** Every account that has a record. */
  accounts(): Promise<{ id: string; provider: string }[]>;
}

export interface AccountStatus {
  accountId: string;
  provider: string;
  lastSweep?: SweepRun;
  cursor?: string;
  archived: number;
  failed: number;
  skipped: number;
  erased: number;
  /** Age in seconds of the oldest failed recording (by its start), if any. */
  oldestUnarchivedAgeSeconds?: number;
  /** The deployed stack's CloudWatch figures over the last 24 hours (`status --deployed`). */
  metrics?: AccountMetrics;
}

/** Reads every entry of the account (paged): fine for a laptop's archive, a full read in AWS. */
export async function accountStatus(
  account: { id: string; provider: string },
  deps: { index: RecordingIndex; sweeps: SweepJournal; now?: () => Date },
): Promise<AccountStatus> {
  const now = (deps.now?.() ?? new Date()).getTime();
  const status: AccountStatus = {
    accountId: account.id,
    provider: account.provider,
    lastSweep: await deps.sweeps.last(account.id),
    cursor: await deps.index.getCursor(account.id),
    archived: 0,
    failed: 0,
    skipped: 0,
    erased: 0,
  };
  let oldest: number | undefined;
  let cursor: string | undefined;
  do {
    const page = await deps.index.query({ accountId: account.id, limit: 500, cursor });
    for (const entry of page.items) {
      status[entry.status] += 1;
      if (entry.status === 'failed') {
        const started = Date.parse(entry.startedAt ?? entry.updatedAt);
        if (Number.isFinite(started) && (oldest === undefined || started < oldest)) oldest = started;
      }
    }
    cursor = page.cursor;
  } while (cursor);
  if (oldest !== undefined) status.oldestUnarchivedAgeSeconds = Math.round((now - oldest) / 1000);
  return status;
}

/**
 * Called where a sweep pass ends (the sweep workflow's last unit): records the outcome for `status` and
 * emits the sweep metrics the no-sweep alarm and the dashboard read.
 */
export async function reportSweep(
  account: { id: string; provider: string },
  outcome: { listed: number; started: number } | { error: Error },
  deps: { sweeps: SweepJournal; metrics: Metrics; now?: () => Date },
): Promise<void> {
  const at = (deps.now?.() ?? new Date()).toISOString();
  const dimensions = { account: account.id, provider: account.provider };
  if ('error' in outcome) {
    await deps.sweeps.record(account.id, {
      at,
      provider: account.provider,
      outcome: 'failed',
      error: `${outcome.error.name}: ${outcome.error.message}`,
    });
    return;
  }
  const previous = await deps.sweeps.record(account.id, {
    at,
    provider: account.provider,
    outcome: 'succeeded',
    ...outcome,
  });
  deps.metrics.add('SweepListed', outcome.listed, dimensions);
  deps.metrics.add('SweepStarted', outcome.started, dimensions);
  deps.metrics.add('SweepSucceeded', 1, dimensions);
  if (previous?.lastSucceededAt) {
    deps.metrics.add(
      'SweepLagSeconds',
      (Date.parse(at) - Date.parse(previous.lastSucceededAt)) / 1000,
      dimensions,
    );
  }
}
