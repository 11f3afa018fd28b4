/** `POST /webhooks/{accountId}`: a provider's "recording ready" callback. */
import { receiveWebhook } from '../core/intake.ts';
import { type HttpEvent, type HttpResult, jsonResult, lowerCaseHeaders, rawBody } from './http.ts';
import { type Runtime, runtimeFromEnvironment } from './runtime.ts';

export const createIntakeHandler =
  (runtime: Runtime) =>
  async (event: HttpEvent): Promise<HttpResult> => {
    const accountId = event.pathParameters?.accountId ?? '';
    const answer = await receiveWebhook(
      { accountId, body: rawBody(event), headers: lowerCaseHeaders(event) },
      runtime,
    );
    runtime.logger.info('webhook', { account: accountId, status: answer.statusCode, ...answer.body });
    const challenge =
      answer.statusCode === 401 ? { 'www-authenticate': 'Basic realm="callvault"' } : undefined;
    return jsonResult(answer.statusCode, answer.body, challenge);
  };

export const handler = (event: HttpEvent) => createIntakeHandler(runtimeFromEnvironment())(event);
