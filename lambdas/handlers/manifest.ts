/**
 * Daily manifests: every UTC day from the one after the newest manifest through yesterday, each
 * chained to the one before, so a night that failed is made up the next night.
 */
import type { Logger } from '../core/log.ts';
import { writeManifests } from '../core/manifest.ts';
import type { ComplianceStore, RecordingIndex } from '../core/ports.ts';
import { environmentIndex, environmentLogger, environmentStore } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

export interface ManifestHandlerDeps {
  index: RecordingIndex;
  store: ComplianceStore;
  logger: Logger;
  now?: () => Date;
  /** Days written at most per invocation (default MANIFEST_DAYS_PER_RUN). */
  maxDays?: number;
}

/**
 * A month of catch-up per night: a long outage is made up over a few nights rather than in one
 * invocation that may not fit its 15 minutes. The time box stops it sooner on busy days.
 */
export const MANIFEST_DAYS_PER_RUN = 31;

/** Kept free at the end of the invocation: no day is started that the slowest so far would not fit. */
export const MANIFEST_MARGIN_MS = 60_000;

/** `date` writes the days through that one (refused if it has a manifest, or one after it has). */
export const createManifestHandler =
  (deps: ManifestHandlerDeps) =>
  async (event?: { date?: string }, context?: { getRemainingTimeInMillis(): number }) => {
    const run = await writeManifests(deps, {
      through: event?.date,
      maxDays: deps.maxDays ?? MANIFEST_DAYS_PER_RUN,
      ...(context
        ? { timeBox: { deadline: Date.now() + context.getRemainingTimeInMillis() - MANIFEST_MARGIN_MS } }
        : {}),
    });
    // One item per day written; the last also names the days left to the next run, if any.
    for (const [position, written] of run.written.entries()) {
      const last = position === run.written.length - 1;
      const left = last && run.remaining ? { leftToNextRun: run.remaining } : {};
      deps.logger[left.leftToNextRun ? 'warn' : 'info']('manifest written', { ...written, ...left });
    }
    return { days: run.written.map((written) => written.date), ...run };
  };

export const handler = lambdaHandler(
  'manifest',
  builtOnce(() =>
    createManifestHandler({
      index: environmentIndex(),
      store: environmentStore(),
      logger: environmentLogger(),
    }),
  ),
);
