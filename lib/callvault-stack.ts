import {
  Annotations,
  ArnFormat,
  Aspects,
  CfnOutput,
  RemovalPolicy,
  Stack,
  type StackProps,
  Tags,
} from 'aws-cdk-lib';
import { Grant, type IGrantable, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { CfnLogGroup } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { type DeployConfig, parseDeployConfig } from '../lambdas/core/config.ts';
import { AccountSweeps } from './constructs/account-sweeps.ts';
import { ComplianceSchedules } from './constructs/compliance-schedules.ts';
import { FailedRetries } from './constructs/failed-retries.ts';
import { IngestWorkflow } from './constructs/ingest-workflow.ts';
import { LogRetention } from './constructs/log-retention.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { QueryApi } from './constructs/query-api.ts';
import { RecordingStore } from './constructs/recording-store.ts';
import { WebhookApi } from './constructs/webhook-api.ts';

export interface CallvaultStackProps extends StackProps {
  /** Accounts and readiness settings; credentials are never part of this (see `secret`). */
  readonly config: DeployConfig;
  /**
   * Days before archived audio moves to Glacier Instant Retrieval; 0 keeps it in Standard.
   * @default 30
   */
  readonly transitionAfterDays?: number;
  /**
   * Removal policy of the bucket and table.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Deploy the webhook API (`POST /webhooks/{accountId}`, public, authenticated by the handler
   * with each account's webhook secret).
   * @default true
   */
  readonly webhookApi?: boolean;
  /**
   * Deploy the IAM-authorized search API (`GET /recordings`, `GET /recordings/{id}/audio`).
   * @default true
   */
  readonly queryApi?: boolean;
}

/**
 * callvault in one stack: the recording store, the ingest workflow, the scheduled sweeps, and
 * (unless disabled) the webhook API and the search API.
 * Each account's credentials live in Secrets Manager (`secret`, default `callvault/{id}`): the
 * template and the Lambda environment carry only the secret's name.
 */
export class CallvaultStack extends Stack {
  public readonly store: RecordingStore;
  public readonly workflow: IngestWorkflow;
  public readonly sweeps: AccountSweeps;
  public readonly retries: FailedRetries;
  public readonly compliance: ComplianceSchedules;
  /** The customer-managed key (config `encryption`), if any. */
  public readonly encryptionKey?: IKey;
  /** Undefined when `webhookApi: false`. */
  public readonly webhookApi?: WebhookApi;
  /** Undefined when `queryApi: false`. */
  public readonly queryApi?: QueryApi;
  /** The alarm topic, the operator alarms and the dashboard. */
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: CallvaultStackProps) {
    super(scope, id, props);
    // Parsed again, whatever the caller passed: a full config (with `auth`/`webhook` blocks) is
    // structurally a DeployConfig too, and its credentials must never reach the template.
    const config = parseDeployConfig(props.config, `stack ${id} config`);
    const accounts = config.accounts.map((account) => ({
      ...account,
      secret: account.secret ?? `callvault/${account.id}`,
    }));
    const accountSecrets: ISecret[] = accounts.map((account) => {
      const secret = account.secret.startsWith('arn:')
        ? Secret.fromSecretCompleteArn(this, `Secret-${account.id}`, account.secret)
        : Secret.fromSecretNameV2(this, `Secret-${account.id}`, account.secret);
      return account.secretKmsKeyArn ? this.withSecretKey(secret, account.secretKmsKeyArn) : secret;
    });
    this.encryptionKey = this.customerKey(config);
    const accountsJson = JSON.stringify(accounts);

    this.store = new RecordingStore(this, 'Store', {
      transitionAfterDays: props.transitionAfterDays,
      removalPolicy: props.removalPolicy,
      retention: config.retention,
      encryptionKey: this.encryptionKey,
      accountLifecycles: accounts.map((account) => ({ accountId: account.id, lifecycle: account.lifecycle })),
    });
    this.workflow = new IngestWorkflow(this, 'Workflow', {
      bucket: this.store.bucket,
      table: this.store.table,
      accountSecrets,
      accountsJson,
      readiness: config.readiness,
    });
    this.sweeps = new AccountSweeps(this, 'Sweeps', {
      accounts,
      accountSecrets,
      accountsJson,
      table: this.store.table,
      stateMachine: this.workflow.stateMachine,
    });
    this.retries = new FailedRetries(this, 'Retries', {
      table: this.store.table,
      stateMachine: this.workflow.stateMachine,
      retry: config.retry,
    });
    this.compliance = new ComplianceSchedules(this, 'Compliance', {
      accounts,
      accountSecrets,
      accountsJson,
      bucket: this.store.bucket,
      table: this.store.table,
    });
    if (props.webhookApi ?? true) {
      this.webhookApi = new WebhookApi(this, 'WebhookApi', {
        table: this.store.table,
        stateMachine: this.workflow.stateMachine,
        accountSecrets,
        accountsJson,
      });
    }
    if (props.queryApi ?? true) {
      this.queryApi = new QueryApi(this, 'QueryApi', { table: this.store.table, bucket: this.store.bucket });
    }

    // Last: it alarms on every function created above.
    this.monitoring = new Monitoring(this, 'Monitoring', {
      alarms: config.alarms,
      accounts,
      stateMachine: this.workflow.stateMachine,
      table: this.store.table,
      webhookApi: this.webhookApi?.httpApi,
      encryptionKey: this.encryptionKey,
    });
    Aspects.of(this).add(new LogRetention(config.logRetentionDays ?? 365));
    for (const [key, value] of Object.entries(config.tags ?? {})) Tags.of(this).add(key, value);

    for (const account of accounts) {
      Annotations.of(this).addInfo(
        `account ${account.id}: put {"auth": {...}${this.webhookApi ? ', "webhook": {"secret": "..."}' : ''}} ` +
          `in secret "${account.secret}"`,
      );
    }
    const key = this.encryptionKey;
    if (key) {
      // Every log group of the stack, whichever construct made it, is encrypted with the key.
      Aspects.of(this).add({
        visit(node) {
          if (node instanceof CfnLogGroup) node.kmsKeyId = key.keyArn;
        },
      });
    }
    new CfnOutput(this, 'BucketName', { value: this.store.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.store.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'Accounts', {
      description: 'The configured accounts (no credentials): what `callvault status --deployed` shows',
      value: JSON.stringify(accounts.map(({ id, provider, schedule }) => ({ id, provider, schedule }))),
    });
    new CfnOutput(this, 'PollFunctionName', {
      description: 'The sweep function: invoke with {"accountId": "..."} to sweep an account now',
      value: this.sweeps.pollFunction.functionName,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Every alarm notifies this SNS topic: subscribe whoever must hear of them',
      value: this.monitoring.topic.topicArn,
    });
    new CfnOutput(this, 'DashboardUrl', {
      description: 'The callvault dashboard in the CloudWatch console',
      value: this.monitoring.dashboard.url,
    });
    if (this.webhookApi) {
      new CfnOutput(this, 'WebhookBaseUrl', {
        description: 'Provider callback URL: append the account id (POST)',
        value: this.webhookApi.webhookBaseUrl,
      });
    }
    if (this.queryApi) {
      new CfnOutput(this, 'QueryApiUrl', {
        description: 'Search API (SigV4, execute-api:Invoke): GET recordings, GET recordings/{id}/audio',
        value: this.queryApi.url,
      });
    }
  }

  /**
   * A secret encrypted with a customer-managed key: whoever may read it also gets kms:Decrypt on
   * that key, only through Secrets Manager. (An imported key in another account would get no
   * grant from the CDK's own `encryptionKey` handling: its key policy cannot be edited here.)
   */
  private withSecretKey(secret: ISecret, keyArn: string): ISecret {
    const grantRead = secret.grantRead.bind(secret);
    const region = this.region;
    return Object.assign(secret, {
      grantRead(grantee: IGrantable, versionStages?: string[]): Grant {
        const read = grantRead(grantee, versionStages);
        return read.combine(
          Grant.addToPrincipal({
            grantee,
            actions: ['kms:Decrypt'],
            resourceArns: [keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
          }),
        );
      },
    });
  }

  /**
   * The key of config `encryption`: created (rotated yearly, CloudWatch Logs allowed to use it
   * for this account's log groups) or imported by ARN, whose key policy must then allow
   * CloudWatch Logs itself.
   */
  private customerKey(config: DeployConfig): IKey | undefined {
    const encryption = config.encryption;
    if (!encryption) return undefined;
    if ('kmsKeyArn' in encryption) return Key.fromKeyArn(this, 'EncryptionKey', encryption.kmsKeyArn);
    const key = new Key(this, 'EncryptionKey', {
      description: 'callvault: archive bucket, index table and log groups',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': this.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return key;
  }
}
