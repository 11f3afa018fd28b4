/** Workflow task: write the outcome (archived, skipped or failed) to the index. */
import { type IngestState, recordOutcome } from '../core/ingest.ts';
import type { EntryStatus } from '../core/ports.ts';
import { type Runtime, runtimeFromEnvironment } from './runtime.ts';

export interface RecordEvent {
  state: IngestState;
  outcome: EntryStatus;
}

export const createRecordHandler = (runtime: Runtime) => async (event: RecordEvent) => {
  const entry = await recordOutcome(event.state, event.outcome, runtime);
  runtime.logger.info('recording indexed', {
    id: entry.id,
    account: entry.accountId,
    status: entry.status,
    reason: entry.reason,
  });
  return { id: entry.id, status: entry.status, reason: entry.reason };
};

export const handler = (event: RecordEvent) => createRecordHandler(runtimeFromEnvironment())(event);
