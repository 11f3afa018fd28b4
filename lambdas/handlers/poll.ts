/** Scheduled sweep of one account (EventBridge passes `{ "accountId": "..." }`). */
import { ConfigError } from '../core/errors.ts';
import { sweepAccount } from '../core/sweep.ts';
import { type Runtime, runtimeFromEnvironment } from './runtime.ts';

export interface PollEvent {
  accountId: string;
}

export const createPollHandler = (runtime: Runtime) => async (event: PollEvent) => {
  if (!event?.accountId) throw new ConfigError('the poll event needs an "accountId"');
  const result = await sweepAccount({
    adapter: await runtime.adapterFor(event.accountId),
    index: runtime.index,
    starter: runtime.starter,
  });
  runtime.logger.info('sweep done', { ...result, started: result.started.length });
  return result;
};

export const handler = (event: PollEvent) => createPollHandler(runtimeFromEnvironment())(event);
