/**
 * S3 and DynamoDB throttling, once the SDK's own retries are spent, as one typed error the
 * workflow's Retry matches (`AwsThrottledError`), instead of an SDK name it would treat as final.
 */
import { AwsThrottledError } from '../core/errors.ts';

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'ServiceUnavailable',
  'InternalServerError',
  'InternalError',
]);

interface SdkError {
  name?: string;
  message?: string;
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

export function isThrottling(error: unknown): boolean {
  const sdk = error as SdkError | undefined;
  if (!sdk || typeof sdk !== 'object') return false;
  return (
    THROTTLING_NAMES.has(sdk.name ?? '') ||
    sdk.$retryable?.throttling === true ||
    sdk.$metadata?.httpStatusCode === 503
  );
}

/** The error as the core sees it: throttling becomes AwsThrottledError, anything else unchanged. */
export function typedAwsError(error: unknown, service: string): unknown {
  if (!isThrottling(error)) return error;
  const sdk = error as SdkError;
  return new AwsThrottledError(`${service} throttled the request (${sdk.name ?? 'HTTP 503'})`, {
    cause: error,
  });
}

interface WithMiddleware {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string; override: boolean },
    ): void;
  };
}

/**
 * Adds the translation to a client's middleware stack, outside the SDK's retry step, so only
 * an error that outlived the SDK's retries is translated.
 */
export function translateThrottling(client: unknown, service: string): void {
  (client as WithMiddleware).middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw typedAwsError(error, service);
      }
    },
    { step: 'initialize', name: 'callvaultThrottling', override: true },
  );
}
