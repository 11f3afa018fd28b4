import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig, parseDeployConfig } from '../../lambdas/core/config.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';

const accounts = () => [
  {
    id: 'ib-main',
    provider: 'infobip',
    baseUrl: 'https://xyz.api.infobip.com',
    auth: { apiKey: 'key-1' },
  },
  {
    id: 'dt-main',
    provider: 'dialogtech',
    baseUrl: 'https://secure.dialogtech.com/',
    timeZone: 'America/Chicago',
    auth: { accessKey: 'ak', secretAccessKey: 'sak' },
    lists: [{ type: 'recorded_calls', id: 1234 }],
  },
  { id: 'vb-main', provider: 'voipbin', baseUrl: 'https://api.voipbin.net', auth: { token: 'jwt' } },
  {
    id: 'rc-main',
    provider: 'restcomm',
    baseUrl: 'https://mycompany.restcomm.com/restcomm',
    auth: { accountSid: 'AC1', authToken: 'tok' },
  },
  {
    id: 'bw-main',
    provider: 'bandwidth',
    baseUrl: 'https://voice.bandwidth.com',
    schedule: 'rate(5 minutes)',
    auth: { accountId: '9900', username: 'u', password: 'p' },
  },
];

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('accepts one account of every provider and fills the defaults', () => {
    const config = parseConfig({ accounts: accounts() });
    expect(config.accounts.map((account) => account.provider)).toEqual([
      'infobip',
      'dialogtech',
      'voipbin',
      'restcomm',
      'bandwidth',
    ]);
    expect(config.readiness).toEqual({
      initialDelaySeconds: 30,
      maxDelaySeconds: 900,
      deadlineSeconds: 172_800,
    });
    const [infobip, dialogtech, , restcomm, bandwidth] = config.accounts;
    expect(infobip?.timeZone).toBe('UTC');
    expect(infobip?.schedule).toBe('rate(15 minutes)');
    expect(dialogtech?.timeZone).toBe('America/Chicago');
    // Trailing slashes are dropped, a context path is kept.
    expect(dialogtech?.baseUrl).toBe('https://secure.dialogtech.com');
    expect(restcomm?.baseUrl).toBe('https://mycompany.restcomm.com/restcomm');
    expect(bandwidth?.schedule).toBe('rate(5 minutes)');
    if (dialogtech?.provider !== 'dialogtech') throw new Error('expected dialogtech');
    expect(dialogtech.format).toBe('wav');
  });

  it('accepts Infobip username/password auth as well as an API key', () => {
    const config = parseConfig({
      accounts: [{ ...accounts()[0], auth: { username: 'u', password: 'p' } }],
    });
    expect(config.accounts[0]?.auth).toEqual({ username: 'u', password: 'p' });
  });

  it('names the missing field with its index, e.g. accounts[2].auth.token', () => {
    const input = accounts();
    input[2] = { ...input[2], auth: {} } as (typeof input)[number];
    const error = errorOf(() => parseConfig({ accounts: input }, 'my.json'));
    expect(error.message).toContain('my.json is invalid');
    expect(error.message).toContain('accounts[2].auth.token is required');
  });

  it('treats an empty credential as missing', () => {
    const input = accounts();
    input[4] = {
      ...input[4],
      auth: { accountId: '9900', username: 'u', password: '' },
    } as (typeof input)[number];
    expect(errorOf(() => parseConfig({ accounts: input })).message).toContain(
      'accounts[4].auth.password is required',
    );
  });

  it('lists every problem, not only the first', () => {
    const input = accounts();
    input[0] = { ...input[0], id: 'bad id!' } as (typeof input)[number];
    input[1] = { ...input[1], timeZone: 'Mars/Olympus', lists: [] } as (typeof input)[number];
    input[3] = { ...input[3], baseUrl: 'ftp://example.com' } as (typeof input)[number];
    const message = errorOf(() => parseConfig({ accounts: input })).message;
    expect(message).toContain('accounts[0].id must be 1-64 letters, digits, "-" or "_"');
    expect(message).toContain('accounts[1].timeZone must be an IANA time zone');
    expect(message).toContain('accounts[1].lists needs at least one');
    expect(message).toContain('accounts[3].baseUrl must start with http:// or https://');
  });

  it('rejects an unknown provider at the discriminator', () => {
    const input = [{ ...accounts()[2], provider: 'twilio' }];
    expect(errorOf(() => parseConfig({ accounts: input })).message).toMatch(/accounts\[0\]\.provider/);
  });

  it('rejects duplicate account ids naming the second one', () => {
    const input = [accounts()[2], { ...accounts()[3], id: 'vb-main' }];
    expect(errorOf(() => parseConfig({ accounts: input })).message).toContain(
      'accounts[1].id "vb-main" is used twice',
    );
  });

  it('needs at least one account and reports the top level', () => {
    expect(errorOf(() => parseConfig({ accounts: [] })).message).toContain(
      'accounts needs at least one account',
    );
    expect(errorOf(() => parseConfig({})).message).toContain('accounts is required');
    expect(errorOf(() => parseConfig('nope')).message).toContain('(top level)');
  });

  it('refuses a misspelt field anywhere instead of silently using the default', () => {
    const [, dialogtech, voipbin] = accounts();
    const { timeZone: _zone, ...untimed } = dialogtech as Record<string, unknown>;
    const message = errorOf(() =>
      parseConfig({
        accounts: [
          { ...untimed, timezone: 'America/Chicago' },
          { ...voipbin, webhooks: { secret: 's' }, sweep: { lookbackHour: 2 } },
        ],
        readines: { deadlineSeconds: 60 },
      }),
    ).message.split('\n');
    expect(message.slice(1).sort()).toEqual(
      [
        '  accounts[0].timezone is not a field callvault knows (misspelt?)',
        '  accounts[1].webhooks is not a field callvault knows (misspelt?)',
        '  accounts[1].sweep.lookbackHour is not a field callvault knows (misspelt?)',
        '  readines is not a field callvault knows (misspelt?)',
      ].sort(),
    );
  });

  it('says what a field of the wrong type must be, without its value', () => {
    const [, dialogtech, voipbin] = accounts();
    const message = errorOf(() =>
      parseConfig({
        accounts: [
          { ...dialogtech, maxConcurrency: '4', lists: null },
          { ...voipbin, auth: 'jwt-secret-value' },
        ],
      }),
    ).message;
    expect(message).toContain('accounts[0].maxConcurrency must be a number, not a string');
    expect(message).toContain('accounts[0].lists must be an array, not null');
    expect(message).toContain('accounts[1].auth must be an object, not a string');
    expect(message).not.toContain('is required');
    expect(message).not.toContain('jwt-secret-value');
  });

  it('validates readiness: maxDelaySeconds must not be below initialDelaySeconds', () => {
    const message = errorOf(() =>
      parseConfig({ accounts: accounts(), readiness: { initialDelaySeconds: 60, maxDelaySeconds: 30 } }),
    ).message;
    expect(message).toContain(
      'readiness.maxDelaySeconds maxDelaySeconds must be at least initialDelaySeconds',
    );
    const ok = parseConfig({ accounts: accounts(), readiness: { initialDelaySeconds: 5 } });
    expect(ok.readiness).toEqual({ initialDelaySeconds: 5, maxDelaySeconds: 900, deadlineSeconds: 172_800 });
    expect(
      errorOf(() => parseConfig({ accounts: accounts(), readiness: { deadlineSeconds: 0 } })).message,
    ).toContain('readiness.deadlineSeconds');
  });

  it('accepts DialogTech list ids as numbers or digit strings only', () => {
    const ok = parseConfig({ accounts: [{ ...accounts()[1], lists: [{ type: 'x', id: '0042' }] }] });
    expect(ok.accounts[0]?.provider).toBe('dialogtech');
    const message = errorOf(() =>
      parseConfig({ accounts: [{ ...accounts()[1], lists: [{ type: 'x', id: '12a' }] }] }),
    ).message;
    expect(message).toContain('accounts[0].lists[0].id');
  });
});

describe('parseDeployConfig', () => {
  it('needs no credentials and drops inline ones', () => {
    const input = accounts().map(({ auth: _auth, ...account }) => account);
    const config = parseDeployConfig({ accounts: input });
    expect(config.accounts).toHaveLength(5);
    const withAuth = parseDeployConfig({ accounts: [{ ...accounts()[2], webhook: { secret: 's' } }] });
    expect(withAuth.accounts[0]).not.toHaveProperty('auth');
    expect(withAuth.accounts[0]).not.toHaveProperty('webhook');
    expect(withAuth.accounts[0]?.id).toBe('vb-main');
  });

  it('still validates the rest of each account', () => {
    const message = errorOf(() =>
      parseDeployConfig(
        { accounts: [{ id: 'x', provider: 'voipbin', baseUrl: 'not a url', secertKmsKeyArn: 'arn:x' }] },
        'cdk.json',
      ),
    ).message;
    expect(message).toContain('cdk.json is invalid');
    expect(message).toContain('accounts[0].baseUrl');
    expect(message).toContain('accounts[0].secertKmsKeyArn is not a field callvault knows');
  });
});

describe('loadConfigFile', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('reads a JSON file, and names the file when it is missing or not JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'callvault-config-'));
    dirs.push(dir);
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ accounts: [accounts()[2]] }));
    expect((await loadConfigFile(good)).accounts[0]?.id).toBe('vb-main');

    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ nope');
    await expect(loadConfigFile(bad)).rejects.toThrow(`config file ${bad} is not valid JSON`);
    await expect(loadConfigFile(join(dir, 'missing.json'))).rejects.toThrow(/cannot read config file/);

    const invalid = join(dir, 'invalid.json');
    await writeFile(invalid, JSON.stringify({ accounts: [{ ...accounts()[2], auth: {} }] }));
    await expect(loadConfigFile(invalid)).rejects.toThrow('accounts[0].auth.token is required');
  });
});
