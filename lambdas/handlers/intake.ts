/** `POST /webhooks/{accountId}`: a provider's "recording ready" callback. */
import { UnknownAccountError } from '../core/errors.ts';
import { type IntakeDeps, receiveWebhook } from '../core/intake.ts';
import type { Logger } from '../core/log.ts';
import { type Metrics, UNKNOWN_DIMENSION } from '../core/metrics.ts';
import {
  environmentAccounts,
  environmentAdapters,
  environmentIndex,
  environmentLogger,
  environmentMetrics,
  environmentStarter,
} from './environment.ts';
import { type HttpEvent, type HttpResult, jsonResult, lowerCaseHeaders, rawBody } from './http.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

export const createIntakeHandler =
  (runtime: IntakeDeps & { logger: Logger; metrics: Metrics }) =>
  async (event: HttpEvent): Promise<HttpResult> => {
    const accountId = event.pathParameters?.accountId ?? '';
    const bytes = rawBody(event);
    const answer = await receiveWebhook(
      { accountId, body: bytes.toString('utf8'), bytes, headers: lowerCaseHeaders(event) },
      runtime,
    );
    const { message, ...counts } = answer.body;
    runtime.logger.info('webhook', {
      account: accountId,
      status: answer.statusCode,
      answer: message,
      ...counts,
    });
    if (answer.statusCode >= 400) {
      // An unknown account is answered 401 like a wrong secret; its id (the caller's path) must
      // not mint metric dimensions.
      const account = await runtime.accounts.get(accountId).catch((error: unknown) => {
        if (error instanceof UnknownAccountError) return undefined;
        throw error;
      });
      runtime.metrics.add('WebhooksRejected', 1, {
        account: account?.id ?? UNKNOWN_DIMENSION,
        provider: account?.provider ?? UNKNOWN_DIMENSION,
      });
    }
    const challenge =
      answer.statusCode === 401 ? { 'www-authenticate': 'Basic realm="callvault"' } : undefined;
    return jsonResult(answer.statusCode, answer.body, challenge);
  };

export const handler = lambdaHandler(
  'intake',
  builtOnce(() =>
    createIntakeHandler({
      accounts: environmentAccounts(),
      adapterFor: environmentAdapters(),
      index: environmentIndex(),
      starter: environmentStarter(),
      logger: environmentLogger(),
      metrics: environmentMetrics(),
    }),
  ),
);
