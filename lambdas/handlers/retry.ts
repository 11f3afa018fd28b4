/** Scheduled retry of failed recordings (EventBridge passes `{}` or `{ "accountId": "..." }`). */
import { retryConfig } from '../core/config.ts';
import { RetryHandOverError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { ENV_VARS } from '../core/names.ts';
import type { ComplianceIndex } from '../core/ports.ts';
import {
  noteRetryLimitReported,
  RETRIES_EXHAUSTED_MESSAGE,
  type RetryDeps,
  type RetryRequest,
  retryFailed,
} from '../core/retry.ts';
import { environmentIndex, environmentLogger, environmentStarter } from './environment.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

/**
 * The run fails (Lambda's Errors, the alarm) when a failed recording could not be handed over:
 * an hourly job that starts nothing would otherwise reach nobody.
 */
export const createRetryHandler =
  (deps: RetryDeps & { index: ComplianceIndex; logger: Logger }) =>
  async (event: RetryRequest | undefined) => {
    const result = await retryFailed(event ?? {}, deps);
    deps.logger.info('retry of failed recordings done', {
      failed: result.failed,
      started: result.started.length,
      running: result.running.length,
      notDue: result.notDue,
      atRetryLimit: result.exhausted.length,
      errors: result.errors.length,
    });
    if (result.newlyExhausted.length > 0) {
      deps.logger.error(RETRIES_EXHAUSTED_MESSAGE, {
        exhausted: result.newlyExhausted.length,
        ids: result.newlyExhausted.slice(0, 20).map((entry) => entry.id),
      });
      await noteRetryLimitReported(deps.index, result.newlyExhausted);
    }
    for (const failure of result.errors) {
      deps.logger.error('a failed recording could not be handed over', failure);
    }
    if (result.errors.length > 0) {
      throw new RetryHandOverError(
        `${result.errors.length} failed recordings could not be handed over again (first: ${result.errors[0]?.id}); the next run tries them`,
      );
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
