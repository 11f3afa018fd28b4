import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export type HandlerName = 'check' | 'archive' | 'record' | 'poll' | 'intake' | 'query';

export interface AppFunctionProps extends Omit<NodejsFunctionProps, 'entry' | 'handler'> {
  /** The module under `lambdas/handlers/` whose `handler` export this function runs. */
  readonly handlerName: HandlerName;
  /**
   * How long the function's logs are kept.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
}

/**
 * Every callvault Lambda: Node.js 22 on arm64, bundled by the local esbuild (no Docker) with the
 * AWS SDK bundled in, so the SDK deployed is the SDK tested. `CALLVAULT_HANDLER` names the
 * handler, which is how the local stack maps a state machine Task back to its code.
 */
export class AppFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    const { handlerName, logRetention, environment, ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: logRetention ?? RetentionDays.THREE_MONTHS,
    });
    super(scope, id, {
      entry: fileURLToPath(new URL(`../../lambdas/handlers/${handlerName}.ts`, import.meta.url)),
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(60),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      environment: { CALLVAULT_HANDLER: handlerName, NODE_OPTIONS: '--enable-source-maps', ...environment },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
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
  }
}
