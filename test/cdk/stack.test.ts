import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { parseDeployConfig } from '../../lambdas/core/config.ts';
import { objectKeyPrefix } from '../../lambdas/core/ids.ts';
import { ARCHIVE_KEY_PREFIX, INDEX_NAMES } from '../../lambdas/core/names.ts';
import { CallvaultStack } from '../../lib/callvault-stack.ts';
import {
  actionsOf,
  callvaultApp,
  definitionOf,
  exampleConfig,
  functionOf,
  logicalIdOf,
  resourcesOf,
  type Statement,
  statementsOf,
  synthExample,
  unbundledApp,
} from './synth.ts';

const { template } = synthExample();
const bucketId = logicalIdOf(template, 'AWS::S3::Bucket', '/Store/Audio/Resource');
const logsBucketId = logicalIdOf(template, 'AWS::S3::Bucket', '/Store/AccessLogs/Resource');
const tableId = logicalIdOf(template, 'AWS::DynamoDB::Table', '/Store/Index/Resource');
const stateMachineId = logicalIdOf(
  template,
  'AWS::StepFunctions::StateMachine',
  '/Workflow/StateMachine/Resource',
);
const sweepMachineId = logicalIdOf(
  template,
  'AWS::StepFunctions::StateMachine',
  '/SweepWorkflow/StateMachine/Resource',
);
const accounts = parseDeployConfig(exampleConfig).accounts;

/** The accounts object the functions read, as the synthesized asset holds it. */
function accountsObject(app: App, stack: CallvaultStack): Record<string, unknown>[] {
  return JSON.parse(readFileSync(join(app.outdir, stack.accounts.asset.assetPath), 'utf8'));
}

/** s3:GetObject on the accounts object only, and the account secrets (one prefix statement). */
function expectAccountsRead(statements: Statement[]): void {
  const s3 = withPrefix(statements, 's3:');
  expect(s3).toHaveLength(1);
  expect(s3[0]?.Action).toBe('s3:GetObject');
  expect(json(s3[0]?.Resource)).toMatch(/cdk-[a-z0-9]+-assets-.*\/[0-9a-f]{64}\.json/);
  const secrets = withPrefix(statements, 'secretsmanager:');
  expect(secrets).toHaveLength(1);
  expect(actionsOf(secrets[0] as Statement).sort()).toEqual([
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetSecretValue',
  ]);
  expect(json(secrets[0]?.Resource)).toContain('secret:callvault/*');
}
const webhookApiId = logicalIdOf(template, 'AWS::ApiGatewayV2::Api', '/WebhookApi/Api/Resource');
const queryApiId = logicalIdOf(template, 'AWS::ApiGatewayV2::Api', '/QueryApi/Api/Resource');

const DYNAMO_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
const withPrefix = (statements: Statement[], prefix: string) =>
  statements.filter((statement) => actionsOf(statement).some((action) => action.startsWith(prefix)));
const actions = (statements: Statement[], prefix = '') =>
  new Set(statements.flatMap(actionsOf).filter((action) => action.startsWith(prefix)));
const json = (value: unknown) => JSON.stringify(value);

/** Get, BatchGet and Query on the table and each of its GSIs by name; no write, no Scan. */
function expectIndexReadOnly(statements: Statement[]): void {
  expect(actions(statements, 'dynamodb:')).toEqual(
    new Set(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']),
  );
  const dynamo = json(withPrefix(statements, 'dynamodb:').flatMap(resourcesOf));
  expect(dynamo).toContain(tableId);
  for (const name of Object.values(INDEX_NAMES)) expect(dynamo).toContain(`/index/${name}"`);
}

/** Statements on anything but the provider-slot items (test/cdk/provider-slots.test.ts covers those). */
const withoutSlots = (statements: Statement[]) =>
  statements.filter((statement) => !String(json(statement.Condition)).includes('slots#*'));

describe('IAM: each function gets exactly what it uses', () => {
  const handlers = ['check', 'archive', 'record', 'sweep-step', 'intake', 'query'];

  it.each(handlers)('%s: own role, no managed policy, logs to its own log group only', (handler) => {
    const { properties } = functionOf(template, handler);
    const roleId = ((properties.Role as Record<string, string[]>)['Fn::GetAtt'] as string[])[0] as string;
    expect(template.findResources('AWS::IAM::Role')[roleId]?.Properties?.ManagedPolicyArns).toBeUndefined();
    const logs = withPrefix(statementsOf(template, handler), 'logs:');
    expect(logs.flatMap(actionsOf).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    const logGroupId = (
      (properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup as { Ref: string }
    ).Ref;
    expect(logs.flatMap(resourcesOf)).toEqual([{ 'Fn::GetAtt': [logGroupId, 'Arn'] }]);
  });

  it.each(handlers)('%s: the only Resource "*" is X-Ray; no wildcard actions', (handler) => {
    for (const statement of statementsOf(template, handler)) {
      expect(statement.Effect).toBe('Allow');
      for (const action of actionsOf(statement)) expect(action).not.toContain('*');
      if (resourcesOf(statement).includes('*')) {
        expect(actionsOf(statement).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      }
      // Table and GSIs by name: no `index/*`.
      expect(json(statement.Resource)).not.toContain('/index/*');
    }
  });

  it('check: reads the table and its indexes, reads the secrets, nothing else', () => {
    const statements = withoutSlots(statementsOf(template, 'check'));
    expectIndexReadOnly(statements);
    expect(actions(statements, 'states:').size).toBe(0);
    expectAccountsRead(statements);
  });

  it('archive: read/write on the audio objects under recordings/ only, secrets read, its entry read by id', () => {
    const statements = withoutSlots(statementsOf(template, 'archive'));
    expect(actions(statements, 's3:')).toEqual(
      new Set(['s3:ListBucket', 's3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload']),
    );
    const s3 = withPrefix(statements, 's3:').filter((statement) => json(statement).includes(bucketId));
    expect(json(withPrefix(statements, 's3:'))).not.toContain(logsBucketId);
    expect(withPrefix(statements, 's3:')).toHaveLength(s3.length + 1);
    const objects = s3.find((statement) => actionsOf(statement).includes('s3:PutObject'));
    expect(objects?.Resource).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${ARCHIVE_KEY_PREFIX}*`]],
    });
    const list = s3.find((statement) => actionsOf(statement).includes('s3:ListBucket'));
    expect(list?.Resource).toEqual({ 'Fn::GetAtt': [bucketId, 'Arn'] });
    expect(list?.Condition).toEqual({ StringLike: { 's3:prefix': [`${ARCHIVE_KEY_PREFIX}*`] } });
    // One GetItem before the download (erased since the check?): no query, no write, no GSI.
    const dynamo = withPrefix(statements, 'dynamodb:');
    expect(dynamo.flatMap(actionsOf)).toEqual(['dynamodb:GetItem']);
    expect(dynamo[0]?.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
    expect(actions(statements, 'secretsmanager:')).toContain('secretsmanager:GetSecretValue');
  });

  it('the archive prefix is where the handler writes', () => {
    const key = objectKeyPrefix(
      { accountId: 'a', provider: 'voipbin', providerRecordingId: 'r' } as Parameters<
        typeof objectKeyPrefix
      >[0],
      '2026-01-02T03:04:05Z',
    );
    expect(key.startsWith(ARCHIVE_KEY_PREFIX)).toBe(true);
  });

  it('record: reads and writes the index; no S3, no secrets', () => {
    const statements = statementsOf(template, 'record');
    expect(actions(statements, 'dynamodb:')).toEqual(
      new Set([
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]),
    );
    expect(json(withPrefix(statements, 'dynamodb:'))).toContain(tableId);
    expect(actions(statements, 's3:').size).toBe(0);
    expect(actions(statements, 'secretsmanager:').size).toBe(0);
  });

  it('ended: writes the index and reads the history of ingest executions only; no S3, no secrets', () => {
    const statements = statementsOf(template, 'ended');
    const states = withPrefix(statements, 'states:');
    expect(states.flatMap(actionsOf)).toEqual(['states:GetExecutionHistory']);
    expect(json(states[0]?.Resource)).toContain(':execution:');
    expect(json(states[0]?.Resource)).toContain(stateMachineId);
    expect(actions(statements, 'dynamodb:')).toContain('dynamodb:PutItem');
    expect(actions(statements, 's3:').size).toBe(0);
    expect(actions(statements, 'secretsmanager:').size).toBe(0);
  });

  /** StartExecution on the state machine, DescribeExecution on its executions, nothing else. */
  function expectStartAndDescribeOnly(statements: Statement[], others = 0): void {
    const states = withPrefix(statements, 'states:');
    expect(states).toHaveLength(2 + others);
    expect(states).toContainEqual({
      Effect: 'Allow',
      Action: 'states:StartExecution',
      Resource: { Ref: stateMachineId },
    });
    const describe = states.find((statement) => statement.Action === 'states:DescribeExecution');
    expect(json(describe?.Resource)).toContain(':execution:');
    expect(json(describe?.Resource)).toContain(stateMachineId);
  }

  it('sweep-step: reads and writes the index, starts ingest executions and continuations of its own workflow, reads the accounts', () => {
    const statements = statementsOf(template, 'sweep-step');
    for (const action of ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem']) {
      expect(actions(statements, 'dynamodb:')).toContain(action);
    }
    // One StartExecution statement (policies are minimized) on both workflows, and Describe on ingest.
    const states = withPrefix(statements, 'states:');
    expect(states).toHaveLength(2);
    const start = states.find((statement) => statement.Action === 'states:StartExecution');
    expect(json(start?.Resource)).toContain(stateMachineId);
    expect(json(start?.Resource)).toContain(':stateMachine:Callvault-sweep');
    const describe = states.find((statement) => statement.Action === 'states:DescribeExecution');
    expect(json(describe?.Resource)).toContain(':execution:');
    expect(json(describe?.Resource)).toContain(stateMachineId);
    expectAccountsRead(statements);
  });

  it('intake: reads the table and its indexes, starts executions of the state machine, reads the secrets; no write, no S3', () => {
    const statements = statementsOf(template, 'intake');
    expectIndexReadOnly(statements);
    expectStartAndDescribeOnly(statements);
    // Every account's secret: the webhook secret sits next to the provider credentials.
    expectAccountsRead(statements);
    expect(new Set(statements.flatMap(actionsOf).map((action) => action.split(':')[0]))).toEqual(
      new Set(['logs', 'xray', 'dynamodb', 'states', 'secretsmanager', 's3']),
    );
  });

  it('query: reads the table and its indexes, s3:GetObject on recordings/* only; no secrets, no StartExecution', () => {
    const statements = statementsOf(template, 'query');
    expectIndexReadOnly(statements);
    expect(withPrefix(statements, 's3:')).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${ARCHIVE_KEY_PREFIX}*`]] },
      },
    ]);
    expect(actions(statements, 'secretsmanager:').size).toBe(0);
    expect(actions(statements, 'states:').size).toBe(0);
    expect(new Set(statements.flatMap(actionsOf).map((action) => action.split(':')[0]))).toEqual(
      new Set(['logs', 'xray', 'dynamodb', 's3']),
    );
  });

  it('no DynamoDB write outside record and sweep-step (but for the provider slots)', () => {
    for (const handler of ['check', 'archive', 'intake', 'query']) {
      for (const action of DYNAMO_WRITES)
        expect(actions(withoutSlots(statementsOf(template, handler)))).not.toContain(action);
    }
  });

  it('the state machine invokes the three workflow functions, unqualified', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      String(policy.Metadata?.['aws:cdk:path']).includes('/Workflow/StateMachine/Role/'),
    );
    const invoke = policies
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
      .filter((statement) => actionsOf(statement).includes('lambda:InvokeFunction'));
    // Sorted: the pinned `@aws-cdk/aws-iam:minimizePolicies` flag orders merged resources.
    const targets = invoke.flatMap(resourcesOf).map((target) => json(target));
    expect(targets.sort()).toEqual(
      ['check', 'archive', 'record']
        .map((handler) => json({ 'Fn::GetAtt': [functionOf(template, handler).id, 'Arn'] }))
        .sort(),
    );
  });
});

describe('secrets never reach the template', () => {
  const withAuth = {
    accounts: [
      {
        id: 'ib',
        provider: 'infobip',
        baseUrl: 'https://x.api.infobip.com',
        auth: { apiKey: 'SECRET-ib-apikey-1' },
      },
      {
        id: 'dt',
        provider: 'dialogtech',
        baseUrl: 'https://secure.dialogtech.com',
        lists: [{ type: 'recorded_calls', id: 1 }],
        auth: { accessKey: 'SECRET-dt-access-2', secretAccessKey: 'SECRET-dt-secret-3' },
        webhook: { secret: 'SECRET-dt-webhook-4', previousSecret: 'SECRET-dt-webhook-5' },
      },
      {
        id: 'vb',
        provider: 'voipbin',
        baseUrl: 'https://api.voipbin.net',
        auth: { token: 'SECRET-vb-token-6' },
      },
      {
        id: 'rc',
        provider: 'restcomm',
        baseUrl: 'https://rc.example.com/restcomm',
        auth: { accountSid: 'SECRET-rc-sid-7', authToken: 'SECRET-rc-token-8' },
      },
      {
        id: 'bw',
        provider: 'bandwidth',
        baseUrl: 'https://voice.bandwidth.com',
        auth: { accountId: 'SECRET-bw-acct-9', username: 'SECRET-bw-user-10', password: 'SECRET-bw-pass-11' },
      },
    ],
  };
  const secretValues = JSON.stringify(withAuth).match(/SECRET-[a-z]+-[a-z]+-\d+/g) ?? [];

  const expectNoSecrets = (templateJson: string) => {
    expect(secretValues).toHaveLength(11);
    for (const value of secretValues) expect(templateJson).not.toContain(value);
    expect(templateJson).not.toMatch(/\\?"(auth|webhook)\\?"/);
  };

  it('as bin/app.ts builds it (config parsed by parseDeployConfig)', () => {
    const { app, stack } = callvaultApp(withAuth);
    const built = Template.fromStack(stack);
    expectNoSecrets(JSON.stringify(built.toJSON()));
    // The accounts still reach the functions (through the accounts object), minus their credentials.
    const object = accountsObject(app, stack);
    expectNoSecrets(JSON.stringify(object));
    expect(object.map((account) => account.id)).toEqual(['ib', 'dt', 'vb', 'rc', 'bw']);
  });

  it('the API functions carry accounts and names only, no credential or webhook secret', () => {
    const { app, stack } = callvaultApp(withAuth);
    const built = Template.fromStack(stack);
    for (const handler of ['intake', 'query']) {
      const environment = JSON.stringify(functionOf(built, handler).properties.Environment);
      for (const value of secretValues) expect(environment).not.toContain(value);
      expect(environment).not.toMatch(/\\?"(auth|webhook|previousSecret|password|token|apiKey)\\?"/);
    }
    const intake = (
      functionOf(built, 'intake').properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(
      Object.keys(intake)
        .filter((name) => name.startsWith('CALLVAULT_ACCOUNTS'))
        .sort(),
    ).toEqual([
      'CALLVAULT_ACCOUNTS_BUCKET',
      'CALLVAULT_ACCOUNTS_BUCKET_OWNER',
      'CALLVAULT_ACCOUNTS_KEY',
      'CALLVAULT_ACCOUNTS_SHA256',
    ]);
    // The object is read from the stack's own account, and only as synthesized (it says where
    // credentials go): its hash is the file's.
    expect(intake.CALLVAULT_ACCOUNTS_BUCKET_OWNER).toEqual({ Ref: 'AWS::AccountId' });
    const assetFile = readFileSync(join(app.outdir, stack.accounts.asset.assetPath));
    expect(intake.CALLVAULT_ACCOUNTS_SHA256).toBe(createHash('sha256').update(assetFile).digest('hex'));
    const intakeAccounts = accountsObject(app, stack);
    expect(intakeAccounts.map((account) => account.id)).toEqual(['ib', 'dt', 'vb', 'rc', 'bw']);
    expect(intakeAccounts.find((account) => account.id === 'dt')?.secret).toBe('callvault/dt');
    // The query function needs no account configuration at all.
    const query = (
      functionOf(built, 'query').properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(Object.keys(query).sort()).toEqual(['CALLVAULT_HANDLER', 'NODE_OPTIONS', 'TABLE_NAME']);
  });

  it('even when a caller hands the stack a full config with credentials', () => {
    const app = unbundledApp();
    const stack = new CallvaultStack(app, 'Direct', { config: withAuth as never });
    expectNoSecrets(JSON.stringify(app.synth().getStackByName(stack.stackName).template));
  });
});

describe('recording store', () => {
  it('audio bucket: encrypted, versioned, private, access-logged, TLS-only, lifecycle', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: logsBucketId }, LogFilePrefix: 'audio/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
          Match.objectLike({
            Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
            Status: 'Enabled',
          }),
        ]),
      },
    });
  });

  it.each([
    ['audio', () => bucketId],
    ['access logs', () => logsBucketId],
  ])('%s bucket policy denies plain HTTP', (_name, id) => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('buckets and table are retained by default', () => {
    for (const id of [bucketId, logsBucketId, tableId]) {
      expect(template.toJSON().Resources[id].DeletionPolicy).toBe('Retain');
    }
  });

  it('index table: on demand, PITR, SSE, the GSIs the code queries', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    });
    const table = template.toJSON().Resources[tableId].Properties;
    const indexes = (table.GlobalSecondaryIndexes as { IndexName: string }[]).map((index) => index.IndexName);
    expect(indexes.sort()).toEqual(Object.values(INDEX_NAMES).sort());
  });
});

describe('functions', () => {
  it('every Lambda: nodejs22.x on arm64, active tracing, a handler name', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    // Ingest and the APIs, ended and retry (test/cdk/failed-recordings.test.ts), and the daily
    // reconcile and manifest (test/cdk/compliance.test.ts).
    expect(functions).toHaveLength(10);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Environment.Variables.CALLVAULT_HANDLER).toMatch(
        /^(check|archive|record|sweep-step|intake|query|ended|retry|reconcile|manifest)$/,
      );
    }
  });

  it('every log group has a retention', () => {
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(365);
    }
  });

  it('every function is told the table or bucket it uses, and only those', () => {
    for (const handler of ['check', 'record', 'sweep-step', 'intake', 'query']) {
      const variables = (
        functionOf(template, handler).properties.Environment as { Variables: Record<string, unknown> }
      ).Variables;
      expect(variables.TABLE_NAME).toEqual({ Ref: tableId });
      expect(variables.BUCKET_NAME).toBeUndefined();
    }
    const archive = (
      functionOf(template, 'archive').properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(archive.BUCKET_NAME).toEqual({ Ref: bucketId });
    // For its provider slots only.
    expect(archive.TABLE_NAME).toEqual({ Ref: tableId });
    const env = (handler: string) =>
      (functionOf(template, handler).properties.Environment as { Variables: Record<string, unknown> })
        .Variables;
    expect(env('intake').STATE_MACHINE_ARN).toEqual({ Ref: stateMachineId });
    expect(env('query').TABLE_NAME).toEqual({ Ref: tableId });
  });

  it('the webhook function answers within seconds', () => {
    expect(functionOf(template, 'intake').properties.Timeout).toBe(10);
    expect(functionOf(template, 'query').properties.Timeout).toBeLessThanOrEqual(29);
  });
});

describe('sweeps', () => {
  it('one EventBridge Scheduler schedule per account starts the sweep workflow with {accountId}, through one role', () => {
    // EventBridge rules remain for the stack's own jobs (ended, retry, compliance); none per account.
    const accountRules = Object.values(template.findResources('AWS::Events::Rule')).filter((rule) =>
      JSON.stringify(rule).includes('accountId'),
    );
    expect(accountRules).toHaveLength(0);
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    expect(schedules).toHaveLength(accounts.length);
    const roles = new Set(schedules.map((schedule) => json(schedule.Properties.Target.RoleArn)));
    expect(roles.size).toBe(1);
    for (const account of accounts) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: account.schedule,
        ScheduleExpressionTimezone: 'UTC',
        State: 'ENABLED',
        Target: Match.objectLike({ Input: JSON.stringify({ accountId: account.id }) }),
      });
    }
    expect(json(schedules[0]?.Properties.Target.Arn)).toContain(':stateMachine:Callvault-sweep');
    expect(accounts.find((account) => account.id === 'bw-main')?.schedule).toBe('rate(5 minutes)');
  });

  it('the scheduler role may start the sweep workflow and nothing else', () => {
    const roleId = logicalIdOf(template, 'AWS::IAM::Role', '/Sweeps/SchedulerRole/Resource');
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
    expect(statements.map((statement) => statement.Action)).toEqual(['states:StartExecution']);
    expect(json(statements[0]?.Resource)).toContain(':stateMachine:Callvault-sweep');
  });
});

describe('sweep workflow', () => {
  const definition = definitionOf(template, '/SweepWorkflow/StateMachine/Resource');

  it('loops one page per task until the pass is done; JSONPath only; its machine has the name its function starts', () => {
    expect(definition.StartAt).toBe('SweepPage');
    expect(Object.keys(definition.States).sort()).toEqual(
      [
        'NextUnit',
        'OtherSweepRunning',
        'SweepDone',
        'SweepFailed',
        'SweepPage',
        'WaitForInFlight',
        'WaitForOtherSweep',
      ].sort(),
    );
    expect(json(definition)).not.toContain('JSONata');
    const page = definition.States.SweepPage as Record<string, unknown>;
    expect(json(page.Parameters)).toContain('$$.Execution.Name');
    const choices = (definition.States.NextUnit as { Choices: Record<string, unknown>[] }).Choices;
    expect(choices[0]).toMatchObject({ Variable: '$.status', StringEquals: 'running', Next: 'SweepPage' });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Callvault-sweep',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
    const sweepEnv = (
      functionOf(template, 'sweep-step').properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(json(sweepEnv.SWEEP_STATE_MACHINE_ARN)).toContain(':stateMachine:Callvault-sweep');
    expect(sweepEnv.STATE_MACHINE_ARN).toEqual({ Ref: stateMachineId });
  });

  it('retries the transient errors of a unit (Lambda service, throttling, a provider busy) and fails the execution on anything else', () => {
    const page = definition.States.SweepPage as { Retry: { ErrorEquals: string[] }[]; Catch: unknown[] };
    const retried = page.Retry.flatMap((retrier) => retrier.ErrorEquals);
    for (const error of [
      'ProviderUnavailableError',
      'ProviderBusyError',
      'AwsThrottledError',
      'SweepIncompleteError',
      'Lambda.TooManyRequestsException',
      'Lambda.ServiceException',
      'Lambda.Unknown',
      'Sandbox.Timedout',
      'States.Timeout',
    ])
      expect(retried).toContain(error);
    expect(page.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'SweepFailed' }]);
  });
});

describe('ingest workflow', () => {
  const definition = definitionOf(template);
  const states = definition.States;

  it('a Standard state machine with logging (no execution data) and tracing', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
  });

  it('keeps its states', () => {
    expect(definition.StartAt).toBe('CheckReadiness');
    expect(Object.keys(states).sort()).toEqual(
      [
        'AlreadyDone',
        'AlreadyDoneFreePlace',
        'AlreadyDonePaced',
        'Archive',
        'CheckReadiness',
        'Erased',
        'ErasedFreePlace',
        'ErasedPaced',
        'IngestFailed',
        'RecordArchived',
        'RecordFailed',
        'RecordSkipped',
        'Route',
        'WaitForRecording',
      ].sort(),
    );
  });

  it('uses JSONPath only: no JSONata anywhere', () => {
    expect([undefined, 'JSONPath']).toContain(definition.QueryLanguage);
    for (const state of Object.values(states)) expect([undefined, 'JSONPath']).toContain(state.QueryLanguage);
    expect(JSON.stringify(definition)).not.toContain('{%');
  });

  it('Task states call their functions payload-only, with a timeout and retries', () => {
    const tasks = Object.entries(states).filter(([, state]) => state.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(
      [
        'AlreadyDoneFreePlace',
        'Archive',
        'CheckReadiness',
        'ErasedFreePlace',
        'RecordArchived',
        'RecordFailed',
        'RecordSkipped',
      ].sort(),
    );
    const handlerOf: Record<string, string> = {
      CheckReadiness: 'check',
      Archive: 'archive',
      RecordArchived: 'record',
      RecordSkipped: 'record',
      RecordFailed: 'record',
      AlreadyDoneFreePlace: 'record',
      ErasedFreePlace: 'record',
    };
    for (const [name, state] of tasks) {
      // payloadResponseOnly: the function ARN is the Resource, no OutputPath: $.Payload.
      expect(state.Resource).toContain(functionOf(template, handlerOf[name] as string).id);
      expect(state.OutputPath).toBeUndefined();
      expect(state.TimeoutSeconds).toBeGreaterThan(0);
      expect((state.Retry as unknown[]).length).toBeGreaterThan(0);
    }
  });

  const errorsOf = (rules: unknown) =>
    (rules as { ErrorEquals: string[] }[]).flatMap((rule) => rule.ErrorEquals);
  const catchTarget = (state: Record<string, unknown>, error: string) =>
    (state.Catch as { ErrorEquals: string[]; Next: string }[]).find((rule) =>
      rule.ErrorEquals.includes(error),
    )?.Next;

  it('retries the transient typed errors and catches the final ones', () => {
    for (const name of ['CheckReadiness', 'Archive']) {
      const state = states[name] as Record<string, unknown>;
      expect(errorsOf(state.Retry)).toEqual(
        expect.arrayContaining(['ProviderUnavailableError', 'IncompleteDownloadError']),
      );
      expect(catchTarget(state, 'States.ALL')).toBe('RecordFailed');
    }
    const archive = states.Archive as Record<string, unknown>;
    expect(catchTarget(archive, 'RecordingNotReadyError')).toBe('WaitForRecording');
    expect(catchTarget(archive, 'RecordingGoneError')).toBe('RecordSkipped');
    // Erased while it ran: the tombstone stands, the execution writes nothing.
    expect(catchTarget(archive, 'RecordingErasedError')).toBe('ErasedPaced');
    expect(states.Erased?.Type).toBe('Succeed');
    // Freeing a paced place is advisory: it never fails the execution.
    for (const name of ['AlreadyDoneFreePlace', 'ErasedFreePlace']) {
      const state = states[name] as Record<string, unknown>;
      expect(catchTarget(state, 'States.ALL')).toBe(name.replace('FreePlace', ''));
      expect(state.Next).toBe(name.replace('FreePlace', ''));
    }
    // The specific catchers come before the catch-all.
    expect(errorsOf(archive.Catch).at(-1)).toBe('States.ALL');
    expect(states.RecordFailed?.Next).toBe('IngestFailed');
    expect(states.IngestFailed?.Type).toBe('Fail');
  });

  it('the typed error names are the classes the handlers throw', async () => {
    const errors = await import('../../lambdas/core/errors.ts');
    for (const name of [
      'ProviderUnavailableError',
      'IncompleteDownloadError',
      'RecordingGoneError',
      'RecordingNotReadyError',
    ]) {
      const ErrorClass = (errors as unknown as Record<string, new (message: string) => Error>)[name];
      expect(ErrorClass && new ErrorClass('x').name).toBe(name);
    }
  });
});

describe('alarms', () => {
  // The operator alarms of lib/constructs/monitoring.ts: test/cdk/monitoring.test.ts.
  it('failed executions and failed sweeps alarm', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: sweepMachineId } }],
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId } }],
      Threshold: 1,
    });
    for (const api of [webhookApiId, queryApiId]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/ApiGateway',
        MetricName: '5xx',
        Dimensions: [{ Name: 'ApiId', Value: { Ref: api } }],
        Threshold: 1,
      });
    }
  });
});

describe('HTTP APIs', () => {
  type Json = Record<string, unknown>;
  const routesOf = (apiId: string) =>
    Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
      .map((route) => route.Properties as Json)
      .filter((route) => (route.ApiId as Json).Ref === apiId);
  const integrationTarget = (route: Json) => {
    const integrationId = (((route.Target as Json)['Fn::Join'] as [string, Json[]])[1][1] as Json)
      .Ref as string;
    const integration = template.findResources('AWS::ApiGatewayV2::Integration')[integrationId]?.Properties;
    return {
      type: integration?.IntegrationType,
      uri: integration?.IntegrationUri,
      version: integration?.PayloadFormatVersion,
    };
  };

  it('webhook API: POST /webhooks/{accountId} only, no authorizer, to the intake function', () => {
    const routes = routesOf(webhookApiId);
    expect(routes.map((route) => [route.RouteKey, route.AuthorizationType])).toEqual([
      ['POST /webhooks/{accountId}', 'NONE'],
    ]);
    expect(integrationTarget(routes[0] as Json)).toEqual({
      type: 'AWS_PROXY',
      uri: { 'Fn::GetAtt': [functionOf(template, 'intake').id, 'Arn'] },
      version: '2.0',
    });
  });

  it('query API: every route IAM-authorized, to the query function', () => {
    const routes = routesOf(queryApiId);
    expect(routes.map((route) => [route.RouteKey, route.AuthorizationType]).sort()).toEqual([
      ['GET /recordings', 'AWS_IAM'],
      ['GET /recordings/{id}', 'AWS_IAM'],
      ['GET /recordings/{id}/audio', 'AWS_IAM'],
    ]);
    for (const route of routes) {
      expect(integrationTarget(route)).toEqual({
        type: 'AWS_PROXY',
        uri: { 'Fn::GetAtt': [functionOf(template, 'query').id, 'Arn'] },
        version: '2.0',
      });
    }
  });

  it('no other route anywhere (no $default catch-all)', () => {
    expect(Object.keys(template.findResources('AWS::ApiGatewayV2::Route'))).toHaveLength(4);
  });

  it.each([
    ['webhook', () => webhookApiId, { burst: 100, rate: 50 }],
    ['query', () => queryApiId, { burst: 20, rate: 10 }],
  ])(
    '%s API: one auto-deployed $default stage, throttled, access-logged to a log group with retention',
    (_name, api, limits) => {
      const stages = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))
        .map((stage) => stage.Properties as Json)
        .filter((stage) => (stage.ApiId as Json).Ref === api());
      expect(stages).toHaveLength(1);
      const stage = stages[0] as Json;
      expect(stage.StageName).toBe('$default');
      expect(stage.AutoDeploy).toBe(true);
      expect(stage.DefaultRouteSettings).toEqual({
        ThrottlingBurstLimit: limits.burst,
        ThrottlingRateLimit: limits.rate,
      });
      const logs = stage.AccessLogSettings as {
        DestinationArn: { 'Fn::GetAtt': [string, string] };
        Format: string;
      };
      const logGroup = template.findResources('AWS::Logs::LogGroup')[logs.DestinationArn['Fn::GetAtt'][0]];
      expect(logGroup?.Properties.RetentionInDays).toBe(365);
      const format = JSON.parse(logs.Format) as Record<string, string>;
      expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
      // No headers (Authorization, signatures) and no query string (phone numbers) in the logs.
      expect(logs.Format).not.toMatch(/header|querystring|\$context\.authorizer/i);
    },
  );

  it('API Gateway may invoke each function, for its own API only', () => {
    for (const [handler, api] of [
      ['intake', webhookApiId],
      ['query', queryApiId],
    ] as const) {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission'))
        .map((permission) => permission.Properties as Json)
        .filter((permission) => json(permission.FunctionName).includes(functionOf(template, handler).id));
      expect(permissions.length).toBeGreaterThan(0);
      for (const permission of permissions) {
        expect(permission.Principal).toBe('apigateway.amazonaws.com');
        expect(json(permission.SourceArn)).toContain(api);
      }
    }
  });

  it('outputs the webhook base URL and the query API URL', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(json(outputs.WebhookBaseUrl?.Value)).toContain(webhookApiId);
    expect(json(outputs.WebhookBaseUrl?.Value)).toMatch(/\/webhooks\/"\]\]\}$/);
    expect(json(outputs.QueryApiUrl?.Value)).toContain(queryApiId);
  });

  it('grantInvoke gives execute-api:Invoke on the two GET routes of the query API only', () => {
    const app = unbundledApp();
    const stack = new CallvaultStack(app, 'Granted', { config: parseDeployConfig(exampleConfig) });
    const reader = new Role(stack, 'Reader', { assumedBy: new AccountRootPrincipal() });
    stack.queryApi?.grantInvoke(reader);
    const built = Template.fromStack(stack);
    const readerId = logicalIdOf(built, 'AWS::IAM::Role', '/Reader/Resource');
    const statements = Object.values(built.findResources('AWS::IAM::Policy'))
      .filter((policy) => ((policy.Properties as Json).Roles as Json[]).some((ref) => ref.Ref === readerId))
      .flatMap(
        (policy) => ((policy.Properties as Json).PolicyDocument as { Statement: Statement[] }).Statement,
      );
    expect(new Set(statements.flatMap(actionsOf))).toEqual(new Set(['execute-api:Invoke']));
    const resources = json(statements.flatMap(resourcesOf));
    const apiId = logicalIdOf(built, 'AWS::ApiGatewayV2::Api', '/QueryApi/Api/Resource');
    expect(resources).toContain(apiId);
    expect(resources).toContain('/*/GET/recordings"');
    expect(resources).toContain('/*/GET/recordings/*"');
    expect(resources).toContain('/*/GET/recordings/*/audio"');
    expect(statements.flatMap(resourcesOf)).toHaveLength(3);
    expect(resources).not.toContain(logicalIdOf(built, 'AWS::ApiGatewayV2::Api', '/WebhookApi/Api/Resource'));
  });

  it.each([
    ['webhookApi', 'intake', 'WebhookBaseUrl'],
    ['queryApi', 'query', 'QueryApiUrl'],
  ])('%s: false leaves that API, its function and its output out', (prop, handler, output) => {
    const app = unbundledApp();
    const stack = new CallvaultStack(app, 'Without', {
      config: parseDeployConfig(exampleConfig),
      [prop]: false,
    });
    const built = Template.fromStack(stack);
    expect(Object.keys(built.findResources('AWS::ApiGatewayV2::Api'))).toHaveLength(1);
    expect(() => functionOf(built, handler)).toThrow(/0 functions/);
    expect(Object.keys(built.toJSON().Outputs)).not.toContain(output);
    expect(Object.keys(built.findResources('AWS::Lambda::Function'))).toHaveLength(9);
  });
});
