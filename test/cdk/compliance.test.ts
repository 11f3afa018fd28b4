/**
 * The compliance archive as deployed: Object Lock and default retention, lifecycle per account
 * prefix, a customer-managed KMS key on the bucket, the table and every log group, the daily
 * reconcile / delete-at-source / manifest jobs with narrow IAM, their alarms, and cdk-nag clean.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  actionsOf,
  dashboardBody,
  dashboardTitles,
  exampleConfig,
  logicalIdOf,
  nagReport,
  resourcesOf,
  type Statement,
  statementsOf,
  synthExample,
} from './synth.ts';

const SECRET_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const example = exampleConfig as { accounts: Record<string, unknown>[] };
const complianceConfig = {
  ...example,
  retention: { mode: 'compliance', days: 1825 },
  encryption: { createKey: true },
  accounts: example.accounts.map((account) =>
    account.id === 'rc-main'
      ? {
          ...account,
          deleteAtSource: { afterDays: 7 },
          secretKmsKeyArn: SECRET_KEY,
          lifecycle: {
            glacierInstantRetrievalAfterDays: 30,
            deepArchiveAfterDays: 365,
            expireAfterDays: 2000,
          },
        }
      : account,
  ),
};
const { stack: complianceStack, template } = synthExample(complianceConfig);
const plain = synthExample().template;

const allStatements = (): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );

describe('bucket: WORM', () => {
  it('Object Lock with the configured default retention, versioning on', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1825 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  it('no Object Lock without a retention config (it cannot be added to the bucket later)', () => {
    for (const bucket of Object.values(plain.findResources('AWS::S3::Bucket'))) {
      expect(bucket.Properties.ObjectLockEnabled).toBeUndefined();
    }
  });

  it('lifecycle per account prefix: Glacier Instant Retrieval, Deep Archive, expiration after retention', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'account-vb-main',
            Prefix: 'recordings/vb-main/',
            Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
          }),
          Match.objectLike({
            Id: 'account-rc-main',
            Prefix: 'recordings/rc-main/',
            Transitions: [
              { StorageClass: 'GLACIER_IR', TransitionInDays: 30 },
              { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 365 },
            ],
            ExpirationInDays: 2000,
          }),
        ]),
      },
    });
  });
});

describe('customer-managed KMS key', () => {
  const keyId = logicalIdOf(template, 'AWS::KMS::Key', '/EncryptionKey/Resource');
  const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };

  it('one key for the archive, rotated, usable by CloudWatch Logs for this account only (the alarm topic has its own)', () => {
    expect(Object.keys(template.findResources('AWS::KMS::Key')).sort()).toEqual(
      [keyId, logicalIdOf(template, 'AWS::KMS::Key', '/Monitoring/AlarmTopicKey/Resource')].sort(),
    );
    // CloudWatch (alarms) may use the topic's key only, not the archive's.
    expect(JSON.stringify(template.findResources('AWS::KMS::Key')[keyId])).not.toContain(
      'cloudwatch.amazonaws.com',
    );
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            Condition: { ArnLike: Match.anyValue() },
          }),
        ]),
      },
    });
  });

  it('encrypts the bucket, the table and every log group', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(8);
    for (const group of groups) expect(group.Properties.KmsKeyId).toEqual(keyArn);
  });

  it('each function gets named KMS actions on the key for what it touches, no wildcard actions', () => {
    const kmsActions = (handler: string) =>
      statementsOf(template, handler)
        .filter((statement) => actionsOf(statement).some((action) => action.startsWith('kms:')))
        .filter((statement) => JSON.stringify(resourcesOf(statement)) === JSON.stringify([keyArn]))
        .flatMap(actionsOf)
        .sort();
    expect(kmsActions('query')).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
    expect(kmsActions('archive')).toEqual([
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ]);
    for (const statement of allStatements()) {
      for (const action of actionsOf(statement))
        if (action.startsWith('kms:')) expect(action).not.toContain('*');
    }
  });

  it('kms:Decrypt on a secret key only through Secrets Manager, for the functions that read that secret', () => {
    for (const handler of ['check', 'archive', 'sweep-step', 'intake', 'reconcile', 'delete-at-source']) {
      expect(statementsOf(template, handler), handler).toContainEqual(
        expect.objectContaining({
          Action: 'kms:Decrypt',
          Resource: SECRET_KEY,
          Condition: { StringEquals: { 'kms:ViaService': expect.objectContaining({}) } },
        }),
      );
    }
    expect(JSON.stringify(statementsOf(template, 'record'))).not.toContain(SECRET_KEY);
    expect(JSON.stringify(statementsOf(template, 'manifest'))).not.toContain(SECRET_KEY);
  });
});

describe('daily compliance jobs', () => {
  const ruleFor = (handler: string) => {
    const fnId = Object.entries(template.findResources('AWS::Lambda::Function')).find(
      ([, fn]) => fn.Properties.Environment.Variables.CALLVAULT_HANDLER === handler,
    )?.[0];
    return Object.values(template.findResources('AWS::Events::Rule')).filter(
      (rule) =>
        JSON.stringify(rule.Properties.Targets[0].Arn) === JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
    );
  };

  it('reconcile, delete-at-source and manifest each run once a day', () => {
    expect(ruleFor('reconcile').map((rule) => rule.Properties.ScheduleExpression)).toEqual([
      'cron(0 4 * * ? *)',
    ]);
    expect(ruleFor('delete-at-source').map((rule) => rule.Properties.ScheduleExpression)).toEqual([
      'cron(0 5 * * ? *)',
    ]);
    expect(ruleFor('manifest').map((rule) => rule.Properties.ScheduleExpression)).toEqual([
      'cron(30 0 * * ? *)',
    ]);
  });

  it('no delete-at-source function when no account turned it on', () => {
    expect(JSON.stringify(plain.findResources('AWS::Lambda::Function'))).not.toContain('delete-at-source');
  });

  it('delete-at-source: reads index and objects, updates entries and its provider slots, reads only the secret of the deleting account', () => {
    const statements = statementsOf(template, 'delete-at-source').filter(
      (statement) => !actionsOf(statement).some((action) => /^(logs|xray|kms):/.test(action)),
    );
    const actions = statements.flatMap(actionsOf).sort();
    expect([...new Set(actions)]).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      's3:GetObject',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    // A deletion holds one of the account's provider slots, as ingest's requests do.
    const slots = statements.filter((statement) =>
      JSON.stringify(statement.Condition ?? {}).includes('slots#*'),
    );
    expect(slots.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    const secrets = statements.filter((statement) =>
      actionsOf(statement).includes('secretsmanager:GetSecretValue'),
    );
    expect(JSON.stringify(secrets)).toContain('callvault/rc-main');
    expect(JSON.stringify(secrets)).not.toMatch(/callvault\/(ib|dt|vb|bw)-main/);
    // Its accounts object is its own, holding only the deleting account.
    const deleting = complianceStack.compliance.deletingAccounts;
    const env = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (fn) => fn.Properties.Environment.Variables.CALLVAULT_HANDLER === 'delete-at-source',
    )?.Properties.Environment.Variables;
    expect(env?.CALLVAULT_ACCOUNTS_KEY).toBe(deleting?.asset.s3ObjectKey);
    const outdir = (complianceStack.node.root as App).outdir;
    const accounts = JSON.parse(readFileSync(join(outdir, deleting?.asset.assetPath ?? ''), 'utf8'));
    expect(accounts.map((account: { id: string }) => account.id)).toEqual(['rc-main']);
  });

  it('reconcile writes only reports/reconcile/*, manifest only manifests/*', () => {
    const puts = (handler: string) =>
      statementsOf(template, handler)
        .filter((statement) => actionsOf(statement).includes('s3:PutObject'))
        .flatMap(resourcesOf)
        .map((resource) => JSON.stringify(resource));
    expect(puts('reconcile')).toHaveLength(1);
    expect(puts('reconcile')[0]).toContain('/reports/reconcile/*');
    // It reads the day before's report (a missing one answers NoSuchKey, given ListBucket).
    const lists = statementsOf(template, 'reconcile')
      .filter((statement) => actionsOf(statement).includes('s3:ListBucket'))
      .map((statement) => statement.Condition);
    expect(lists).toContainEqual({ StringLike: { 's3:prefix': ['reports/reconcile/*'] } });
    expect(puts('manifest')).toHaveLength(1);
    expect(puts('manifest')[0]).toContain('/manifests/*');
  });

  it('manifest alone lists versions, of manifests/* only (a manifest hidden by a delete marker is seen)', () => {
    const versionLists = (handler: string) =>
      statementsOf(template, handler).filter((statement) =>
        actionsOf(statement).includes('s3:ListBucketVersions'),
      );
    expect(versionLists('manifest').map((statement) => statement.Condition)).toEqual([
      { StringLike: { 's3:prefix': ['manifests/*'] } },
    ]);
    expect(versionLists('reconcile')).toEqual([]);
  });

  it('reconcile writes to the index only its read-back progress: PutItem on verify#… items', () => {
    const writes = statementsOf(template, 'reconcile').filter((statement) =>
      actionsOf(statement).some((action) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(action)),
    );
    expect(writes).toHaveLength(1);
    expect(actionsOf(writes[0] as Statement)).toEqual(['dynamodb:PutItem']);
    expect(writes[0]?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['verify#*'] },
    });
  });

  it('nothing in the stack may delete objects, bypass governance retention or change locks', () => {
    for (const statement of allStatements()) {
      for (const action of actionsOf(statement)) {
        expect(action).not.toMatch(
          /^s3:(Delete|BypassGovernanceRetention|PutObjectLegalHold|PutObjectRetention|PutBucketObjectLock|\*)/,
        );
      }
    }
  });

  it('alarms on any new reconcile gap and any expiring recording (one alarm each for all accounts), on a read-back older than a week, on unverified deletes and job errors', () => {
    // New gaps, not every gap: one lasting gap would otherwise hold the alarm in ALARM for good.
    for (const metric of ['NewReconcileGaps', 'ExpiringRecordings']) {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
        (alarm) => alarm.Properties.MetricName === metric,
      );
      expect(alarms).toHaveLength(1);
      expect(alarms[0]?.Properties).toMatchObject({
        Namespace: 'callvault',
        Dimensions: [{ Name: 'stage', Value: 'reconcile' }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'callvault',
      MetricName: 'VerifiedPassAgeSeconds',
      Dimensions: [{ Name: 'stage', Value: 'reconcile' }],
      Statistic: 'Maximum',
      Threshold: 7 * 86_400,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'callvault',
      MetricName: 'DeleteAtSourceUnverified',
      Threshold: 1,
    });
    const jobErrors = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (alarm) =>
        alarm.Properties.MetricName === 'Errors' &&
        /^callvault daily/.test(alarm.Properties.AlarmDescription),
    );
    expect(jobErrors).toHaveLength(3);
  });

  it("the dashboard graphs the jobs' daily outcome: reconcile's gaps and proof age, delete-at-source's deletions and backlog", () => {
    const body = dashboardBody(template);
    const widgets = (
      JSON.parse(body) as { widgets: { properties: { title: string; metrics: unknown[][] } }[] }
    ).widgets;
    const metricsOf = (title: string) =>
      widgets
        .find((widget) => widget.properties.title.startsWith(title))
        ?.properties.metrics.filter((row) => row[0] === 'callvault')
        .map((row) => row.slice(1, 4));
    expect(metricsOf('Reconcile')).toEqual([
      ['ReconcileGaps', 'stage', 'reconcile'],
      ['ExpiringRecordings', 'stage', 'reconcile'],
      ['VerifiedPassAgeSeconds', 'stage', 'reconcile'],
    ]);
    expect(body).toContain('age / 86400');
    expect(metricsOf('Delete-at-source')).toEqual(
      ['DeletedAtSource', 'DeleteAtSourceUnverified', 'DeleteAtSourceFailed', 'DeleteAtSourceRemaining'].map(
        (name) => [name, 'stage', 'delete-at-source'],
      ),
    );
    expect(dashboardTitles(dashboardBody(plain)).some((title) => title.startsWith('Delete-at-source'))).toBe(
      false,
    );
  });
});

describe('cdk-nag', () => {
  it('stays clean with retention, a created key, a secret key and delete-at-source', () => {
    const nag = nagReport(complianceConfig);
    expect(nag?.conclusion).toBe('success');
    expect(nag?.violations).toEqual([]);
  }, 120_000);
});
