/**
 * Where handlers find an account's configuration. Locally: the config file, credentials inline.
 * Deployed: the non-secret part in the Lambda environment (`CALLVAULT_ACCOUNTS`), the `auth` and
 * `webhook` blocks in one Secrets Manager secret per account, fetched on first use and cached.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AccountConfig, accountConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { AccountDirectory } from '../core/ports.ts';

export class StaticAccountDirectory implements AccountDirectory {
  constructor(private readonly accounts: readonly AccountConfig[]) {}

  async list(): Promise<AccountConfig[]> {
    return [...this.accounts];
  }

  async get(accountId: string): Promise<AccountConfig> {
    const account = this.accounts.find((candidate) => candidate.id === accountId);
    if (!account) throw new ConfigError(`no account "${accountId}" is configured`);
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

  constructor(
    private readonly secrets: SecretsManagerClient,
    private readonly accounts: readonly PublicAccount[],
    /** Re-read secrets after this long so a rotation is picked up without a deploy. */
    private readonly ttlMs = 5 * 60_000,
  ) {}

  /** Reads `CALLVAULT_ACCOUNTS` (JSON array of PublicAccount). */
  static fromEnvironment(secrets: SecretsManagerClient, env = process.env): SecretsAccountDirectory {
    const text = env.CALLVAULT_ACCOUNTS;
    if (!text) throw new ConfigError('CALLVAULT_ACCOUNTS is not set');
    try {
      return new SecretsAccountDirectory(secrets, JSON.parse(text) as PublicAccount[]);
    } catch (error) {
      throw new ConfigError(`CALLVAULT_ACCOUNTS is not valid JSON: ${(error as Error).message}`);
    }
  }

  async list(): Promise<AccountConfig[]> {
    return Promise.all(this.accounts.map((account) => this.get(account.id)));
  }

  async get(accountId: string): Promise<AccountConfig> {
    const cached = this.cache.get(accountId);
    if (cached && Date.now() - cached.fetchedAt < this.ttlMs) return cached.account;
    const publicPart = this.accounts.find((candidate) => candidate.id === accountId);
    if (!publicPart) throw new ConfigError(`no account "${accountId}" is configured`);
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
      const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
      // Only field names: the values are secrets.
      throw new ConfigError(`secret for account "${accountId}" is missing or has invalid fields: ${fields}`);
    }
    this.cache.set(accountId, { account: parsed.data, fetchedAt: Date.now() });
    return parsed.data;
  }
}
