/** Scheduled retry of failed recordings (EventBridge passes `{}` or `{ "accountId": "..." }`). */
import { retryConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { ENV_VARS } from '../core/names.ts';
import { RETRIES_EXHAUSTED_MESSAGE, type RetryDeps, type RetryRequest, retryFailed } from '../core/retry.ts';
import { environmentIndex, environmentLogger, environmentStarter } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

export const createRetryHandler =
  (deps: RetryDeps & { logger: Logger }) => async (event: RetryRequest | undefined) => {
    const result = await retryFailed(event ?? {}, deps);
    deps.logger.info('retry of failed recordings done', {
      failed: result.failed,
      started: result.started.length,
      running: result.running.length,
      notDue: result.notDue,
      errors: result.errors.length,
    });
    if (result.exhausted.length > 0) {
      deps.logger.error(RETRIES_EXHAUSTED_MESSAGE, {
        exhausted: result.exhausted.length,
        ids: result.exhausted.slice(0, 20),
      });
    }
    for (const failure of result.errors) {
      deps.logger.error('a failed recording could not be handed over', failure);
    }
    return result;
  };

export const handler = lambdaHandler(
  'retry',
  builtOnce(() =>
    createRetryHandler({
      index: environmentIndex(),
      starter: environmentStarter(),
      retry: retryConfig.parse(JSON.parse(process.env[ENV_VARS.retry] ?? '{}')),
      logger: environmentLogger(),
    }),
  ),
);
