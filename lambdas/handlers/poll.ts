/** Scheduled sweep of one account (EventBridge passes `{ "accountId": "..." }`). */
import { ConfigError } from '../core/errors.ts';
import { jsonLogger } from '../core/log.ts';
import { sweepAccount } from '../core/sweep.ts';
import { environmentAdapters, environmentIndex, environmentStarter } from './environment.ts';
import { once, type Runtime } from './runtime.ts';

export interface PollEvent {
  accountId: string;
}

export type PollDeps = Pick<Runtime, 'adapterFor' | 'index' | 'starter' | 'logger'>;

export const createPollHandler = (runtime: PollDeps) => async (event: PollEvent) => {
  if (!event?.accountId) throw new ConfigError('the poll event needs an "accountId"');
  const result = await sweepAccount({
    adapter: await runtime.adapterFor(event.accountId),
    index: runtime.index,
    starter: runtime.starter,
  });
  runtime.logger.info('sweep done', { ...result, started: result.started.length });
  return result;
};

const fromEnvironment = once(() =>
  createPollHandler({
    adapterFor: environmentAdapters(),
    index: environmentIndex(),
    starter: environmentStarter(),
    logger: jsonLogger,
  }),
);

export const handler = (event: PollEvent) => fromEnvironment()(event);
