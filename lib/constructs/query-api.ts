import { Duration } from 'aws-cdk-lib';
import { HttpMethod, type HttpRoute, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ARCHIVE_KEY_PREFIX } from '../../lambdas/core/names.ts';
import { AppFunction } from './app-function.ts';
import { LoggedHttpApi } from './http-api.ts';
import type { RecordingStore } from './recording-store.ts';

/** The search API's routes (GET), as the query handler matches them. */
export const QUERY_ROUTE_PATHS = ['/recordings', '/recordings/{id}', '/recordings/{id}/audio'] as const;

export interface QueryApiProps {
  /**
   * The recording index, read (items and GSIs), never written; the audio bucket, s3:GetObject on
   * `recordings/*`, so the presigned URLs the API returns work.
   */
  readonly store: RecordingStore;
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
export class QueryApi extends LoggedHttpApi {
  /** The GET routes (QUERY_ROUTE_PATHS), IAM-authorized. */
  public readonly routes: HttpRoute[];
  public readonly queryFunction: AppFunction;
  /** `https://{api}.execute-api.{region}.amazonaws.com/`. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: QueryApiProps) {
    super(scope, id, {
      nameSuffix: 'query',
      description: 'callvault: search the recording index and fetch archived audio (IAM-authorized)',
      throttle: props.throttle ?? { burstLimit: 20, rateLimit: 10 },
      logRetention: props.logRetention,
      serverErrorsDescription: 'The query API answered 5xx.',
    });
    this.queryFunction = new AppFunction(this, 'QueryFunction', {
      handlerName: 'query',
      timeout: props.timeout ?? Duration.seconds(25),
    });
    props.store.bindIndex(this.queryFunction, 'read');
    // The bucket's name comes with each index entry: the function is not told it.
    props.store.grantPrefixes(this.queryFunction, {
      [ARCHIVE_KEY_PREFIX]: {
        access: 'read',
        reason:
          'Presigned GET URLs for archived audio, whose keys are made per recording at run time ' +
          '(recordings/{account}/{date}/{name}.{ext}): s3:GetObject only, on the archive prefix only.',
      },
    });

    const integration = new HttpLambdaIntegration('Query', this.queryFunction);
    const authorizer = new HttpIamAuthorizer();
    this.routes = QUERY_ROUTE_PATHS.flatMap((path) =>
      this.httpApi.addRoutes({ path, methods: [HttpMethod.GET], integration, authorizer }),
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
