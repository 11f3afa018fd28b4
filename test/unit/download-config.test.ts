/** accounts[].allowedDownloadHosts and accounts[].maxDownloadBytes: accepted forms, errors by field path. */
import { describe, expect, it } from 'vitest';
import { parseConfig, parseDeployConfig } from '../../lambdas/core/config.ts';

const account = (extra: Record<string, unknown>) => ({
  accounts: [
    {
      id: 'vb-main',
      provider: 'voipbin',
      baseUrl: 'https://api.voipbin.net',
      auth: { token: 'jwt' },
      ...extra,
    },
  ],
});

describe('download settings in the config', () => {
  it('accepts hosts, host:port, IPv4 addresses and *.domain, and a positive byte cap', () => {
    const hosts = ['storage.googleapis.com', 'minio.internal:9000', '10.0.0.7:9000', '*.s3.amazonaws.com'];
    const [parsed] = parseConfig(
      account({ allowedDownloadHosts: hosts, maxDownloadBytes: 500_000_000 }),
    ).accounts;
    expect(parsed).toMatchObject({ allowedDownloadHosts: hosts, maxDownloadBytes: 500_000_000 });
    // Both are not secrets: the deployed stack keeps them.
    const [deployed] = parseDeployConfig(account({ allowedDownloadHosts: hosts })).accounts;
    expect(deployed).toMatchObject({ allowedDownloadHosts: hosts });
    expect(parseConfig(account({})).accounts[0]).not.toHaveProperty('maxDownloadBytes');
  });

  it.each([
    [
      { allowedDownloadHosts: ['https://storage.example.com/'] },
      'accounts[0].allowedDownloadHosts[0] must be a host name',
    ],
    [{ allowedDownloadHosts: ['*'] }, 'accounts[0].allowedDownloadHosts[0] must be a host name'],
    [{ allowedDownloadHosts: 'storage.example.com' }, 'accounts[0].allowedDownloadHosts'],
    [{ maxDownloadBytes: 0 }, 'accounts[0].maxDownloadBytes'],
    [{ maxDownloadBytes: 1.5 }, 'accounts[0].maxDownloadBytes'],
  ])('refuses %j naming the field', (extra, message) => {
    expect(() => parseConfig(account(extra))).toThrow(message);
  });
});
