/**
 * The metrics callvault emits, in one place: the functions emit them (Powertools EMF in Lambda)
 * and the stack's alarms and dashboard read them, both from these names, units and dimensions.
 */
export const METRICS_NAMESPACE = 'callvault';

/**
 * Powertools adds a `service` dimension to every metric; a fixed value keeps the dimension sets
 * the same in every function, so the alarms find them.
 */
export const METRICS_SERVICE = 'callvault';

export type MetricUnit = 'Count' | 'Bytes' | 'Seconds';

export const METRICS = {
  RecordingsArchived: { unit: 'Count', description: 'recordings archived' },
  BytesArchived: { unit: 'Bytes', description: 'audio bytes archived' },
  ArchiveFailures: { unit: 'Count', description: 'recordings indexed as failed' },
  RecordingsSkipped: { unit: 'Count', description: 'recordings skipped (gone at the provider)' },
  ArchiveLatencySeconds: { unit: 'Seconds', description: 'recording end → archived' },
  SweepListed: { unit: 'Count', description: 'recordings a sweep listed' },
  SweepStarted: { unit: 'Count', description: 'ingest executions a sweep started' },
  WebhooksRejected: { unit: 'Count', description: 'webhook calls answered 4xx' },
  SweepSucceeded: { unit: 'Count', description: 'sweeps that completed' },
  SweepLagSeconds: { unit: 'Seconds', description: 'time since the previous successful sweep' },
} as const satisfies Record<string, { unit: MetricUnit; description: string }>;

export type MetricName = keyof typeof METRICS;

/**
 * The daily compliance jobs' metrics, one EMF line per run (handlers/emf.ts): per account where
 * one is checked, and per job (`stage`), so one alarm per job covers every account.
 */
export const JOB_METRICS = {
  ReconcileGaps: { unit: 'Count', description: 'gaps reconcile found' },
  NewReconcileGaps: {
    unit: 'Count',
    description: "gaps reconcile found that the day before's report did not have",
  },
  ExpiringRecordings: { unit: 'Count', description: 'unarchived recordings the provider deletes soon' },
  VerifiedPassAgeSeconds: {
    unit: 'Seconds',
    description:
      "since the last complete re-read of the account's archive started (or the pass under way, if none completed)",
  },
  DeletedAtSource: { unit: 'Count', description: 'recordings deleted at the provider' },
  DeleteAtSourceUnverified: {
    unit: 'Count',
    description: 'archives due for delete-at-source that did not verify',
  },
  DeleteAtSourceFailed: { unit: 'Count', description: 'deletions the provider refused or failed' },
  DeleteAtSourceRemaining: { unit: 'Count', description: "due, left to the next run by this run's time box" },
} as const satisfies Record<string, { unit: MetricUnit; description: string }>;

export type JobMetricName = keyof typeof JOB_METRICS;

/** Metrics a log metric filter derives from a logged event: no dimensions. */
export const LOG_METRICS = {
  RetriesExhausted: { unit: 'Count', description: 'failed recordings that reached the retry limit' },
} as const satisfies Record<string, { unit: MetricUnit; description: string }>;

/** Dimension names, as they appear in CloudWatch. */
export const DIMENSIONS = {
  service: 'service',
  account: 'account',
  provider: 'provider',
  stage: 'stage',
} as const;

/** Each metric is published twice: per account (and its provider) and for the whole service. */
export const DIMENSION_SETS = [
  [DIMENSIONS.service, DIMENSIONS.account, DIMENSIONS.provider],
  [DIMENSIONS.service],
] as const;

/** For a call that names no configured account: a fixed value, so no caller can mint dimensions. */
export const UNKNOWN_DIMENSION = '(unknown)';

export interface MetricDimensions {
  account: string;
  provider: string;
}

/**
 * The dimensions a metric is read under, for one of `DIMENSION_SETS`: one account (with its
 * provider), or the whole service. The alarms, the dashboard and `status --deployed` all ask this.
 */
export function metricDimensions(
  account: { id: string; provider: string } | 'service',
): Record<string, string> {
  if (account === 'service') return { [DIMENSIONS.service]: METRICS_SERVICE };
  return {
    [DIMENSIONS.service]: METRICS_SERVICE,
    [DIMENSIONS.account]: account.id,
    [DIMENSIONS.provider]: account.provider,
  };
}

/** The port the handlers emit through. */
export interface Metrics {
  add(name: MetricName, value: number, dimensions: MetricDimensions): void;
}

export const silentMetrics: Metrics = { add() {} };

/** Seconds from the end of the call (its start plus duration, if no end is known) to `archivedAt`. */
export function archiveLatencySeconds(entry: {
  startedAt?: string;
  endedAt?: string;
  durationSec?: number;
  archivedAt?: string;
}): number | undefined {
  const archived = entry.archivedAt ? Date.parse(entry.archivedAt) : Number.NaN;
  const ended = entry.endedAt
    ? Date.parse(entry.endedAt)
    : entry.startedAt
      ? Date.parse(entry.startedAt) + (entry.durationSec ?? 0) * 1000
      : Number.NaN;
  if (!Number.isFinite(archived) || !Number.isFinite(ended)) return undefined;
  return Math.max(0, (archived - ended) / 1000);
}
