/**
 * EventBridge target for ingest executions that timed out, were aborted or failed outside the
 * workflow's own Catch: records them as `failed` in the index.
 */

import type { RecordDeps } from '../core/ingest.ts';
import type { Logger } from '../core/log.ts';
import { type ExecutionStatusChange, recordStoppedExecution } from '../core/stopped-execution.ts';
import { environmentIndex, environmentLedger, environmentLogger } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

export interface ExecutionStatusChangeEvent {
  'detail-type'?: string;
  detail: ExecutionStatusChange;
}

export const createEndedHandler =
  (deps: RecordDeps & { logger: Logger }) => async (event: ExecutionStatusChangeEvent) => {
    const recorded = await recordStoppedExecution(event.detail, deps);
    // Not written: the entry has a final or later outcome already (archived, erased, a retry's).
    if (recorded?.written) {
      deps.logger.warn('execution ended without an outcome; recorded as failed', {
        execution: event.detail.name,
        status: event.detail.status,
        id: recorded.entry.id,
        account: recorded.entry.accountId,
      });
    }
    return { recorded: recorded?.written ?? false };
  };

export const handler = lambdaHandler(
  'ended',
  builtOnce(() =>
    createEndedHandler({
      index: environmentIndex(),
      ledger: environmentLedger(),
      logger: environmentLogger(),
    }),
  ),
);
