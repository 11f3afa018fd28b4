/**
 * The errors the ingest workflow must retry, written out here rather than read from the
 * construct, so that a name dropped from TRANSIENT_ERRORS fails the tests.
 */
export const MUST_RETRY = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.Unknown',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Sandbox.Timedout',
  'AwsThrottledError',
  'States.Timeout',
];
