/**
 * Names the stack (lib/) and the functions (lambdas/) must agree on: what the CDK writes, the
 * handlers read. Pure constants, no imports, so either side imports them without pulling in
 * the other's runtime.
 */

/** The environment variables the stack sets on a function and its handler reads. */
export const ENV_VARS = {
  /** The recording index table (also the provider slots and the sweep journal). */
  tableName: 'TABLE_NAME',
  /** The audio bucket. */
  bucketName: 'BUCKET_NAME',
  /** The ingest workflow that recordings are handed to. */
  stateMachineArn: 'STATE_MACHINE_ARN',
  /** The sweep workflow, which the sweep itself continues in a fresh execution. */
  sweepStateMachineArn: 'SWEEP_STATE_MACHINE_ARN',
  /** Where the non-secret account configuration object lives (lambdas/aws/accounts.ts). */
  accountsBucket: 'CALLVAULT_ACCOUNTS_BUCKET',
  accountsKey: 'CALLVAULT_ACCOUNTS_KEY',
  /** The AWS account that owns that bucket (the CDK assets bucket: the stack's own account). */
  accountsBucketOwner: 'CALLVAULT_ACCOUNTS_BUCKET_OWNER',
  /** The object's SHA-256 at synth: a copy changed in the bucket since is refused. */
  accountsSha256: 'CALLVAULT_ACCOUNTS_SHA256',
  /** The readiness settings (JSON) the check function polls with. */
  readiness: 'CALLVAULT_READINESS',
  /** The retry settings (JSON) of the retry job for failed recordings. */
  retry: 'CALLVAULT_RETRY',
  /** Which handler a function runs: how the local stack maps a Task back to its code. */
  handler: 'CALLVAULT_HANDLER',
} as const;

/**
 * Where archived audio lives in the bucket: `recordings/{accountId}/{yyyy}/{mm}/{dd}/{name}.{ext}`
 * (lambdas/core/ids.ts); the stack's grants and lifecycle rules are limited to it.
 */
export const ARCHIVE_KEY_PREFIX = 'recordings/';

/** The recording index's GSIs. */
export const INDEX_NAMES = {
  byAccount: 'byAccount',
  byProvider: 'byProvider',
  byFrom: 'byFrom',
  byTo: 'byTo',
  byStatus: 'byStatus',
  byTime: 'byTime',
  byArchived: 'byArchived',
} as const;
export type IndexName = (typeof INDEX_NAMES)[keyof typeof INDEX_NAMES];

/**
 * The partition attribute of each GSI (its sort attribute: INDEX_SORT_KEYS). `byStatus` is sparse:
 * only entries that are not archived carry `openStatus`. `byTime`, `byArchived` and `byProvider`
 * spread their entries over shards by a hash of the id, so no partition takes every write: a
 * listing queries each shard and merges them in time order (a day's archives are read shard after
 * shard, in no order).
 */
export const INDEX_PARTITIONS: Record<IndexName, string> = {
  byAccount: 'accountId',
  byProvider: 'providerShard',
  byFrom: 'fromNumber',
  byTo: 'toNumber',
  byStatus: 'openStatus',
  byTime: 'timeShard',
  byArchived: 'timeShard',
};

/**
 * The sort attribute of each GSI: the listing order (`sortKey`, start time then id), except
 * `byArchived`, sparse on `archivedAt` (only archived, or once archived, entries carry it): what a
 * day's manifest reads, whatever the size of the whole index.
 */
export const INDEX_SORT_KEYS: Record<IndexName, string> = {
  byAccount: 'sortKey',
  byProvider: 'sortKey',
  byFrom: 'sortKey',
  byTo: 'sortKey',
  byStatus: 'sortKey',
  byTime: 'sortKey',
  byArchived: 'archivedAt',
};

/** What every GSI projects besides its keys. */
export const PROJECTED_ATTRIBUTES = ['listing', 'failures'] as const;
