/** Shared by the CDK tests: the stack synthesized in-process, esbuild bundling skipped. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseDeployConfig } from '../../lambdas/core/config.ts';
import { addCallvault } from '../../lib/app.ts';
import { CallvaultStack } from '../../lib/callvault-stack.ts';
import { CDK_CONTEXT } from '../../lib/feature-flags.ts';

export const exampleConfig: unknown = JSON.parse(
  readFileSync(new URL('../../config/example.json', import.meta.url), 'utf8'),
);

/** `aws:cdk:bundling-stacks: []` skips esbuild (placeholder assets); path metadata as the CLI adds it. */
export function unbundledApp(props: AppProps = {}): App {
  return new App({
    ...props,
    context: {
      ...CDK_CONTEXT,
      'aws:cdk:bundling-stacks': [],
      'aws:cdk:enable-path-metadata': true,
      ...props.context,
    },
  });
}

export function synthExample(rawConfig: unknown = exampleConfig): {
  stack: CallvaultStack;
  template: Template;
} {
  const app = unbundledApp();
  const stack = new CallvaultStack(app, 'Callvault', { config: parseDeployConfig(rawConfig) });
  return { stack, template: Template.fromStack(stack) };
}

/** The app as bin/app.ts builds it (addCallvault: the deploy config, cdk-nag on synth), unbundled. */
export function callvaultApp(rawConfig: unknown): { app: App; stack: CallvaultStack } {
  const app = unbundledApp();
  return { app, stack: addCallvault(app, { rawConfig }) };
}

/** cdk-nag's AwsSolutions report, as `validation-report.json` of the synthesized assembly holds it. */
export interface NagReport {
  pluginName: string;
  conclusion: string;
  violations: unknown[];
  suppressedViolations?: {
    ruleName: string;
    reason?: string;
    violatingResources?: { constructPath?: string }[];
    violatingConstructs?: { constructPath?: string }[];
  }[];
}

/** Synthesizes the app from `rawConfig` and returns cdk-nag's AwsSolutions report of it. */
export function nagReport(rawConfig: unknown): NagReport {
  const assembly = callvaultApp(rawConfig).app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
    pluginReports: NagReport[];
  };
  const nag = report.pluginReports.find((plugin) => plugin.pluginName === 'AwsSolutions');
  if (!nag) throw new Error('cdk-nag AwsSolutions did not report');
  return nag;
}

type Json = Record<string, unknown>;
export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

export const resourcesOf = (statement: Statement): unknown[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

/** Logical ID of the one resource of `type` whose construct path ends with `pathSuffix`. */
export function logicalIdOf(template: Template, type: string, pathSuffix: string): string {
  const ids = Object.entries(template.findResources(type))
    .filter(([, resource]) =>
      String((resource.Metadata as Json | undefined)?.['aws:cdk:path']).endsWith(pathSuffix),
    )
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`${ids.length} ${type} resources end with ${pathSuffix}`);
  return ids[0] as string;
}

/** The Lambda function whose CALLVAULT_HANDLER is `handler`. */
export function functionOf(template: Template, handler: string): { id: string; properties: Json } {
  const matches = Object.entries(template.findResources('AWS::Lambda::Function')).filter(
    ([, resource]) =>
      ((resource.Properties as Json).Environment as { Variables: Json }).Variables.CALLVAULT_HANDLER ===
      handler,
  );
  if (matches.length !== 1) throw new Error(`${matches.length} functions run handler ${handler}`);
  const [id, resource] = matches[0] as [string, Json];
  return { id, properties: resource.Properties as Json };
}

/** Every IAM statement a function's role carries: its inline policies and attached AWS::IAM::Policy. */
export function statementsOf(template: Template, handler: string): Statement[] {
  const { properties } = functionOf(template, handler);
  const roleId = ((properties.Role as Json)['Fn::GetAtt'] as string[])[0] as string;
  const role = template.findResources('AWS::IAM::Role')[roleId] as { Properties: Json };
  const inline = (
    (role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? []
  ).flatMap((policy) => policy.PolicyDocument.Statement);
  const attached = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => ((policy.Properties as Json).Roles as Json[]).some((ref) => ref.Ref === roleId))
    .flatMap(
      (policy) => ((policy.Properties as Json).PolicyDocument as { Statement: Statement[] }).Statement,
    );
  return [...inline, ...attached];
}

/**
 * The state machine definition as plain ASL: CDK emits an Fn::Join of strings and intrinsics
 * (function ARNs, the partition), which all sit inside JSON strings.
 */
export function definitionOf(
  template: Template,
  path = '/Workflow/StateMachine/Resource',
): {
  StartAt: string;
  QueryLanguage?: string;
  States: Record<string, Json>;
} {
  const id = logicalIdOf(template, 'AWS::StepFunctions::StateMachine', path);
  const machine = template.findResources('AWS::StepFunctions::StateMachine')[id] as Json;
  return JSON.parse(joinedText((machine.Properties as Json).DefinitionString));
}

/**
 * A template string CDK may emit as an Fn::Join of strings and intrinsics, as one string: each
 * intrinsic as `{{...}}`, quote-free, as it sits inside a JSON string.
 */
function joinedText(value: unknown): string {
  if (typeof value === 'string') return value;
  return (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : `{{${JSON.stringify(part).replace(/"/g, "'")}}}`))
    .join('');
}

/** The stack's one dashboard body as a string (intrinsics as `{{...}}`). */
export function dashboardBody(template: Template): string {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  return joinedText(dashboard?.Properties.DashboardBody);
}

export function dashboardTitles(body: string): string[] {
  return (JSON.parse(body) as { widgets: { properties: { title: string } }[] }).widgets.map(
    (widget) => widget.properties.title,
  );
}
