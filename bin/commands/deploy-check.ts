/**
 * `callvault deploy-check --config <file>`: before (or after) `cdk deploy`, with the user's AWS
 * credentials and read-only (DescribeSecret, GetSecretValue): every account's secret, whether it
 * exists and whether it parses as that provider's credentials. A missing secret means every sweep
 * of that account fails; this says so on day one, with the command that creates it.
 * Secret values are never printed: problems name fields only.
 */
import type { Command } from 'commander';
import type { DeployAccountConfig } from '../../lambdas/core/config.ts';

export type SecretState = 'ok' | 'missing' | 'invalid' | 'unreadable';

export interface SecretCheck {
  account: string;
  provider: string;
  secret: string;
  state: SecretState;
  detail: string;
  /** The secret has a `webhook.secret` (without it, callbacks are answered 401). */
  webhook: boolean;
}

/** The `auth` fields each provider needs (values are placeholders). */
const AUTH_FIELDS: Record<DeployAccountConfig['provider'], string[]> = {
  infobip: ['username', 'password'],
  dialogtech: ['accessKey', 'secretAccessKey'],
  voipbin: ['token'],
  restcomm: ['accountSid', 'authToken'],
  bandwidth: ['accountId', 'username', 'password'],
};

export function secretTemplate(provider: DeployAccountConfig['provider']): string {
  const auth = Object.fromEntries(AUTH_FIELDS[provider].map((field) => [field, '...']));
  return JSON.stringify({ auth, webhook: { secret: '...' } });
}

export async function checkSecrets(accounts: readonly DeployAccountConfig[]): Promise<SecretCheck[]> {
  const [
    { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient },
    { accountConfig, problemFields },
  ] = await Promise.all([import('@aws-sdk/client-secrets-manager'), import('../../lambdas/core/config.ts')]);
  const client = new SecretsManagerClient({});
  const checks: SecretCheck[] = [];
  try {
    for (const account of accounts) {
      const secret = account.secret ?? `callvault/${account.id}`;
      const check: SecretCheck = {
        account: account.id,
        provider: account.provider,
        secret,
        state: 'ok',
        detail: '',
        webhook: false,
      };
      checks.push(check);
      let text: string | undefined;
      try {
        await client.send(new DescribeSecretCommand({ SecretId: secret }));
        text = (await client.send(new GetSecretValueCommand({ SecretId: secret }))).SecretString;
      } catch (error) {
        const name = (error as Error).name;
        check.state = name === 'ResourceNotFoundException' ? 'missing' : 'unreadable';
        check.detail =
          check.state === 'missing' ? 'create it (below)' : `${name}: ${(error as Error).message}`;
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(text ?? '');
      } catch {
        check.state = 'invalid';
        check.detail = 'not JSON (a binary or plain-text secret?)';
        continue;
      }
      if (typeof json !== 'object' || json === null) {
        check.state = 'invalid';
        check.detail = 'not a JSON object with "auth"';
        continue;
      }
      const parsed = accountConfig.safeParse({ ...account, ...json });
      if (!parsed.success) {
        check.state = 'invalid';
        check.detail = `wrong or missing: ${problemFields(parsed.error).join(', ')}`;
        continue;
      }
      check.webhook = parsed.data.webhook !== undefined;
      check.detail = check.webhook
        ? 'auth and webhook secret'
        : 'auth; no webhook secret (callbacks get 401)';
    }
  } finally {
    client.destroy();
  }
  return checks;
}

export async function formatChecks(checks: readonly SecretCheck[]): Promise<string> {
  const { table } = await import('../../local/report.ts');
  const lines = [
    table(
      ['account', 'provider', 'secret', 'state', ''],
      checks.map((check) => [check.account, check.provider, check.secret, check.state, check.detail]),
    ),
  ];
  const missing = checks.filter((check) => check.state === 'missing');
  if (missing.length > 0) {
    lines.push(
      '',
      'Create the missing secrets (fill in the values; leave out "webhook" if the account sends none):',
    );
    for (const check of missing) {
      const provider = check.provider as DeployAccountConfig['provider'];
      lines.push(
        `  aws secretsmanager create-secret --name ${check.secret} --secret-string '${secretTemplate(provider)}'`,
      );
    }
  }
  const bad = checks.filter((check) => check.state !== 'ok').length;
  lines.push(
    '',
    bad === 0
      ? `all ${checks.length} secrets exist and parse`
      : `${bad} of ${checks.length} secrets need attention`,
  );
  return lines.join('\n');
}

export function registerDeployCheck(program: Command): void {
  program
    .command('deploy-check')
    .description("check, read-only with your AWS credentials, that every account's secret exists and parses")
    .requiredOption('--config <file>', 'the config file the stack is deployed from')
    .option('--json', 'print JSON')
    .action(async (options: { config: string; json?: boolean }) => {
      const [{ readFile }, { parseDeployConfig }, { ConfigError }] = await Promise.all([
        import('node:fs/promises'),
        import('../../lambdas/core/config.ts'),
        import('../../lambdas/core/errors.ts'),
      ]);
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(options.config, 'utf8'));
      } catch (error) {
        throw new ConfigError(`cannot read config file ${options.config}: ${(error as Error).message}`);
      }
      const checks = await checkSecrets(parseDeployConfig(raw, `config file ${options.config}`).accounts);
      console.log(options.json ? JSON.stringify(checks, null, 2) : await formatChecks(checks));
      process.exitCode = checks.every((check) => check.state === 'ok') ? 0 : 1;
    });
}
