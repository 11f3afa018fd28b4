import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import type { PublicAccount } from '../../lambdas/aws/accounts.ts';
import { ARCHIVE_KEY_PREFIX } from '../../lambdas/core/names.ts';
import { AccountConfig } from './account-config.ts';
import { alarmOnAny } from './alarms.ts';
import { AppFunction } from './app-function.ts';
import { jobMetric } from './metrics.ts';
import type { RecordingStore } from './recording-store.ts';

export const RECONCILE_REPORT_PREFIX = 'reports/reconcile/';
export const MANIFEST_PREFIX = 'manifests/';

export interface ComplianceSchedulesProps {
  /** Every account; delete-at-source runs for those that turned it on. */
  readonly accounts: readonly PublicAccount[];
  /** Every account (configuration object and secrets): reconcile reads them all. */
  readonly accountConfig: AccountConfig;
  /** The archive the jobs check and report into, and the index they check it against. */
  readonly store: RecordingStore;
  /**
   * Alarm when an account's archive has not been re-read in full for this long: the daily
   * reconcile re-reads a time-boxed share per run, so a very large archive, or runs that keep
   * failing, leave the proof stale.
   * @default 7
   */
  readonly verificationMaxAgeDays?: number;
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
  /** Daily at 04:00 UTC: the index against the archive and the providers. */
  public readonly reconcileFunction: AppFunction;
  /** Daily at 00:30 UTC: the hash-chained manifest of the day before. */
  public readonly manifestFunction: AppFunction;
  /** Each job's daily EventBridge rule. */
  public readonly schedules: Rule[] = [];
  /** Undefined when no account deletes at source. */
  public readonly deleteAtSourceFunction?: AppFunction;
  /** The accounts delete-at-source reads: only those that turned it on. */
  public readonly deletingAccounts?: AccountConfig;
  /** Each job's errors, the reconcile findings and, with delete-at-source, unverified archives. */
  public readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ComplianceSchedulesProps) {
    super(scope, id);
    const { store } = props;

    this.reconcileFunction = new AppFunction(this, 'ReconcileFunction', {
      handlerName: 'reconcile',
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    store.bindIndex(this.reconcileFunction, 'read');
    store.bindVerificationProgress(this.reconcileFunction);
    store.bindBucket(this.reconcileFunction, {
      [ARCHIVE_KEY_PREFIX]: { access: 'readList', reason: RECORDINGS_READ },
      [RECONCILE_REPORT_PREFIX]: {
        access: 'readListWrite',
        reason:
          "One report per UTC day (reports/reconcile/{yyyy}/{mm}/{dd}.json): the day before's is read (new gaps) and the day's written, on that prefix only.",
      },
    });
    props.accountConfig.bind(this.reconcileFunction);
    this.daily('Reconcile', this.reconcileFunction, 'cron(0 4 * * ? *)', 'callvault daily reconcile');

    this.manifestFunction = new AppFunction(this, 'ManifestFunction', {
      handlerName: 'manifest',
      timeout: Duration.minutes(15),
    });
    store.bindIndex(this.manifestFunction, 'read');
    store.bindBucket(this.manifestFunction, {
      [ARCHIVE_KEY_PREFIX]: {
        access: 'read',
        reason: 'HeadObject of each archived recording (its version id) on the archive prefix, read-only.',
      },
      [MANIFEST_PREFIX]: {
        access: 'readListWrite',
        listVersions: true,
        reason:
          'One manifest per UTC day (manifests/{yyyy}/{mm}/{dd}.jsonl): read the one before (hash chain) and write the new one.',
      },
    });
    this.daily(
      'Manifest',
      this.manifestFunction,
      'cron(30 0 * * ? *)',
      'callvault daily manifest of the day before',
    );

    const deleting = props.accounts.filter((account) => account.deleteAtSource);
    if (deleting.length > 0) {
      // An accounts object of its own: this function may read only the secrets of these accounts.
      const deletingConfig = new AccountConfig(this, 'DeletingAccounts', {
        accounts: deleting,
        secretsByName: true,
      });
      this.deletingAccounts = deletingConfig;
      const fn = new AppFunction(this, 'DeleteAtSourceFunction', {
        handlerName: 'delete-at-source',
        timeout: Duration.minutes(15),
      });
      // Reads the index and the objects (to verify), records the deletion on the entry, and holds
      // a provider slot for each deletion, as ingest does for its requests: nothing more.
      store.bindIndex(fn, 'readPatch');
      store.bindProviderSlots(fn);
      store.bindBucket(fn, { [ARCHIVE_KEY_PREFIX]: { access: 'read', reason: RECORDINGS_READ } });
      deletingConfig.bind(fn);
      this.daily('DeleteAtSource', fn, 'cron(0 5 * * ? *)', 'callvault daily verified delete-at-source');
      this.deleteAtSourceFunction = fn;
      this.alarms.push(
        alarmOnAny(
          this,
          'DeleteAtSourceUnverified',
          jobMetric('DeleteAtSourceUnverified', 'delete-at-source'),
          'An archive due for delete-at-source did not verify (object missing or bytes changed): it was not deleted at the provider.',
        ),
      );
    }

    const maxAgeDays = props.verificationMaxAgeDays ?? 7;
    // Stack-wide, not per account: two alarms per account would put hundreds of accounts past
    // CloudFormation's 500 resources. The day's report names the accounts and their gaps.
    this.alarms.push(
      // On new gaps only: a lasting gap counted daily would hold the alarm in ALARM, unheard.
      alarmOnAny(
        this,
        'ReconcileGaps',
        jobMetric('NewReconcileGaps', 'reconcile'),
        "Reconcile found gaps the day before's report did not have (missing, object-missing, hash-mismatch, orphan-object or expiring): see reports/reconcile/ for the accounts.",
      ),
      new Alarm(this, 'VerificationOverdue', {
        alarmDescription: `An account's archive was not re-read and re-hashed in full for over ${maxAgeDays} days: see the verification of reports/reconcile/ for the accounts.`,
        // Maximum over every account: the stalest one decides.
        metric: jobMetric('VerifiedPassAgeSeconds', 'reconcile'),
        threshold: maxAgeDays * 86_400,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        // No line at all is the job's own failure, which its Errors alarm reports.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      alarmOnAny(
        this,
        'ExpiringRecordings',
        jobMetric('ExpiringRecordings', 'reconcile'),
        'Recordings are not archived and the provider deletes them soon: see reports/reconcile/ for the accounts.',
      ),
    );
  }

  private daily(id: string, fn: AppFunction, schedule: string, description: string): void {
    const rule = new Rule(this, `${id}Schedule`, {
      description,
      schedule: Schedule.expression(schedule),
      targets: [new LambdaFunction(fn, { retryAttempts: 2 })],
    });
    this.schedules.push(rule);
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
