import { readFileSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm, CfnAlarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { parseDeployConfig } from '../../lambdas/core/config.ts';
import {
  DIMENSION_SETS,
  DIMENSIONS,
  JOB_METRICS,
  LOG_METRICS,
  METRICS,
  METRICS_NAMESPACE,
} from '../../lambdas/core/metrics.ts';
import { CallvaultStack } from '../../lib/callvault-stack.ts';
import { sweepAlarmWindow } from '../../lib/constructs/monitoring.ts';
import { CDK_CONTEXT } from '../../lib/feature-flags.ts';
import {
  dashboardBody,
  dashboardTitles,
  exampleConfig,
  functionOf,
  logicalIdOf,
  synthExample,
  unbundledApp,
} from './synth.ts';

type Json = Record<string, unknown>;
const { template } = synthExample();
const alarms = () => Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
const topicId = logicalIdOf(template, 'AWS::SNS::Topic', '/Monitoring/AlarmTopic/Resource');
const accounts = parseDeployConfig(exampleConfig).accounts;

/** [name, dimension names] of every callvault metric a dashboard body or an alarm reads. */
function callvaultMetricsOfDashboard(body: string): Array<[string, string[]]> {
  const found: Array<[string, string[]]> = [];
  const widgets = (JSON.parse(body) as { widgets: { properties: { metrics?: unknown[][] } }[] }).widgets;
  for (const widget of widgets) {
    for (const row of widget.properties.metrics ?? []) {
      if (row[0] !== METRICS_NAMESPACE) continue;
      const dimensions = row.slice(2).filter((cell) => typeof cell === 'string');
      found.push([row[1] as string, dimensions.filter((_, position) => position % 2 === 0) as string[]]);
    }
  }
  return found;
}

function callvaultMetricsOfAlarm(properties: Json): Array<[string, string[]]> {
  const stats = properties.Metrics
    ? (properties.Metrics as { MetricStat?: { Metric: Json } }[]).flatMap((query) =>
        query.MetricStat ? [query.MetricStat.Metric] : [],
      )
    : [properties];
  return stats
    .filter((metric) => metric.Namespace === METRICS_NAMESPACE)
    .map((metric) => [
      metric.MetricName as string,
      ((metric.Dimensions as { Name: string }[]) ?? []).map((dimension) => dimension.Name),
    ]);
}

const knownDimensionSets = DIMENSION_SETS.map((set) => [...set].sort().join(','));

describe('every alarm reaches someone', () => {
  it('creates one encrypted topic that every alarm of the stack notifies', () => {
    expect(alarms().length).toBeGreaterThan(20);
    for (const [id, alarm] of alarms()) {
      expect({ id, actions: alarm.Properties.AlarmActions }).toEqual({ id, actions: [{ Ref: topicId }] });
    }
    const topic = template.findResources('AWS::SNS::Topic')[topicId] as { Properties: Json };
    expect(topic.Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [logicalIdOf(template, 'AWS::KMS::Key', '/Monitoring/AlarmTopicKey/Resource'), 'Arn'],
    });
    // CloudWatch may use the key, or it could not publish to the encrypted topic.
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: Match.arrayWith(['kms:Decrypt']),
          }),
        ]),
      },
    });
  });

  it('lets this account’s alarms publish past the TLS-only topic policy, and keeps the topic’s own key when config names one', () => {
    // A topic policy replaces SNS's default: with only the TLS Deny, CloudWatch's publish is refused.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            },
          }),
        ]),
      },
    });
    // An imported key's policy cannot be given CloudWatch's grant from the stack.
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000';
    const { template: imported } = synthExample({ ...(exampleConfig as Json), encryption: { kmsKeyArn } });
    const topic = logicalIdOf(imported, 'AWS::SNS::Topic', '/Monitoring/AlarmTopic/Resource');
    expect(
      (imported.findResources('AWS::SNS::Topic')[topic] as { Properties: Json }).Properties.KmsMasterKeyId,
    ).toEqual({
      'Fn::GetAtt': [logicalIdOf(imported, 'AWS::KMS::Key', '/Monitoring/AlarmTopicKey/Resource'), 'Arn'],
    });
  });

  it('also notifies from alarms other constructs add later, L2 or L1', () => {
    const app = unbundledApp();
    const stack = new CallvaultStack(app, 'Callvault', { config: parseDeployConfig(exampleConfig) });
    const metric = new Metric({ namespace: 'Other', metricName: 'Thing' });
    new Alarm(stack, 'AddedLater', { metric, threshold: 1, evaluationPeriods: 1 });
    new CfnAlarm(stack, 'AddedAsL1', {
      comparisonOperator: 'GreaterThanThreshold',
      evaluationPeriods: 1,
      metricName: 'Thing',
      namespace: 'Other',
      period: 60,
      statistic: 'Sum',
      threshold: 1,
    });
    const later = Template.fromStack(stack);
    const topic = logicalIdOf(later, 'AWS::SNS::Topic', '/Monitoring/AlarmTopic/Resource');
    const byPath = (suffix: string) =>
      Object.values(later.findResources('AWS::CloudWatch::Alarm')).find((alarm) =>
        String(alarm.Metadata?.['aws:cdk:path']).endsWith(suffix),
      );
    expect(byPath('/AddedLater/Resource')?.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    expect(byPath('/AddedAsL1')?.Properties.AlarmActions).toEqual([{ Ref: topic }]);
  });

  it('uses an existing topic when the config names one, and subscribes the email', () => {
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:ops-pager';
    const { template: existing } = synthExample({
      ...(exampleConfig as Json),
      alarms: { topicArn, email: 'ops@example.com' },
    });
    expect(existing.findResources('AWS::SNS::Topic')).toEqual({});
    for (const alarm of Object.values(existing.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([topicArn]);
    }
    existing.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topicArn,
    });
    existing.hasOutput('AlarmTopicArn', { Value: topicArn });
  });

  it("takes the read-back's alarm age from the config", () => {
    const { template: monthly } = synthExample({
      ...(exampleConfig as Json),
      alarms: { verificationMaxAgeDays: 30 },
    });
    monthly.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'VerifiedPassAgeSeconds',
      Threshold: 30 * 86_400,
    });
    expect(() =>
      parseDeployConfig({ ...(exampleConfig as Json), alarms: { verificationMaxAgeDays: 0 } }),
    ).toThrow(/alarms\.verificationMaxAgeDays/);
  });

  it('refuses an alarm setting that is not an email or a topic ARN, naming the field', () => {
    expect(() => parseDeployConfig({ ...(exampleConfig as Json), alarms: { email: 'ops' } })).toThrow(
      /alarms\.email must be an email address/,
    );
    expect(() =>
      parseDeployConfig({ ...(exampleConfig as Json), alarms: { topicArn: 'arn:aws:sqs:x' } }),
    ).toThrow(/alarms\.topicArn must be an SNS topic ARN/);
  });
});

describe('operator alarms', () => {
  const alarmOn = (namespace: string, metricName: string, dimensions: unknown[]) =>
    alarms().filter(
      ([, alarm]) =>
        alarm.Properties.Namespace === namespace &&
        alarm.Properties.MetricName === metricName &&
        JSON.stringify(alarm.Properties.Dimensions) === JSON.stringify(dimensions),
    );
  const stateMachineId = logicalIdOf(
    template,
    'AWS::StepFunctions::StateMachine',
    '/Workflow/StateMachine/Resource',
  );

  it('ingest executions timed out, throttled or aborted', () => {
    for (const metricName of ['ExecutionsTimedOut', 'ExecutionThrottled', 'ExecutionsAborted']) {
      const found = alarmOn('AWS/States', metricName, [
        { Name: 'StateMachineArn', Value: { Ref: stateMachineId } },
      ]);
      expect({ metricName, count: found.length }).toEqual({ metricName, count: 1 });
      expect(found[0]?.[1].Properties.Threshold).toBe(1);
    }
  });

  it.each(['check', 'archive', 'record', 'sweep-step', 'intake', 'query'])(
    '%s: throttles, and a duration at 80%% of its timeout',
    (handler) => {
      const fn = functionOf(template, handler);
      const dimensions = [{ Name: 'FunctionName', Value: { Ref: fn.id } }];
      expect(alarmOn('AWS/Lambda', 'Throttles', dimensions)).toHaveLength(1);
      const [duration] = alarmOn('AWS/Lambda', 'Duration', dimensions);
      expect(duration?.[1].Properties).toMatchObject({
        Statistic: 'Maximum',
        Threshold: Math.round((fn.properties.Timeout as number) * 1000 * 0.8),
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    },
  );

  it('DynamoDB throttling of the index, read or write', () => {
    const tableId = logicalIdOf(template, 'AWS::DynamoDB::Table', '/Store/Index/Resource');
    const throttled = alarms().filter(([, alarm]) =>
      JSON.stringify(alarm.Properties.Metrics ?? []).includes('ThrottleEvents'),
    );
    expect(throttled).toHaveLength(1);
    const metrics = throttled[0]?.[1].Properties.Metrics as { MetricStat?: { Metric: Json } }[];
    expect(
      metrics.flatMap((query) => (query.MetricStat ? [query.MetricStat.Metric.MetricName] : [])).sort(),
    ).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
    expect(JSON.stringify(metrics)).toContain(JSON.stringify({ Ref: tableId }));
  });

  it('no successful sweep of an account for 3 × its schedule; no data counts as none', () => {
    const noSweep = alarms().filter(([id]) => id.startsWith('MonitoringNoSweep'));
    for (const account of accounts) {
      // Each account in exactly one alarm: the lowest count of its group of ten, missing as 0.
      const covering = noSweep.filter(([, alarm]) =>
        (alarm.Properties.Metrics as Json[]).some((query) => {
          const stat = query.MetricStat as { Metric: Json } | undefined;
          return (
            stat?.Metric.MetricName === 'SweepSucceeded' &&
            JSON.stringify(stat.Metric.Dimensions).includes(`"Value":"${account.id}"`)
          );
        }),
      );
      expect(covering, account.id).toHaveLength(1);
      const [, alarm] = covering[0] as [string, { Properties: Json }];
      const minutes = account.schedule === 'rate(5 minutes)' ? 5 : 15;
      const metrics = alarm.Properties.Metrics as Json[];
      expect(metrics.find((query) => query.ReturnData !== false)?.Expression).toBe('MIN(FILL(METRICS(), 0))');
      for (const query of metrics.filter((entry) => entry.MetricStat))
        expect((query.MetricStat as Json).Period).toBe(3 * minutes * 60);
      expect({ account: account.id, ...alarm.Properties }).toMatchObject({
        account: account.id,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
      expect(String(alarm.Properties.AlarmDescription)).toContain(account.id);
    }
  });

  it('a daily cron schedule: three daily periods; the window never exceeds seven days', () => {
    expect(sweepAlarmWindow('cron(0 3 * * ? *)', 3)).toEqual({
      period: Duration.days(1),
      evaluationPeriods: 3,
    });
    expect(sweepAlarmWindow('cron(0 3 ? * MON *)', 3)).toEqual({
      period: Duration.days(1),
      evaluationPeriods: 7,
    });
    expect(sweepAlarmWindow('rate(1 hour)', 3).period.toSeconds()).toBe(3 * 3600);
  });

  it('a surge of webhook 4xx answers, and any recording indexed as failed', () => {
    const webhookApiId = logicalIdOf(template, 'AWS::ApiGatewayV2::Api', '/WebhookApi/Api/Resource');
    const [surge] = alarmOn('AWS/ApiGateway', '4xx', [{ Name: 'ApiId', Value: { Ref: webhookApiId } }]);
    expect(surge?.[1].Properties).toMatchObject({ Threshold: 50, Period: 300, Statistic: 'Sum' });
    const [failed] = alarmOn(METRICS_NAMESPACE, 'ArchiveFailures', [{ Name: 'service', Value: 'callvault' }]);
    expect(failed?.[1].Properties).toMatchObject({ Threshold: 1, Statistic: 'Sum' });
  });
});

describe('dashboard and outputs', () => {
  it('has the dashboard, and every callvault metric it and the alarms read is one the functions emit', () => {
    expect(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))).toHaveLength(1);
    const body = dashboardBody(template);
    const titles = dashboardTitles(body);
    for (const topic of [
      'per provider',
      'Bytes',
      'latency',
      'Failures',
      'Sweep lag',
      'Webhook answers',
      'Reconcile',
    ])
      expect(titles.some((title) => title.includes(topic))).toBe(true);
    expect(body).toContain('"stat":"p50"');
    expect(body).toContain('"stat":"p99"');

    const read = [
      ...callvaultMetricsOfDashboard(body),
      ...alarms().flatMap(([, alarm]) => callvaultMetricsOfAlarm(alarm.Properties as Json)),
    ];
    expect(read.length).toBeGreaterThan(accounts.length * 2);
    for (const [name, dimensions] of read) {
      if (name in LOG_METRICS) {
        expect(dimensions).toEqual([]);
        continue;
      }
      // The daily jobs' metrics are alarmed on per job, over every account (handlers/emf.ts).
      if (name in JOB_METRICS) {
        expect(dimensions).toEqual([DIMENSIONS.stage]);
        continue;
      }
      expect(Object.keys(METRICS)).toContain(name);
      expect(knownDimensionSets).toContain([...dimensions].sort().join(','));
    }
    // Archived per provider: one line per provider of the config.
    const providers = new Set(accounts.map((account) => account.provider));
    expect(read.filter(([name]) => name === 'RecordingsArchived')).toHaveLength(accounts.length);
    expect(providers.size).toBe(5);
  });

  it.each(['check', 'archive', 'record', 'sweep-step', 'intake', 'query'])(
    '%s: JSON logs at an explicit application log level (what the Powertools logger honours)',
    (handler) => {
      expect(functionOf(template, handler).properties.LoggingConfig).toMatchObject({
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        SystemLogLevel: 'WARN',
      });
    },
  );

  it('outputs what an operator needs: sweep workflow, alarm topic, dashboard URL', () => {
    const [sweepMachine] = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(
      ([, resource]) => JSON.stringify(resource.Properties.StateMachineName ?? '').includes('-sweep'),
    );
    expect(sweepMachine).toBeDefined();
    expect(JSON.stringify(template.findOutputs('SweepStateMachineArn'))).toContain('-sweep');
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
    const url = JSON.stringify(template.findOutputs('DashboardUrl').DashboardUrl?.Value);
    expect(url).toContain('console.aws.amazon.com/cloudwatch/home');
    expect(url).toContain('#dashboards:name=Callvault');
  });
});

describe('day one settings', () => {
  it('tags every resource with the config tags', () => {
    const { template: tagged } = synthExample({
      ...(exampleConfig as Json),
      tags: { 'cost-center': 'telephony', project: 'callvault' },
    });
    for (const type of [
      'AWS::S3::Bucket',
      'AWS::DynamoDB::Table',
      'AWS::Lambda::Function',
      'AWS::SNS::Topic',
    ]) {
      for (const resource of Object.values(tagged.findResources(type))) {
        expect(resource.Properties.Tags).toEqual(
          expect.arrayContaining([
            { Key: 'cost-center', Value: 'telephony' },
            { Key: 'project', Value: 'callvault' },
          ]),
        );
      }
    }
  });

  it('keeps every log group for a year by default, or as configured; refuses a period CloudWatch lacks', () => {
    const groups = (t: Template) =>
      Object.values(t.findResources('AWS::Logs::LogGroup')).map((group) => group.Properties.RetentionInDays);
    expect(groups(template).length).toBeGreaterThanOrEqual(9);
    expect(new Set(groups(template))).toEqual(new Set([365]));
    const { template: longer } = synthExample({ ...(exampleConfig as Json), logRetentionDays: 2557 });
    expect(new Set(groups(longer))).toEqual(new Set([2557]));
    expect(() => parseDeployConfig({ ...(exampleConfig as Json), logRetentionDays: 100 })).toThrow(
      /logRetentionDays must be one of 1, 3, 5/,
    );
  });

  it('pins every feature flag aws-cdk-lib recommends, in cdk.json and in the in-process apps alike', () => {
    const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
      context: Json;
    };
    const recommended = JSON.parse(
      readFileSync(
        new URL('../../node_modules/aws-cdk-lib/recommended-feature-flags.json', import.meta.url),
        'utf8',
      ),
    ) as Json;
    expect(cdkJson.context).toEqual(CDK_CONTEXT);
    for (const [flag, value] of Object.entries(recommended))
      expect({ flag, value: cdkJson.context[flag] }).toEqual({ flag, value });
    const app = unbundledApp();
    expect(app.node.tryGetContext('@aws-cdk/aws-iam:minimizePolicies')).toBe(true);
  });
});
