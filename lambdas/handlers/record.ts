/**
 * Workflow task: write the outcome (archived, skipped or failed) to the index, or, for an
 * execution that ends with nothing to write (`none`), only free its sweep's pacing place.
 */
import {
  freePacedPlace,
  type IngestState,
  type RecordDeps,
  type RecordStepOutcome,
  recordOutcome,
} from '../core/ingest.ts';
import type { Logger } from '../core/log.ts';
import { archiveLatencySeconds, type Metrics } from '../core/metrics.ts';
import { environmentIndex, environmentLedger, environmentLogger, environmentMetrics } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

export interface RecordEvent {
  state: IngestState;
  outcome: RecordStepOutcome;
}

export const createRecordHandler =
  (deps: RecordDeps & { logger: Logger; metrics: Metrics }) => async (event: RecordEvent) => {
    if (event.outcome === 'none') {
      await freePacedPlace(event.state, deps);
      return { freed: event.state.paced === true };
    }
    const { entry, written } = await recordOutcome(event.state, event.outcome, deps);
    if (!written) {
      // A retried task whose first write landed, or an entry archived or erased meanwhile: what
      // the index holds stands, and nothing is counted twice.
      deps.logger.info('recording outcome not indexed', {
        id: entry.id,
        account: entry.accountId,
        status: entry.status,
      });
      return { id: entry.id, status: entry.status, reason: entry.reason, indexed: false };
    }
    deps.logger.info('recording indexed', {
      id: entry.id,
      account: entry.accountId,
      status: entry.status,
      reason: entry.reason,
    });
    const dimensions = { account: entry.accountId, provider: entry.provider };
    if (entry.status === 'archived') {
      deps.metrics.add('RecordingsArchived', 1, dimensions);
      deps.metrics.add('BytesArchived', entry.bytes ?? 0, dimensions);
      const latency = archiveLatencySeconds(entry);
      if (latency !== undefined) deps.metrics.add('ArchiveLatencySeconds', latency, dimensions);
    } else if (entry.status === 'failed') {
      deps.metrics.add('ArchiveFailures', 1, dimensions);
    } else {
      deps.metrics.add('RecordingsSkipped', 1, dimensions);
    }
    return { id: entry.id, status: entry.status, reason: entry.reason, indexed: true };
  };

export const handler = lambdaHandler(
  'record',
  builtOnce(() =>
    createRecordHandler({
      index: environmentIndex(),
      ledger: environmentLedger(),
      logger: environmentLogger(),
      metrics: environmentMetrics(),
    }),
  ),
);
