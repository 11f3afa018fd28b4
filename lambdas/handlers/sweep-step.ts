/**
 * One unit of an account's sweep workflow (see lambdas/core/sweep.ts). The workflow passes its
 * state and the execution's name, which holds the account's lease. Where a pass ends, or a unit
 * fails, the outcome is recorded for `callvault status` and the sweep metrics.
 */
import { ConfigError } from '../core/errors.ts';
import { reportSweep } from '../core/status.ts';
import { type SweepRequest, type SweepState, sweepSettings, sweepStep } from '../core/sweep.ts';
import {
  environmentAdapters,
  environmentIndex,
  environmentLedger,
  environmentLogger,
  environmentMetrics,
  environmentStarter,
  environmentSweepStarter,
  environmentSweeps,
} from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce, type Runtime } from './runtime.ts';

export interface SweepStepEvent {
  state: SweepRequest & Partial<SweepState>;
  /** `$$.Execution.Name`. */
  execution: string;
}

export type SweepStepHandlerDeps = Pick<
  Runtime,
  'adapterFor' | 'index' | 'starter' | 'ledger' | 'sweepStarter' | 'logger' | 'sweeps' | 'metrics'
>;

export const createSweepStepHandler = (runtime: SweepStepHandlerDeps) => async (event: SweepStepEvent) => {
  if (!event?.state?.accountId) throw new ConfigError('the sweep needs an "accountId"');
  const adapter = await runtime.adapterFor(event.state.accountId);
  const account = { id: adapter.account.id, provider: adapter.account.provider };
  try {
    const state = await sweepStep(
      {
        adapter,
        index: runtime.index,
        ledger: runtime.ledger,
        starter: runtime.starter,
        sweepStarter: runtime.sweepStarter,
        settings: sweepSettings(adapter.account),
      },
      event.state,
      event.execution,
    );
    if (state.status === 'done') {
      const progress = state.progress;
      const counts = { listed: progress?.listed ?? 0, started: progress?.started ?? 0 };
      await reportSweep(account, counts, runtime);
      runtime.logger.info('sweep done', {
        accountId: account.id,
        ...counts,
        alreadyDone: progress?.alreadyDone ?? 0,
        alreadyRunning: progress?.alreadyRunning ?? 0,
        cursor: state.cursor,
      });
    }
    return state;
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    runtime.logger.error('sweep failed', {
      account: account.id,
      error: failure.name,
      reason: failure.message,
    });
    // The unit's own (typed) error is what the workflow's Retry/Catch sees: a journal write
    // failing on top of it must not replace it.
    await reportSweep(account, { error: failure }, runtime).catch(() => undefined);
    throw error;
  }
};

export const handler = lambdaHandler(
  'sweep-step',
  builtOnce(() =>
    createSweepStepHandler({
      adapterFor: environmentAdapters(),
      index: environmentIndex(),
      ledger: environmentLedger(),
      starter: environmentStarter(),
      sweepStarter: environmentSweepStarter(),
      logger: environmentLogger(),
      sweeps: environmentSweeps(),
      metrics: environmentMetrics(),
    }),
  ),
);
