/**
 * A deployment of many accounts: 200 accounts synthesize into a template CloudFormation accepts,
 * with every Lambda environment far below Lambda's 4 KB and every IAM policy below IAM's limits.
 */
import { describe, expect, it } from 'vitest';
import { parseDeployConfig } from '../../lambdas/core/config.ts';
import { PROVIDERS } from '../../lambdas/core/recording.ts';
import { synthExample } from './synth.ts';

const providerFields: Record<string, Record<string, unknown>> = {
  dialogtech: { lists: [{ type: 'recorded_calls', id: 1234 }], timeZone: 'America/Chicago' },
};

const many = {
  accounts: Array.from({ length: 200 }, (_, index) => {
    const provider = PROVIDERS[index % PROVIDERS.length] as string;
    return {
      id: `customer-${String(index).padStart(3, '0')}-${provider}`,
      provider,
      baseUrl: `https://tenant-${index}.example.com/api`,
      schedule: index % 2 ? 'rate(15 minutes)' : 'cron(0/10 * * * ? *)',
      // A few accounts name their own secret: they are listed one by one.
      ...(index % 50 === 0 ? { secret: `team-${index}/telephony` } : {}),
      ...providerFields[provider],
    };
  }),
};

describe('200 accounts', () => {
  const { template } = synthExample(parseDeployConfig(many));
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: never }>;

  it('every Lambda environment stays far below 4 KB', () => {
    const functions = Object.values(resources).filter(
      (resource) => resource.Type === 'AWS::Lambda::Function',
    );
    // check, archive, record, sweep-step, intake, query, ended, retry, reconcile, manifest.
    expect(functions).toHaveLength(10);
    for (const fn of functions) {
      const size = JSON.stringify((fn.Properties as { Environment: unknown }).Environment).length;
      // Tokens (Refs) are longer in the template than the values they become.
      expect(size).toBeLessThan(1024);
    }
  });

  it('the template is deployable: under 500 resources, one schedule per account, no per-account Lambda permission', () => {
    const count = Object.keys(resources).length;
    expect(count).toBeLessThan(500);
    const ofType = (type: string) => Object.values(resources).filter((resource) => resource.Type === type);
    expect(ofType('AWS::Scheduler::Schedule')).toHaveLength(200);
    // The stack's own jobs only (ended executions, retry, reconcile, manifest), none per account.
    expect(ofType('AWS::Events::Rule')).toHaveLength(4);
    // Alarms barely grow with the accounts: reconcile alarms once for all of them, and one
    // "no successful sweep" alarm covers ten accounts of a schedule.
    const alarmIds = Object.entries(resources)
      .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => id);
    expect(alarmIds.filter((id) => id.startsWith('MonitoringNoSweep'))).toHaveLength(200 / 10);
    expect(alarmIds.filter((id) => !id.startsWith('MonitoringNoSweep')).length).toBeLessThan(40);
    expect(ofType('AWS::Lambda::Permission').length).toBeLessThan(10);
    // CloudFormation takes templates up to 1 MB (from S3).
    expect(JSON.stringify(template.toJSON()).length).toBeLessThan(1_000_000);
  });

  it('every IAM policy stays within IAM limits (10,240 characters of inline policy per role)', () => {
    const perRole = new Map<string, number>();
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const properties = resource.Properties as { PolicyDocument: unknown; Roles: { Ref: string }[] };
      // Minified, and tokens counted at their template length: an upper bound of the real size.
      const size = JSON.stringify(properties.PolicyDocument).length;
      for (const role of properties.Roles) perRole.set(role.Ref, (perRole.get(role.Ref) ?? 0) + size);
    }
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const inline = (resource.Properties as { Policies?: { PolicyDocument: unknown }[] }).Policies ?? [];
      expect(JSON.stringify(inline).length).toBeLessThan(10_240);
    }
    expect(perRole.size).toBeGreaterThan(10);
    for (const size of perRole.values()) expect(size).toBeLessThan(10_240 / 2);
  });
});
