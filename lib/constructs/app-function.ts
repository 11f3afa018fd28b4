import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { type CfnRole, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  type CfnFunction,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge } from './nag.ts';

export type HandlerName =
  | 'check'
  | 'archive'
  | 'record'
  | 'sweep-step'
  | 'intake'
  | 'query'
  | 'ended'
  | 'retry'
  | 'reconcile'
  | 'delete-at-source'
  | 'manifest';

export interface AppFunctionProps
  extends Omit<NodejsFunctionProps, 'entry' | 'handler' | 'role' | 'logGroup' | 'tracing'> {
  /** The module under `lambdas/handlers/` whose `handler` export this function runs. */
  readonly handlerName: HandlerName;
  /**
   * How long the function's logs are kept (the stack sets every log group to config `logRetentionDays`).
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: RetentionDays;
}

/**
 * callvault's own package-lock.json, found from this module (source in lib/ or the build in
 * dist/lib/), not from the working directory as NodejsFunction would: the local stack synthesizes
 * wherever the CLI is run, and a user's own project must not become the functions' project root.
 */
function ownLockFile(): string {
  for (let directory = import.meta.dirname; ; directory = dirname(directory)) {
    const candidate = join(directory, 'package-lock.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(directory) === directory)
      throw new Error(`no package-lock.json above ${import.meta.dirname}: run callvault from its checkout`);
  }
}

/**
 * Every callvault Lambda: Node.js 22 on arm64, bundled by the local esbuild (no Docker) with the
 * AWS SDK bundled in, so the SDK deployed is the SDK tested. `CALLVAULT_HANDLER` names the
 * handler, which is how the local stack maps a state machine Task back to its code.
 *
 * Its role is its own and starts (almost) empty: logs to its own log group and X-Ray tracing, no
 * AWS managed policy. Everything else is granted explicitly by the construct that uses it.
 */
export class AppFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    const { handlerName, logRetention, environment, ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: logRetention ?? RetentionDays.ONE_YEAR,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:CreateLogGroup/CreateLogStream/PutLogEvents on
    // every log group): write access to this function's own log group only. The group exists
    // (created above), so no logs:CreateLogGroup.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `callvault ${handlerName} function`,
      inlinePolicies: {
        Logs: new PolicyDocument({
          statements: [
            new PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
        // What `tracing: Tracing.ACTIVE` would add to the default policy. Kept in its own inline
        // policy so the acknowledgement below covers X-Ray only, never a later grant.
        Tracing: new PolicyDocument({
          statements: [
            new PolicyStatement({
              actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
              resources: ['*'],
            }),
          ],
        }),
      },
    });
    super(scope, id, {
      // From the build (dist/, where the local stack synthesizes) the handler's compiled module.
      entry: fileURLToPath(
        new URL(`../../lambdas/handlers/${handlerName}${extname(import.meta.url)}`, import.meta.url),
      ),
      handler: 'handler',
      depsLockFilePath: ownLockFile(),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(60),
      loggingFormat: LoggingFormat.JSON,
      // Lambda passes it as AWS_LAMBDA_LOG_LEVEL, which the Powertools logger honours: change it on
      // the function (console or a prop override) to see more or less, no redeploy of code.
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      logGroup,
      role,
      environment: { CALLVAULT_HANDLER: handlerName, NODE_OPTIONS: '--enable-source-maps', ...environment },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        // Typed errors take `name` from their class name, which Retry/Catch match on: minified class
        // names would make every typed error unmatchable.
        keepNames: true,
        sourceMap: true,
        target: 'node22',
        bundleAwsSDK: true,
        mainFields: ['module', 'main'],
        // ESM output still meets CommonJS dependencies that call require().
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      ...rest,
    });
    // Active tracing, its permissions being the role's `Tracing` policy above.
    const cfnFunction = this.node.defaultChild as CfnFunction;
    cfnFunction.tracingConfig = { mode: Tracing.ACTIVE };

    // On the CfnRole (its inline policies), not on the Role: its DefaultPolicy stays fully checked.
    acknowledge(role.node.defaultChild as CfnRole, {
      rule: 'AwsSolutions-IAM5',
      resource: '*',
      reason:
        'Only the inline Tracing policy: xray:PutTraceSegments and xray:PutTelemetryRecords support no ' +
        'resource-level permissions (X-Ray requires Resource "*").',
    });
    acknowledge(cfnFunction, {
      rule: 'AwsSolutions-L1',
      reason:
        'nodejs22.x on purpose: the bundle targets node22 (esbuild target, ESM banner) and is tested on ' +
        'that runtime line; moving to a newer runtime is a deliberate, tested upgrade.',
    });
  }

  /**
   * The workflow and the schedules invoke the unqualified function (no version or alias is
   * published), so invoke grants need the function ARN only, not also `ARN:*`.
   */
  override get resourceArnsForGrantInvoke(): string[] {
    return [this.functionArn];
  }
}
