import { Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  type CfnRoute,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpRoute,
  type HttpStage,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AccountConfig } from './account-config.ts';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import { DEFAULT_LOG_RETENTION, loggedDefaultStage } from './http-stage.ts';
import { grantStartAndDescribe } from './ingest-workflow.ts';
import { grantIndexRead } from './recording-store.ts';

/** The route providers call; `{accountId}` is the callvault account id. */
export const WEBHOOK_ROUTE_PATH = '/webhooks/{accountId}';

export interface WebhookApiProps {
  /** The recording index: read (known recordings are not started again), never written. */
  readonly table: ITable;
  /** The ingest workflow: the function may start executions of it, nothing else. */
  readonly stateMachine: IStateMachine;
  /** The accounts: each one's secret holds the webhook secret next to the provider credentials. */
  readonly accounts: AccountConfig;
  /**
   * Default route throttling of the stage (requests per second and burst, across all callers).
   * @default { burstLimit: 100, rateLimit: 50 }
   */
  readonly throttle?: ThrottleSettings;
  /**
   * Timeout of the intake function: providers expect their callback answered within seconds.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Retention of the API's access logs.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The providers' "recording ready" callbacks: an HTTP API with `POST /webhooks/{accountId}` to the
 * intake function, which authenticates each call with the account's webhook secret (HTTP Basic
 * password or VoIPBin's HMAC signature) and starts one ingest execution per new recording.
 * The route itself is public: providers cannot sign AWS requests.
 */
export class WebhookApi extends Construct {
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;
  public readonly route: HttpRoute;
  public readonly intakeFunction: AppFunction;
  public readonly accessLogs: LogGroup;
  public readonly serverErrorsAlarm: Alarm;
  /** `https://{api}.execute-api.{region}.amazonaws.com/webhooks/`: append the account id. */
  public readonly webhookBaseUrl: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.intakeFunction = new AppFunction(this, 'IntakeFunction', {
      handlerName: 'intake',
      timeout: props.timeout ?? Duration.seconds(10),
      environment: {
        TABLE_NAME: props.table.tableName,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        ...props.accounts.environment,
      },
    });
    grantIndexRead(props.table, this.intakeFunction);
    grantStartAndDescribe(props.stateMachine, this.intakeFunction);
    props.accounts.grantRead(this.intakeFunction);

    this.httpApi = new HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-webhooks`,
      description: 'callvault: recording-ready webhooks of the telephony providers',
      createDefaultStage: false,
    });
    const { stage, accessLogs } = loggedDefaultStage(this, this.httpApi, {
      throttle: props.throttle ?? { burstLimit: 100, rateLimit: 50 },
      logRetention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    });
    this.stage = stage;
    this.accessLogs = accessLogs;

    const [route] = this.httpApi.addRoutes({
      path: WEBHOOK_ROUTE_PATH,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('Intake', this.intakeFunction),
      authorizer: new HttpNoneAuthorizer(),
    });
    this.route = route as HttpRoute;
    Validations.of(this.route.node.defaultChild as CfnRoute).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG4',
      reason:
        'Public on purpose: the telephony providers call it and cannot sign AWS requests. Authentication ' +
        'is done by the handler with the per-account webhook secret (HTTP Basic password or VoIPBin ' +
        'HMAC-SHA256 signature of the raw body), compared in constant time.',
    });

    this.serverErrorsAlarm = alarmOnAny(
      this,
      'ServerErrors',
      this.httpApi.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      'The webhook API answered 5xx: a provider callback may not have been accepted.',
    );
    this.webhookBaseUrl = `${this.stage.url}webhooks/`;
  }
}
