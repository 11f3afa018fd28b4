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
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { CfnLogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type DeployConfig, parseDeployConfig } from '../lambdas/core/config.ts';
import { AccountConfig, DEFAULT_SECRET_PREFIX } from './constructs/account-config.ts';
import { AccountSweeps } from './constructs/account-sweeps.ts';
import { ComplianceSchedules } from './constructs/compliance-schedules.ts';
import { FailedRetries } from './constructs/failed-retries.ts';
import { IngestWorkflow } from './constructs/ingest-workflow.ts';
import { LogRetention } from './constructs/log-retention.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { QueryApi } from './constructs/query-api.ts';
import { RecordingStore } from './constructs/recording-store.ts';
import { SweepWorkflow } from './constructs/sweep-workflow.ts';
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
  public readonly accounts: AccountConfig;
  public readonly sweepWorkflow: SweepWorkflow;
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
      secret: account.secret ?? `${DEFAULT_SECRET_PREFIX}${account.id}`,
    }));
    this.accounts = new AccountConfig(this, 'Accounts', { accounts });
    this.encryptionKey = this.customerKey(config);

    this.store = new RecordingStore(this, 'Store', {
      transitionAfterDays: props.transitionAfterDays,
      removalPolicy: props.removalPolicy,
      retention: config.retention,
      encryptionKey: this.encryptionKey,
      accountLifecycles: accounts.map((account) => ({ accountId: account.id, lifecycle: account.lifecycle })),
    });
    this.workflow = new IngestWorkflow(this, 'Workflow', {
      store: this.store,
      accounts: this.accounts,
      readiness: config.readiness,
    });
    this.sweepWorkflow = new SweepWorkflow(this, 'SweepWorkflow', {
      store: this.store,
      accounts: this.accounts,
      ingest: this.workflow,
    });
    this.sweeps = new AccountSweeps(this, 'Sweeps', {
      accounts,
      sweepStateMachineArn: this.sweepWorkflow.stateMachineArn,
    });
    this.retries = new FailedRetries(this, 'Retries', {
      store: this.store,
      ingest: this.workflow,
      retry: config.retry,
    });
    this.compliance = new ComplianceSchedules(this, 'Compliance', {
      accounts,
      accountConfig: this.accounts,
      store: this.store,
      verificationMaxAgeDays: config.alarms?.verificationMaxAgeDays,
    });
    if (props.webhookApi ?? true) {
      this.webhookApi = new WebhookApi(this, 'WebhookApi', {
        store: this.store,
        ingest: this.workflow,
        accounts: this.accounts,
      });
    }
    if (props.queryApi ?? true) {
      this.queryApi = new QueryApi(this, 'QueryApi', { store: this.store });
    }

    // Last: it alarms on every function created above.
    this.monitoring = new Monitoring(this, 'Monitoring', {
      alarms: config.alarms,
      accounts,
      stateMachine: this.workflow.stateMachine,
      table: this.store.table,
      webhookApi: this.webhookApi?.httpApi,
      deletesAtSource: this.compliance.deleteAtSourceFunction !== undefined,
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
    new CfnOutput(this, 'SweepStateMachineArn', {
      description: 'Sweep workflow: `callvault backfill --deployed --stack <name>` starts it',
      value: this.sweepWorkflow.stateMachineArn,
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
