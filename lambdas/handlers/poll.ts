/** Scheduled sweep of one account (EventBridge passes `{ "accountId": "..." }`). */
import { ConfigError } from '../core/errors.ts';
import type { Metrics } from '../core/metrics.ts';
import { reportSweep, type SweepJournal } from '../core/status.ts';
import { sweepAccount } from '../core/sweep.ts';
import {
  environmentAdapters,
  environmentIndex,
  environmentLogger,
  environmentMetrics,
  environmentStarter,
  environmentSweeps,
} from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { once, type Runtime } from './runtime.ts';

export interface PollEvent {
  accountId: string;
}

export type PollDeps = Pick<Runtime, 'adapterFor' | 'index' | 'starter' | 'logger'> & {
  sweeps: SweepJournal;
  metrics: Metrics;
};

export const createPollHandler = (runtime: PollDeps) => async (event: PollEvent) => {
  if (!event?.accountId) throw new ConfigError('the poll event needs an "accountId"');
  const adapter = await runtime.adapterFor(event.accountId);
  const account = { id: adapter.account.id, provider: adapter.account.provider };
  try {
    const result = await sweepAccount({ adapter, index: runtime.index, starter: runtime.starter });
    await reportSweep(account, { listed: result.listed, started: result.started.length }, runtime);
    runtime.logger.info('sweep done', { ...result, started: result.started.length });
    return result;
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    runtime.logger.error('sweep failed', {
      account: account.id,
      error: failure.name,
      reason: failure.message,
    });
    // The sweep's own (typed) error is what the invocation reports: a journal write failing on
    // top of it must not replace it.
    await reportSweep(account, { error: failure }, runtime).catch(() => undefined);
    throw error;
  }
};

const fromEnvironment = once(() =>
  createPollHandler({
    adapterFor: environmentAdapters(),
    index: environmentIndex(),
    starter: environmentStarter(),
    logger: environmentLogger(),
    sweeps: environmentSweeps(),
    metrics: environmentMetrics(),
  }),
);

export const handler = lambdaHandler('poll', (event: PollEvent) => fromEnvironment()(event));
