import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkSecrets, formatChecks } from '../../bin/commands/deploy-check.ts';
import { parseDeployConfig } from '../../lambdas/core/config.ts';
import { runCli } from '../helpers/cli.ts';
import { type AwsShims, startAwsShims } from './aws-shims.ts';

const PASSWORD = 'ib-pa55word-value';
const WEBHOOK = 'hook-s3cret-value';
const config = {
  accounts: [
    { id: 'ib-main', provider: 'infobip', baseUrl: 'https://xyz.api.infobip.com' },
    {
      id: 'dt-main',
      provider: 'dialogtech',
      baseUrl: 'https://secure.dialogtech.com',
      lists: [{ type: 'recorded_calls', id: 1 }],
    },
    { id: 'vb-main', provider: 'voipbin', baseUrl: 'https://api.voipbin.net', secret: 'custom/voipbin' },
    { id: 'rc-main', provider: 'restcomm', baseUrl: 'https://rc.example.com/restcomm' },
    { id: 'bw-main', provider: 'bandwidth', baseUrl: 'https://voice.bandwidth.com' },
  ],
};

describe('deploy-check', () => {
  let shims: AwsShims;
  beforeAll(async () => {
    shims = await startAwsShims({
      secrets: {
        'callvault/ib-main': JSON.stringify({
          auth: { username: 'ops', password: PASSWORD },
          webhook: { secret: WEBHOOK },
        }),
        'callvault/dt-main': JSON.stringify({
          auth: { accessKey: 'AK-value' },
          webhooks: { secret: WEBHOOK },
        }),
        'custom/voipbin': 'token=plain-text-value',
        'callvault/bw-main': JSON.stringify({
          auth: { accountId: '9900', username: 'u', password: PASSWORD },
        }),
      },
    });
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', shims.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await shims.close();
  });

  it('tells for every account whether its secret exists and parses, naming fields but no values', async () => {
    const checks = await checkSecrets(parseDeployConfig(config).accounts);
    expect(
      checks.map(({ account, secret, state, webhook }) => ({ account, secret, state, webhook })),
    ).toEqual([
      { account: 'ib-main', secret: 'callvault/ib-main', state: 'ok', webhook: true },
      { account: 'dt-main', secret: 'callvault/dt-main', state: 'invalid', webhook: false },
      { account: 'vb-main', secret: 'custom/voipbin', state: 'invalid', webhook: false },
      { account: 'rc-main', secret: 'callvault/rc-main', state: 'missing', webhook: false },
      { account: 'bw-main', secret: 'callvault/bw-main', state: 'ok', webhook: false },
    ]);
    expect(checks[1]?.detail).toBe('wrong or missing: auth.secretAccessKey, webhooks (unknown field)');
    expect(checks[2]?.detail).toMatch(/not JSON/);
    expect(checks[4]?.detail).toMatch(/no webhook secret/);

    const report = await formatChecks(checks);
    expect(report).toContain(
      `aws secretsmanager create-secret --name callvault/rc-main --secret-string '{"auth":{"accountSid":"...","authToken":"..."},"webhook":{"secret":"..."}}'`,
    );
    expect(report).toContain('3 of 5 secrets need attention');
    for (const value of [PASSWORD, WEBHOOK, 'AK-value', 'plain-text-value'])
      expect(report).not.toContain(value);
    // Read-only: nothing but reads reached Secrets Manager.
    expect(new Set(shims.calls)).toEqual(
      new Set(['SecretsManager.DescribeSecret', 'SecretsManager.GetSecretValue']),
    );
  });

  it('as a command: exits non-zero while a secret needs attention', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callvault-deploy-check-'));
    try {
      const file = join(dir, 'callvault.json');
      writeFileSync(file, JSON.stringify(config));
      const failure = await runCli(['deploy-check', '--config', file], { timeout: 60_000 });
      expect(failure.code).toBe(1);
      expect(failure.stdout).toMatch(/rc-main\s+restcomm\s+callvault\/rc-main\s+missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
