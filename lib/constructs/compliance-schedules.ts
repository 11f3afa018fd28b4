import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../../lambdas/handlers/emf.ts';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import { ARCHIVE_KEY_PREFIX, grantIndexPatch, grantIndexRead, grantKeyUse } from './recording-store.ts';

export const RECONCILE_REPORT_PREFIX = 'reports/reconcile/';
export const MANIFEST_PREFIX = 'manifests/';

export interface ComplianceAccount {
  readonly id: string;
  readonly deleteAtSource?: { readonly afterDays: number };
}

export interface ComplianceSchedulesProps {
  readonly accounts: readonly ComplianceAccount[];
  /** Same order as `accounts`. */
  readonly accountSecrets: readonly ISecret[];
  /** The public part of every account (CALLVAULT_ACCOUNTS). */
  readonly accountsJson: string;
  readonly bucket: IBucket;
  readonly table: ITable;
}

/** List (prefix-limited) and read objects under `prefix`; read-only. */
function grantPrefixRead(bucket: IBucket, grantee: IGrantable, prefix: string, list: boolean): Grant {
  const read = Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject'],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
  grantKeyUse(bucket.encryptionKey, grantee, false);
  if (!list) return read;
  return read.combine(
    Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    }),
  );
}

/** PutObject under `prefix` only: no delete, no overwrite protection bypass, no lock changes. */
function grantPrefixWrite(bucket: IBucket, grantee: IGrantable, prefix: string): Grant {
  grantKeyUse(bucket.encryptionKey, grantee, true);
  return Grant.addToPrincipal({
    grantee,
    actions: ['s3:PutObject'],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
}

function acknowledgePrefixes(
  scope: Construct,
  fn: AppFunction,
  bucket: IBucket,
  prefixes: Record<string, string>,
) {
  const bucketResource = bucket.node.defaultChild as CfnElement | undefined;
  const policy = fn.role?.node.tryFindChild('DefaultPolicy');
  if (!bucketResource || !policy) return;
  const bucketArn = `<${Stack.of(scope).getLogicalId(bucketResource)}.Arn>`;
  for (const [prefix, reason] of Object.entries(prefixes)) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`,
      reason,
    });
  }
}

const RECORDINGS_READ =
  'Archived audio keys are made per recording at run time (recordings/{account}/{date}/{name}.{ext}): ' +
  'read-only (s3:GetObject) on the archive prefix, to re-hash what the index claims.';

/**
 * The daily compliance jobs: reconcile (report to `reports/reconcile/`, `ReconcileGaps` and
 * `ExpiringRecordings` metrics per account, alarms on any), verified delete-at-source (only for
 * accounts that turned it on) and the manifest of the day before. None of them may delete or
 * overwrite an archived object: only the operator's erasure deletes, and S3 Object Lock refuses
 * it inside retention.
 */
export class ComplianceSchedules extends Construct {
  public readonly reconcileFunction: AppFunction;
  public readonly manifestFunction: AppFunction;
  /** Undefined when no account deletes at source. */
  public readonly deleteAtSourceFunction?: AppFunction;
  public readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ComplianceSchedulesProps) {
    super(scope, id);
    const { bucket, table } = props;

    this.reconcileFunction = new AppFunction(this, 'ReconcileFunction', {
      handlerName: 'reconcile',
      timeout: Duration.minutes(15),
      memorySize: 1024,
      environment: {
        TABLE_NAME: table.tableName,
        BUCKET_NAME: bucket.bucketName,
        CALLVAULT_ACCOUNTS: props.accountsJson,
      },
    });
    grantIndexRead(table, this.reconcileFunction);
    grantPrefixRead(bucket, this.reconcileFunction, ARCHIVE_KEY_PREFIX, true);
    grantPrefixWrite(bucket, this.reconcileFunction, RECONCILE_REPORT_PREFIX);
    for (const secret of props.accountSecrets) secret.grantRead(this.reconcileFunction);
    acknowledgePrefixes(this, this.reconcileFunction, bucket, {
      [ARCHIVE_KEY_PREFIX]: RECORDINGS_READ,
      [RECONCILE_REPORT_PREFIX]:
        'One report per UTC day (reports/reconcile/{yyyy}/{mm}/{dd}.json): s3:PutObject on that prefix only.',
    });
    this.daily('Reconcile', this.reconcileFunction, 'cron(0 4 * * ? *)', 'callvault daily reconcile');

    this.manifestFunction = new AppFunction(this, 'ManifestFunction', {
      handlerName: 'manifest',
      timeout: Duration.minutes(15),
      environment: { TABLE_NAME: table.tableName, BUCKET_NAME: bucket.bucketName },
    });
    grantIndexRead(table, this.manifestFunction);
    grantPrefixRead(bucket, this.manifestFunction, ARCHIVE_KEY_PREFIX, false);
    grantPrefixRead(bucket, this.manifestFunction, MANIFEST_PREFIX, true);
    grantPrefixWrite(bucket, this.manifestFunction, MANIFEST_PREFIX);
    acknowledgePrefixes(this, this.manifestFunction, bucket, {
      [ARCHIVE_KEY_PREFIX]:
        'HeadObject of each archived recording (its version id) on the archive prefix, read-only.',
      [MANIFEST_PREFIX]:
        'One manifest per UTC day (manifests/{yyyy}/{mm}/{dd}.jsonl): read the one before (hash chain) and write the new one.',
    });
    this.daily(
      'Manifest',
      this.manifestFunction,
      'cron(30 0 * * ? *)',
      'callvault daily manifest of the day before',
    );

    const deleting = props.accounts
      .map((account, index) => ({ account, secret: props.accountSecrets[index] }))
      .filter(({ account }) => account.deleteAtSource);
    if (deleting.length > 0) {
      const publicAccounts = (JSON.parse(props.accountsJson) as ComplianceAccount[]).filter(
        (account) => account.deleteAtSource,
      );
      const fn = new AppFunction(this, 'DeleteAtSourceFunction', {
        handlerName: 'delete-at-source',
        timeout: Duration.minutes(15),
        environment: {
          TABLE_NAME: table.tableName,
          BUCKET_NAME: bucket.bucketName,
          CALLVAULT_ACCOUNTS: JSON.stringify(publicAccounts),
        },
      });
      // Reads the index and the objects (to verify), records the deletion on the entry: nothing more.
      grantIndexRead(table, fn);
      grantIndexPatch(table, fn);
      grantPrefixRead(bucket, fn, ARCHIVE_KEY_PREFIX, false);
      for (const { secret } of deleting) secret?.grantRead(fn);
      acknowledgePrefixes(this, fn, bucket, { [ARCHIVE_KEY_PREFIX]: RECORDINGS_READ });
      this.daily('DeleteAtSource', fn, 'cron(0 5 * * ? *)', 'callvault daily verified delete-at-source');
      this.deleteAtSourceFunction = fn;
      this.alarms.push(
        alarmOnAny(
          this,
          'DeleteAtSourceUnverified',
          this.metric('DeleteAtSourceUnverified', { Stage: 'delete-at-source' }),
          'An archive due for delete-at-source did not verify (object missing or bytes changed): it was not deleted at the provider.',
        ),
      );
    }

    for (const account of props.accounts) {
      this.alarms.push(
        alarmOnAny(
          this,
          `ReconcileGaps-${account.id}`,
          this.metric('ReconcileGaps', { Account: account.id }),
          `Reconcile found gaps in account ${account.id} (missing, object-missing, hash-mismatch, orphan-object or expiring): see reports/reconcile/.`,
        ),
        alarmOnAny(
          this,
          `ExpiringRecordings-${account.id}`,
          this.metric('ExpiringRecordings', { Account: account.id }),
          `Recordings of account ${account.id} are not archived and the provider deletes them soon.`,
        ),
      );
    }
  }

  private metric(name: string, dimensionsMap: Record<string, string>): Metric {
    return new Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap,
      period: Duration.days(1),
      statistic: 'Maximum',
    });
  }

  private daily(id: string, fn: AppFunction, schedule: string, description: string): void {
    new Rule(this, `${id}Schedule`, {
      description,
      schedule: Schedule.expression(schedule),
      targets: [new LambdaFunction(fn, { retryAttempts: 2 })],
    });
    this.alarms.push(
      alarmOnAny(
        this,
        `${id}Errors`,
        fn.metricErrors({ period: Duration.days(1), statistic: 'Sum' }),
        `${description} failed.`,
      ),
    );
  }
}
