/**
 * CDK app: `npx cdk deploy -c config=path/to/callvault.json`. The config's `auth` blocks, if
 * any, are ignored here: credentials go into Secrets Manager, never into the template.
 */
import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseDeployConfig } from '../lambdas/core/config.ts';
import { CallvaultStack } from '../lib/callvault-stack.ts';

const app = new App();
const configPath = (app.node.tryGetContext('config') as string | undefined) ?? 'config/example.json';
const config = parseDeployConfig(JSON.parse(readFileSync(configPath, 'utf8')), `config file ${configPath}`);
new CallvaultStack(app, (app.node.tryGetContext('stackName') as string | undefined) ?? 'Callvault', {
  config,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
