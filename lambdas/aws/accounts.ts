/**
 * Where handlers find an account's configuration. Locally: the config file, credentials inline.
 * Deployed: the non-secret part in one S3 object (`CALLVAULT_ACCOUNTS_BUCKET`/`_KEY`), read once
 * per container; the `auth` and `webhook` blocks in one Secrets Manager secret per account,
 * fetched on first use and cached.
 *
 * Why an S3 object: the environment holds 4 KB in all (about 20 accounts), an SSM parameter 4 or
 * 8 KB, a table item would need a custom resource to write at deploy. The object is a CDK asset:
 * the CLI uploads it with the code, no custom resource, no size limit that matters (a thousand
 * accounts are ~200 KB), and its key is its content hash, so a config change is a new immutable
 * object and every function moves to it in the same deploy, never reading a half-written one.
 * It says where credentials are sent (`baseUrl`, `allowedDownloadHosts`), and the assets bucket is
 * writable by whoever can deploy: the object is read from its owner only (ExpectedBucketOwner) and
 * used only if it hashes to the SHA-256 the stack was synthesized with.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AccountConfig, accountConfig, problemFields } from '../core/config.ts';
import { ConfigError, UnknownAccountError } from '../core/errors.ts';
import { ENV_VARS } from '../core/names.ts';
import type { AccountDirectory } from '../core/ports.ts';

export class StaticAccountDirectory implements AccountDirectory {
  constructor(private readonly accounts: readonly AccountConfig[]) {}

  async list(): Promise<AccountConfig[]> {
    return [...this.accounts];
  }

  async get(accountId: string): Promise<AccountConfig> {
    const account = this.accounts.find((candidate) => candidate.id === accountId);
    if (!account) throw new UnknownAccountError(`no account "${accountId}" is configured`);
    return account;
  }
}

/** An account as the deployed stack's environment carries it: everything but the secrets. */
export type PublicAccount = Omit<AccountConfig, 'auth' | 'webhook'> & {
  /** Secrets Manager secret name or ARN holding `{ "auth": {...}, "webhook": {...} }`. */
  secret: string;
};

export class SecretsAccountDirectory implements AccountDirectory {
  private readonly cache = new Map<string, { account: AccountConfig; fetchedAt: number }>();
  private accounts: Promise<readonly PublicAccount[]> | undefined;

  constructor(
    private readonly secrets: SecretsManagerClient,
    /** The non-secret configuration, loaded on first use. */
    private readonly load: () => Promise<readonly PublicAccount[]>,
    /** Re-read secrets after this long so a rotation is picked up without a deploy. */
    private readonly ttlMs = 5 * 60_000,
  ) {}

  /**
   * Reads the accounts object named by `CALLVAULT_ACCOUNTS_BUCKET` and `CALLVAULT_ACCOUNTS_KEY`,
   * from `CALLVAULT_ACCOUNTS_BUCKET_OWNER`'s bucket, checked against `CALLVAULT_ACCOUNTS_SHA256`.
   */
  static fromEnvironment(
    secrets: SecretsManagerClient,
    s3: S3Client,
    env = process.env,
  ): SecretsAccountDirectory {
    const bucket = env[ENV_VARS.accountsBucket];
    const key = env[ENV_VARS.accountsKey];
    const sha256 = env[ENV_VARS.accountsSha256];
    if (!bucket || !key || !sha256) {
      throw new ConfigError(
        `${ENV_VARS.accountsBucket}, ${ENV_VARS.accountsKey} and ${ENV_VARS.accountsSha256} are not all set`,
      );
    }
    const owner = env[ENV_VARS.accountsBucketOwner];
    return new SecretsAccountDirectory(secrets, async () => {
      const object = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ...(owner ? { ExpectedBucketOwner: owner } : {}) }),
      );
      const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
      const source = `s3://${bucket}/${key}`;
      if (createHash('sha256').update(bytes).digest('hex') !== sha256) {
        throw new ConfigError(
          `${source} is not the accounts object this stack was deployed with (its SHA-256 differs): it was changed in the bucket; deploy again`,
        );
      }
      return parsePublicAccounts(Buffer.from(bytes).toString('utf8'), source);
    });
  }

  private publicAccounts(): Promise<readonly PublicAccount[]> {
    this.accounts ??= this.load().catch((error: unknown) => {
      this.accounts = undefined; // a failed read is tried again by the next call
      throw error;
    });
    return this.accounts;
  }

  async list(): Promise<AccountConfig[]> {
    return Promise.all((await this.publicAccounts()).map((account) => this.get(account.id)));
  }

  async get(accountId: string): Promise<AccountConfig> {
    const cached = this.cache.get(accountId);
    if (cached && Date.now() - cached.fetchedAt < this.ttlMs) return cached.account;
    const publicPart = (await this.publicAccounts()).find((candidate) => candidate.id === accountId);
    if (!publicPart) throw new UnknownAccountError(`no account "${accountId}" is configured`);
    const { secret, ...rest } = publicPart;
    const value = await this.secrets.send(new GetSecretValueCommand({ SecretId: secret }));
    let secretJson: unknown;
    try {
      secretJson = JSON.parse(value.SecretString ?? '');
    } catch {
      throw new ConfigError(`secret for account "${accountId}" is not a JSON object with "auth"`);
    }
    const parsed = accountConfig.safeParse({ ...rest, ...(secretJson as object) });
    if (!parsed.success) {
      const fields = problemFields(parsed.error).join(', ');
      // Only field names: the values are secrets.
      throw new ConfigError(`secret for account "${accountId}" is missing or has invalid fields: ${fields}`);
    }
    this.cache.set(accountId, { account: parsed.data, fetchedAt: Date.now() });
    return parsed.data;
  }
}

/** The accounts object: a JSON array of PublicAccount. */
export function parsePublicAccounts(text: string, source: string): PublicAccount[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(`${source} is not a JSON array of accounts`);
  return parsed as PublicAccount[];
}
