/** `POST /webhooks/{accountId}`: a provider's "recording ready" callback. */
import { type IntakeDeps, receiveWebhook } from '../core/intake.ts';
import { jsonLogger, type Logger } from '../core/log.ts';
import {
  environmentAccounts,
  environmentAdapters,
  environmentIndex,
  environmentStarter,
} from './environment.ts';
import { type HttpEvent, type HttpResult, jsonResult, lowerCaseHeaders, rawBody } from './http.ts';
import { once } from './runtime.ts';

export const createIntakeHandler =
  (runtime: IntakeDeps & { logger: Logger }) =>
  async (event: HttpEvent): Promise<HttpResult> => {
    const accountId = event.pathParameters?.accountId ?? '';
    const bytes = rawBody(event);
    const answer = await receiveWebhook(
      { accountId, body: bytes.toString('utf8'), bytes, headers: lowerCaseHeaders(event) },
      runtime,
    );
    runtime.logger.info('webhook', { account: accountId, status: answer.statusCode, ...answer.body });
    const challenge =
      answer.statusCode === 401 ? { 'www-authenticate': 'Basic realm="callvault"' } : undefined;
    return jsonResult(answer.statusCode, answer.body, challenge);
  };

const fromEnvironment = once(() =>
  createIntakeHandler({
    accounts: environmentAccounts(),
    adapterFor: environmentAdapters(),
    index: environmentIndex(),
    starter: environmentStarter(),
    logger: jsonLogger,
  }),
);

export const handler = (event: HttpEvent) => fromEnvironment()(event);
