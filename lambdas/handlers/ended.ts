/**
 * EventBridge target for ingest executions that timed out, were aborted or failed outside the
 * workflow's own Catch: records them as `failed` in the index.
 */

import type { Logger } from '../core/log.ts';
import type { ExecutionHistory } from '../core/ports.ts';
import {
  type ExecutionStatusChange,
  recordStoppedExecution,
  type StoppedExecutionDeps,
} from '../core/stopped-execution.ts';
import { environmentHistory, environmentIndex, environmentLedger, environmentLogger } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

export interface ExecutionStatusChangeEvent {
  'detail-type'?: string;
  detail: ExecutionStatusChange;
}

export const createEndedHandler = (deps: StoppedExecutionDeps & { logger: Logger }) => {
  const { history } = deps;
  // Unreadable history (throttled, not granted) must not stop the entry from being written: it
  // is written with what the input knew, which the next round can still archive from.
  const tolerantHistory: ExecutionHistory | undefined = history && {
    lastState: (executionArn) =>
      history.lastState(executionArn).catch((error: Error) => {
        deps.logger.warn('execution history unreadable; the entry keeps what the input knew', {
          execution: executionArn,
          error: error.name,
        });
        return undefined;
      }),
  };
  return async (event: ExecutionStatusChangeEvent) => {
    const recorded = await recordStoppedExecution(event.detail, { ...deps, history: tolerantHistory });
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
};

export const handler = lambdaHandler(
  'ended',
  builtOnce(() =>
    createEndedHandler({
      index: environmentIndex(),
      ledger: environmentLedger(),
      history: environmentHistory(),
      logger: environmentLogger(),
    }),
  ),
);
