import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type ITable,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  type LifecycleRule,
  ObjectLockRetention,
  ObjectOwnership,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import type { RetentionConfig } from '../../lambdas/core/config.ts';
import {
  ARCHIVE_KEY_PREFIX,
  ENV_VARS,
  INDEX_NAMES,
  INDEX_PARTITIONS,
  INDEX_SORT_KEYS,
  type IndexName,
  PROJECTED_ATTRIBUTES,
} from '../../lambdas/core/names.ts';
import type { AppFunction } from './app-function.ts';
import { acknowledgeObjectPrefix } from './nag.ts';
import { grantProviderSlots } from './provider-slots.ts';

/** What DynamoRecordingIndex reads with: GetItem/BatchGetItem (get, getMany, getCursor) and Query; never Scan. */
const INDEX_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
/** What it writes with: single conditional PutItem/UpdateItem, no deletes, no batches, no transactions. */
const INDEX_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];

/**
 * How a function uses the recording index: `get` (one entry by id, GetItem on the table alone),
 * `read` (items and GSIs), `readPatch` (read, and
 * UpdateItem of compliance fields on existing entries, no PutItem), `readWrite` (read, and
 * conditional single-item writes).
 */
export type IndexAccess = 'get' | 'read' | 'readPatch' | 'readWrite';

/**
 * How a function uses the objects under one bucket prefix: `read` (GetObject), `readList` (and
 * ListBucket limited to the prefix), `readListWrite` (and PutObject), `write` (PutObject only).
 * No delete, no overwrite-protection bypass, no lock changes in any of them.
 */
export type PrefixAccess = 'read' | 'readList' | 'readListWrite' | 'write';

/** A prefix's access and why its object wildcard is right (the cdk-nag acknowledgement). */
export interface PrefixGrant {
  readonly access: PrefixAccess;
  readonly reason: string;
  /**
   * ListBucketVersions on the prefix too: a document written once is not written again over one
   * hidden by a delete marker.
   * @default false
   */
  readonly listVersions?: boolean;
}

/**
 * The table and each of its GSIs by name: least privilege without the `index/*` wildcard that
 * `Table.grantReadData` adds (and without the stream actions, there is no stream).
 */
function indexArns(table: ITable): string[] {
  return [table.tableArn, ...Object.values(INDEX_NAMES).map((name) => `${table.tableArn}/index/${name}`)];
}

/**
 * Use of a customer-managed key (config `encryption`), named actions only: no `kms:ReEncrypt*`
 * or `kms:GenerateDataKey*` wildcards as the CDK's grantEncryptDecrypt adds.
 */
function grantKeyUse(key: IKey | undefined, grantee: IGrantable, write: boolean): void {
  if (!key) return;
  const actions = ['kms:Decrypt', 'kms:DescribeKey'];
  key.grant(grantee, ...(write ? [...actions, 'kms:Encrypt', 'kms:GenerateDataKey'] : actions));
}

/** Read access to the recording index: items and its GSIs. */
function grantIndexRead(table: ITable, grantee: IGrantable): Grant {
  grantKeyUse(table.encryptionKey, grantee, false);
  return Grant.addToPrincipal({ grantee, actions: INDEX_READ_ACTIONS, resourceArns: indexArns(table) });
}

/** UpdateItem on recording items only (compliance fields on an existing entry): no PutItem. */
function grantIndexPatch(table: ITable, grantee: IGrantable): Grant {
  grantKeyUse(table.encryptionKey, grantee, true);
  return Grant.addToPrincipal({ grantee, actions: ['dynamodb:UpdateItem'], resourceArns: [table.tableArn] });
}

/** Read and (conditional single-item) write access to the recording index. */
function grantIndexReadWrite(table: ITable, grantee: IGrantable): Grant {
  grantKeyUse(table.encryptionKey, grantee, true);
  return Grant.addToPrincipal({
    grantee,
    actions: [...INDEX_READ_ACTIONS, ...INDEX_WRITE_ACTIONS],
    resourceArns: indexArns(table),
  });
}

/**
 * What S3ArchiveStore does, on the archive prefix only: ListObjectsV2 (s3:ListBucket, limited to
 * the prefix), HeadObject/GetObject (s3:GetObject), a multipart Upload (s3:PutObject) and its abort
 * on failure (s3:AbortMultipartUpload). No deletes, no bucket configuration, no `s3:*Object*`
 * wildcard actions as in `Bucket.grantReadWrite`. The objects themselves are `recordings/*`: their
 * keys are made per recording at run time.
 */
function grantArchiveReadWrite(bucket: IBucket, grantee: IGrantable): Grant {
  grantKeyUse(bucket.encryptionKey, grantee, true);
  const list = grantPrefixList(bucket, grantee, ARCHIVE_KEY_PREFIX, ['s3:ListBucket']);
  const objects = Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
    resourceArns: [bucket.arnForObjects(`${ARCHIVE_KEY_PREFIX}*`)],
  });
  return list.combine(objects);
}

/** Listing actions (s3:ListBucket, s3:ListBucketVersions) limited to the keys under `prefix`. */
function grantPrefixList(bucket: IBucket, grantee: IGrantable, prefix: string, actions: string[]): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions,
    resourceArns: [bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
  });
}

/** One action on the objects under `prefix`, with the bucket key's use if it has one. */
function grantPrefixObjects(bucket: IBucket, grantee: IGrantable, prefix: string, action: string): Grant {
  grantKeyUse(bucket.encryptionKey, grantee, action !== 's3:GetObject');
  return Grant.addToPrincipal({
    grantee,
    actions: [action],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
}

export interface RecordingStoreProps {
  /**
   * Days after which archived audio moves to S3 Glacier Instant Retrieval (same millisecond access,
   * cheaper storage). Set 0 to keep everything in S3 Standard.
   * @default 30
   */
  readonly transitionAfterDays?: number;
  /**
   * What happens to the bucket and table when the stack is deleted. Archives outlive the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * S3 Object Lock with this default retention. Object Lock can only be enabled when the bucket
   * is created: decided at first deploy.
   * @default no Object Lock
   */
  readonly retention?: RetentionConfig;
  /**
   * Customer-managed key for the bucket and the table.
   * @default S3-managed keys for the bucket, an AWS managed key for the table
   */
  readonly encryptionKey?: IKey;
  /**
   * Lifecycle per account prefix (`recordings/{id}/`). When any account has one, every account
   * gets its own rule (the others with `transitionAfterDays`), so no two rules overlap.
   * @default one rule for the whole archive (`transitionAfterDays`)
   */
  readonly accountLifecycles?: readonly AccountLifecycle[];
}

export interface AccountLifecycle {
  readonly accountId: string;
  /** @default the store's `transitionAfterDays`, nothing expires */
  readonly lifecycle?: {
    readonly glacierInstantRetrievalAfterDays?: number;
    readonly deepArchiveAfterDays?: number;
    readonly expireAfterDays?: number;
  };
}

function transitions(glacierInstantRetrievalAfterDays: number | undefined, deepArchiveAfterDays?: number) {
  return [
    ...(glacierInstantRetrievalAfterDays
      ? [
          {
            storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL,
            transitionAfter: Duration.days(glacierInstantRetrievalAfterDays),
          },
        ]
      : []),
    ...(deepArchiveAfterDays
      ? [{ storageClass: StorageClass.DEEP_ARCHIVE, transitionAfter: Duration.days(deepArchiveAfterDays) }]
      : []),
  ];
}

function archiveLifecycleRules(
  transitionAfterDays: number,
  accounts: readonly AccountLifecycle[] | undefined,
): LifecycleRule[] {
  if (!accounts?.some((account) => account.lifecycle)) {
    return transitionAfterDays > 0 ? [{ transitions: transitions(transitionAfterDays) }] : [];
  }
  return accounts.flatMap((account): LifecycleRule[] => {
    const lifecycle = account.lifecycle ?? { glacierInstantRetrievalAfterDays: transitionAfterDays };
    const rule: LifecycleRule = {
      id: `account-${account.accountId}`,
      prefix: `${ARCHIVE_KEY_PREFIX}${encodeURIComponent(account.accountId)}/`,
      transitions: transitions(lifecycle.glacierInstantRetrievalAfterDays, lifecycle.deepArchiveAfterDays),
      expiration: lifecycle.expireAfterDays ? Duration.days(lifecycle.expireAfterDays) : undefined,
      // Versions replaced by a repair, or left by an expiration, go with the same delay.
      noncurrentVersionExpiration: lifecycle.expireAfterDays
        ? Duration.days(lifecycle.expireAfterDays)
        : undefined,
    };
    return rule.transitions?.length || rule.expiration ? [rule] : [];
  });
}

/**
 * Where recordings live: the audio bucket (encrypted, versioned, private, TLS-only, access-logged)
 * and the index table (on-demand, point-in-time recovery, encrypted, GSIs for account, provider,
 * phone number, open status and time, each ordered by time).
 */
export class RecordingStore extends Construct {
  /** The archived audio, under `recordings/`. */
  public readonly bucket: Bucket;
  /** The audio bucket's server access logs (`audio/`), kept a year. */
  public readonly accessLogsBucket: Bucket;
  /** The recording index, with the provider slots and the sweep journal beside the entries. */
  public readonly table: Table;

  constructor(scope: Construct, id: string, props: RecordingStoreProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const transitionAfterDays = props.transitionAfterDays ?? 30;

    // S3 delivers access logs under a bucket policy (logging.s3.amazonaws.com, this account, the
    // audio bucket only), not the deprecated LogDeliveryWrite ACL: ACLs stay disabled everywhere.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy,
    });

    const retention = props.retention;
    this.bucket = new Bucket(this, 'Audio', {
      ...(props.encryptionKey
        ? { encryption: BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      objectLockEnabled: retention ? true : undefined,
      objectLockDefaultRetention: retention
        ? retention.mode === 'compliance'
          ? ObjectLockRetention.compliance(Duration.days(retention.days))
          : ObjectLockRetention.governance(Duration.days(retention.days))
        : undefined,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'audio/',
      lifecycleRules: [
        // A failed multipart upload must not leave billable parts behind.
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ...archiveLifecycleRules(transitionAfterDays, props.accountLifecycles),
      ],
      removalPolicy,
    });

    // A classic Table (not TableV2): its template properties are CreateTable's, which is how the
    // local stack creates the very same table.
    this.table = new Table(this, 'Index', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: TableEncryption.AWS_MANAGED }),
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    // Listings read only the projection (the entry without the provider's raw record), so a GSI
    // write costs a fraction of the item's size.
    for (const [indexName, partition] of Object.entries(INDEX_PARTITIONS)) {
      this.table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: partition, type: AttributeType.STRING },
        sortKey: { name: INDEX_SORT_KEYS[indexName as IndexName], type: AttributeType.STRING },
        projectionType: ProjectionType.INCLUDE,
        nonKeyAttributes: [...PROJECTED_ATTRIBUTES],
      });
    }
  }

  /** Tells `fn` the index table and grants it `access`: the actions DynamoRecordingIndex uses. */
  public bindIndex(fn: AppFunction, access: IndexAccess): void {
    fn.addEnvironment(ENV_VARS.tableName, this.table.tableName);
    if (access === 'readWrite') {
      grantIndexReadWrite(this.table, fn);
      return;
    }
    if (access === 'get') {
      grantKeyUse(this.table.encryptionKey, fn, false);
      Grant.addToPrincipal({
        grantee: fn,
        actions: ['dynamodb:GetItem'],
        resourceArns: [this.table.tableArn],
      });
      return;
    }
    grantIndexRead(this.table, fn);
    if (access === 'readPatch') grantIndexPatch(this.table, fn);
  }

  /**
   * Lets `fn` (with `read` index access) save reconcile's read-back progress: PutItem on the
   * `verify#…` items only, never on a recording.
   */
  public bindVerificationProgress(fn: AppFunction): void {
    fn.addEnvironment(ENV_VARS.tableName, this.table.tableName);
    grantKeyUse(this.table.encryptionKey, fn, true);
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:PutItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['verify#*'] } },
    });
  }

  /** Tells `fn` the table the provider slots live in, and grants their `slots#…` items only. */
  public bindProviderSlots(fn: AppFunction): void {
    fn.addEnvironment(ENV_VARS.tableName, this.table.tableName);
    grantProviderSlots(this.table, fn);
  }

  /**
   * Tells `fn` the bucket and grants what S3ArchiveStore does on the archive prefix; `reason`
   * acknowledges the `recordings/*` object wildcard.
   */
  public bindArchive(fn: AppFunction, reason: string): void {
    fn.addEnvironment(ENV_VARS.bucketName, this.bucket.bucketName);
    grantArchiveReadWrite(this.bucket, fn);
    acknowledgeObjectPrefix(fn.role, this.bucket, ARCHIVE_KEY_PREFIX, reason);
  }

  /** Tells `fn` the bucket and grants it each prefix's access (see grantPrefixes). */
  public bindBucket(fn: AppFunction, prefixes: Readonly<Record<string, PrefixGrant>>): void {
    fn.addEnvironment(ENV_VARS.bucketName, this.bucket.bucketName);
    this.grantPrefixes(fn, prefixes);
  }

  /**
   * Each prefix's access on the objects under it (`{prefix}*`) and the acknowledgement of that
   * wildcard. Without the bucket's name: for a function that takes it from each index entry.
   */
  public grantPrefixes(fn: AppFunction, prefixes: Readonly<Record<string, PrefixGrant>>): void {
    for (const [prefix, { access, listVersions }] of Object.entries(prefixes)) {
      if (access !== 'write') grantPrefixObjects(this.bucket, fn, prefix, 's3:GetObject');
      if (access === 'readList' || access === 'readListWrite') {
        const versions = listVersions ? ['s3:ListBucketVersions'] : [];
        grantPrefixList(this.bucket, fn, prefix, ['s3:ListBucket', ...versions]);
      }
      if (access === 'write' || access === 'readListWrite') {
        grantPrefixObjects(this.bucket, fn, prefix, 's3:PutObject');
      }
    }
    for (const [prefix, { reason }] of Object.entries(prefixes)) {
      acknowledgeObjectPrefix(fn.role, this.bucket, prefix, reason);
    }
  }
}
