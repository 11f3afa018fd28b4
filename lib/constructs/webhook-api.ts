import { Duration } from 'aws-cdk-lib';
import {
  type CfnRoute,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpRoute,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { AccountConfig } from './account-config.ts';
import { AppFunction } from './app-function.ts';
import { LoggedHttpApi } from './http-api.ts';
import type { IngestWorkflow } from './ingest-workflow.ts';
import { acknowledge } from './nag.ts';
import type { RecordingStore } from './recording-store.ts';

/** The route providers call; `{accountId}` is the callvault account id. */
export const WEBHOOK_ROUTE_PATH = '/webhooks/{accountId}';

export interface WebhookApiProps {
  /** The recording index: read (known recordings are not started again), never written. */
  readonly store: RecordingStore;
  /** The ingest workflow: the function may start executions of it, nothing else. */
  readonly ingest: IngestWorkflow;
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
export class WebhookApi extends LoggedHttpApi {
  /** `POST /webhooks/{accountId}`, public on purpose. */
  public readonly route: HttpRoute;
  public readonly intakeFunction: AppFunction;
  /** `https://{api}.execute-api.{region}.amazonaws.com/webhooks/`: append the account id. */
  public readonly webhookBaseUrl: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id, {
      nameSuffix: 'webhooks',
      description: 'callvault: recording-ready webhooks of the telephony providers',
      throttle: props.throttle ?? { burstLimit: 100, rateLimit: 50 },
      logRetention: props.logRetention,
      serverErrorsDescription:
        'The webhook API answered 5xx: a provider callback may not have been accepted.',
    });
    this.intakeFunction = new AppFunction(this, 'IntakeFunction', {
      handlerName: 'intake',
      timeout: props.timeout ?? Duration.seconds(10),
    });
    props.store.bindIndex(this.intakeFunction, 'read');
    props.ingest.grantStartAndDescribe(this.intakeFunction);
    props.accounts.bind(this.intakeFunction);

    const [route] = this.httpApi.addRoutes({
      path: WEBHOOK_ROUTE_PATH,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('Intake', this.intakeFunction),
      authorizer: new HttpNoneAuthorizer(),
    });
    this.route = route as HttpRoute;
    acknowledge(this.route.node.defaultChild as CfnRoute, {
      rule: 'AwsSolutions-APIG4',
      reason:
        'Public on purpose: the telephony providers call it and cannot sign AWS requests. Authentication ' +
        'is done by the handler with the per-account webhook secret (HTTP Basic password or VoIPBin ' +
        'HMAC-SHA256 signature of the raw body), compared in constant time.',
    });

    this.webhookBaseUrl = `${this.stage.url}webhooks/`;
  }
}
