/**
 * CDK app: `npx cdk deploy -c config=path/to/callvault.json`. The config's `auth`/`webhook`
 * blocks, if any, are dropped here: credentials go into Secrets Manager, never into the template.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { addCallvault } from '../lib/app.ts';

const app = new App();
const configPath = (app.node.tryGetContext('config') as string | undefined) ?? 'config/example.json';
addCallvault(app, {
  rawConfig: JSON.parse(readFileSync(configPath, 'utf8')),
  source: `config file ${configPath}`,
  stackName: app.node.tryGetContext('stackName') as string | undefined,
});
app.synth();
