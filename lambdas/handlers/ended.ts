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
    const entry = await recordStoppedExecution(event.detail, deps);
    if (entry) {
      deps.logger.warn('execution ended without an outcome; recorded as failed', {
        execution: event.detail.name,
        status: event.detail.status,
        id: entry.id,
        account: entry.accountId,
      });
    }
    return { recorded: entry !== undefined };
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
