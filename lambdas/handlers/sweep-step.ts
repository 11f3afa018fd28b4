/**
 * One unit of an account's sweep workflow (see lambdas/core/sweep.ts). The workflow passes its
 * state and the execution's name, which holds the account's lease.
 */
import { ConfigError } from '../core/errors.ts';
import { jsonLogger } from '../core/log.ts';
import { type SweepRequest, type SweepState, sweepSettings, sweepStep } from '../core/sweep.ts';
import {
  environmentAdapters,
  environmentIndex,
  environmentLedger,
  environmentStarter,
  environmentSweepStarter,
} from './environment.ts';
import { once, type Runtime } from './runtime.ts';

export interface SweepStepEvent {
  state: SweepRequest & Partial<SweepState>;
  /** `$$.Execution.Name`. */
  execution: string;
}

export type SweepStepHandlerDeps = Pick<
  Runtime,
  'adapterFor' | 'index' | 'starter' | 'ledger' | 'sweepStarter' | 'logger'
>;

export const createSweepStepHandler = (runtime: SweepStepHandlerDeps) => async (event: SweepStepEvent) => {
  if (!event?.state?.accountId) throw new ConfigError('the sweep needs an "accountId"');
  const adapter = await runtime.adapterFor(event.state.accountId);
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
  if (state.status !== 'running') runtime.logger.info(`sweep ${state.status}`, { ...state });
  return state;
};

const fromEnvironment = once(() =>
  createSweepStepHandler({
    adapterFor: environmentAdapters(),
    index: environmentIndex(),
    ledger: environmentLedger(),
    starter: environmentStarter(),
    sweepStarter: environmentSweepStarter(),
    logger: jsonLogger,
  }),
);

export const handler = (event: SweepStepEvent) => fromEnvironment()(event);
