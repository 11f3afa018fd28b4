/** Workflow task: write the outcome (archived, skipped or failed) to the index. */
import { type IngestState, type RecordDeps, recordOutcome } from '../core/ingest.ts';
import { jsonLogger, type Logger } from '../core/log.ts';
import type { IngestOutcome } from '../core/ports.ts';
import { environmentIndex } from './environment.ts';
import { once } from './runtime.ts';

export interface RecordEvent {
  state: IngestState;
  outcome: IngestOutcome;
}

export const createRecordHandler = (deps: RecordDeps & { logger: Logger }) => async (event: RecordEvent) => {
  const entry = await recordOutcome(event.state, event.outcome, deps);
  deps.logger.info('recording indexed', {
    id: entry.id,
    account: entry.accountId,
    status: entry.status,
    reason: entry.reason,
  });
  return { id: entry.id, status: entry.status, reason: entry.reason };
};

const fromEnvironment = once(() => createRecordHandler({ index: environmentIndex(), logger: jsonLogger }));

export const handler = (event: RecordEvent) => fromEnvironment()(event);
