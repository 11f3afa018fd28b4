import { Duration, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpStage,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { alarmOnAny } from './alarms.ts';

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

export interface LoggedHttpApiProps {
  /** The API is named `{stack}-{nameSuffix}`. */
  readonly nameSuffix: string;
  /** The API's description in the console. */
  readonly description: string;
  /** Default route throttling of the stage (requests per second and burst, across all callers). */
  readonly throttle: ThrottleSettings;
  /**
   * Retention of the access logs.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /** What a 5xx answer means to the operator: the alarm's description. */
  readonly serverErrorsDescription: string;
}

/**
 * An HTTP API as callvault's two are built: one `$default` stage, auto-deployed, default route
 * throttling, access logs (JSON) to their own log group, and an alarm on the first 5xx. The
 * search and the webhook API extend it with their function and routes.
 */
export class LoggedHttpApi extends Construct {
  /** `{stack}-{nameSuffix}`, without a default stage of the CDK's making. */
  public readonly httpApi: HttpApi;
  /** `$default`, the API's only stage. */
  public readonly stage: HttpStage;
  /** One JSON line per request: no headers, query string or body. */
  public readonly accessLogs: LogGroup;
  /** The API answered 5xx. */
  public readonly serverErrorsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: LoggedHttpApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-${props.nameSuffix}`,
      description: props.description,
      createDefaultStage: false,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
    });
    this.serverErrorsAlarm = alarmOnAny(
      this,
      'ServerErrors',
      this.httpApi.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      props.serverErrorsDescription,
    );
  }
}
