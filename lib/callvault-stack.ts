import {
  Annotations,
  Aspects,
  CfnOutput,
  type RemovalPolicy,
  Stack,
  type StackProps,
  Tags,
} from 'aws-cdk-lib';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { type DeployConfig, parseDeployConfig } from '../lambdas/core/config.ts';
import { AccountSweeps } from './constructs/account-sweeps.ts';
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
    const accountSecrets: ISecret[] = accounts.map((account) =>
      account.secret.startsWith('arn:')
        ? Secret.fromSecretCompleteArn(this, `Secret-${account.id}`, account.secret)
        : Secret.fromSecretNameV2(this, `Secret-${account.id}`, account.secret),
    );
    const accountsJson = JSON.stringify(accounts);

    this.store = new RecordingStore(this, 'Store', {
      transitionAfterDays: props.transitionAfterDays,
      removalPolicy: props.removalPolicy,
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
    });
    Aspects.of(this).add(new LogRetention(config.logRetentionDays ?? 365));
    for (const [key, value] of Object.entries(config.tags ?? {})) Tags.of(this).add(key, value);

    for (const account of accounts) {
      Annotations.of(this).addInfo(
        `account ${account.id}: put {"auth": {...}${this.webhookApi ? ', "webhook": {"secret": "..."}' : ''}} ` +
          `in secret "${account.secret}"`,
      );
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
}
