import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseDeployConfig } from '../lambdas/core/config.ts';
import { CallvaultStack, type CallvaultStackProps } from './callvault-stack.ts';

export interface CallvaultAppOptions extends Omit<CallvaultStackProps, 'config'> {
  /** The config file's JSON as read: `auth`/`webhook` blocks are dropped here, never deployed. */
  readonly rawConfig: unknown;
  /** Where the config came from, for error messages. */
  readonly source?: string;
  /** @default 'Callvault' */
  readonly stackName?: string;
}

/**
 * The app as `cdk synth` builds it (bin/app.ts) and as the tests build it: the stack from the
 * secret-free deploy config, checked by cdk-nag's AwsSolutions pack on synth.
 */
export function addCallvault(app: App, options: CallvaultAppOptions): CallvaultStack {
  const { rawConfig, source = 'config', stackName = 'Callvault', ...stackProps } = options;
  const config = parseDeployConfig(rawConfig, source);
  const stack = new CallvaultStack(app, stackName, { ...stackProps, config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
