import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  HttpApi,
  HttpMethod,
  type HttpRoute,
  type HttpStage,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import { DEFAULT_LOG_RETENTION, loggedDefaultStage } from './http-stage.ts';
import { ARCHIVE_KEY_PREFIX, grantArchiveObjectRead, grantIndexRead } from './recording-store.ts';

/** The search API's routes (GET), as the query handler matches them. */
export const QUERY_ROUTE_PATHS = ['/recordings', '/recordings/{id}', '/recordings/{id}/audio'] as const;

export interface QueryApiProps {
  /** The recording index: read (items and GSIs), never written. */
  readonly table: ITable;
  /** The audio bucket: s3:GetObject on `recordings/*`, so the presigned URLs the API returns work. */
  readonly bucket: IBucket;
  /**
   * Default route throttling of the stage (requests per second and burst, across all callers).
   * @default { burstLimit: 20, rateLimit: 10 }
   */
  readonly throttle?: ThrottleSettings;
  /**
   * Timeout of the query function (HTTP APIs wait at most 30 s for an integration).
   * @default Duration.seconds(25)
   */
  readonly timeout?: Duration;
  /**
   * Retention of the API's access logs.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The search API, IAM-authorized (SigV4): `GET /recordings` (the filters of `recordings list`),
 * `GET /recordings/{id}` (the whole index entry) and `GET /recordings/{id}/audio` (302 to a
 * short-lived presigned URL). Callers need
 * `execute-api:Invoke` on the routes: `grantInvoke(grantee)`.
 */
export class QueryApi extends Construct {
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;
  public readonly routes: HttpRoute[];
  public readonly queryFunction: AppFunction;
  public readonly accessLogs: LogGroup;
  public readonly serverErrorsAlarm: Alarm;
  /** `https://{api}.execute-api.{region}.amazonaws.com/`. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: QueryApiProps) {
    super(scope, id);
    this.queryFunction = new AppFunction(this, 'QueryFunction', {
      handlerName: 'query',
      timeout: props.timeout ?? Duration.seconds(25),
      environment: { TABLE_NAME: props.table.tableName },
    });
    grantIndexRead(props.table, this.queryFunction);
    grantArchiveObjectRead(props.bucket, this.queryFunction);
    const bucketResource = props.bucket.node.defaultChild as CfnElement | undefined;
    const policy = this.queryFunction.role?.node.tryFindChild('DefaultPolicy');
    if (bucketResource && policy) {
      const bucketArn = `<${Stack.of(bucketResource).getLogicalId(bucketResource)}.Arn>`;
      Validations.of(policy).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${bucketArn}/${ARCHIVE_KEY_PREFIX}*]`,
        reason:
          'Presigned GET URLs for archived audio, whose keys are made per recording at run time ' +
          '(recordings/{account}/{date}/{name}.{ext}): s3:GetObject only, on the archive prefix only.',
      });
    }

    this.httpApi = new HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-query`,
      description: 'callvault: search the recording index and fetch archived audio (IAM-authorized)',
      createDefaultStage: false,
    });
    const { stage, accessLogs } = loggedDefaultStage(this, this.httpApi, {
      throttle: props.throttle ?? { burstLimit: 20, rateLimit: 10 },
      logRetention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    });
    this.stage = stage;
    this.accessLogs = accessLogs;

    const integration = new HttpLambdaIntegration('Query', this.queryFunction);
    const authorizer = new HttpIamAuthorizer();
    this.routes = QUERY_ROUTE_PATHS.flatMap((path) =>
      this.httpApi.addRoutes({ path, methods: [HttpMethod.GET], integration, authorizer }),
    );

    this.serverErrorsAlarm = alarmOnAny(
      this,
      'ServerErrors',
      this.httpApi.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      'The query API answered 5xx.',
    );
    this.url = this.stage.url;
  }

  /**
   * `execute-api:Invoke` on exactly the GET routes (any stage: the API has only `$default`).
   * The route-level `HttpRoute.grantInvoke` would cut `/recordings/{id}/audio` down to
   * `/recordings/*`; these ARNs keep the `/audio` suffix.
   */
  public grantInvoke(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: QUERY_ROUTE_PATHS.map((path) =>
        this.httpApi.arnForExecuteApi(HttpMethod.GET, path.replace(/\{[^}]+\}/g, '*')),
      ),
    });
  }
}
