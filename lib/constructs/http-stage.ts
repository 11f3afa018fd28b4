import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type HttpApi,
  HttpStage,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * One JSON line per request. No headers (Authorization, signatures), no query string (phone
 * numbers in `number=`), no body: the route, the status and what went wrong.
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    caller: '$context.identity.userArn',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    latency: '$context.responseLatency',
    integrationStatus: '$context.integrationStatus',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    error: '$context.error.message',
  }),
);

export interface LoggedStageProps {
  readonly throttle: ThrottleSettings;
  readonly logRetention: RetentionDays;
}

/**
 * The `$default` stage of an HTTP API created with `createDefaultStage: false`: auto-deployed,
 * default route throttling, access logs (JSON) to its own log group with a retention.
 */
export function loggedDefaultStage(
  scope: Construct,
  httpApi: HttpApi,
  props: LoggedStageProps,
): { stage: HttpStage; accessLogs: LogGroup } {
  const accessLogs = new LogGroup(scope, 'AccessLogs', { retention: props.logRetention });
  const stage = new HttpStage(scope, 'DefaultStage', {
    httpApi,
    stageName: '$default',
    autoDeploy: true,
    throttle: props.throttle,
    accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
  });
  return { stage, accessLogs };
}

export const DEFAULT_LOG_RETENTION = RetentionDays.THREE_MONTHS;
