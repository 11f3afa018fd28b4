import { describe, expect, it } from 'vitest';
import { parseConfig, parseDeployConfig, providerRetentionDays } from '../../lambdas/core/config.ts';

const infobip = {
  id: 'ib',
  provider: 'infobip',
  baseUrl: 'https://x.api.infobip.com',
  auth: { apiKey: 'k' },
};
const restcomm = {
  id: 'rc',
  provider: 'restcomm',
  baseUrl: 'https://rc.example.com/restcomm',
  auth: { accountSid: 'AC1', authToken: 't' },
};

describe('compliance config', () => {
  it('refuses deleteAtSource on an Infobip account, naming the field, when the config loads', () => {
    const accounts = [restcomm, { ...infobip, deleteAtSource: { afterDays: 30 } }];
    expect(() => parseConfig({ accounts })).toThrow(
      'accounts[1].deleteAtSource: infobip cannot delete recordings',
    );
    expect(() => parseDeployConfig({ accounts })).toThrow(
      'accounts[1].deleteAtSource: infobip cannot delete recordings',
    );
    expect(
      parseConfig({ accounts: [{ ...restcomm, deleteAtSource: { afterDays: 30 } }] }).accounts[0],
    ).toMatchObject({
      deleteAtSource: { afterDays: 30 },
    });
  });

  it('retention, encryption and an expiration that may not undercut the retention', () => {
    const config = parseDeployConfig({
      accounts: [restcomm],
      retention: { mode: 'compliance', days: 1825 },
      encryption: { createKey: true },
    });
    expect(config).toMatchObject({
      retention: { mode: 'compliance', days: 1825 },
      encryption: { createKey: true },
    });
    expect(() =>
      parseDeployConfig({
        accounts: [{ ...restcomm, lifecycle: { expireAfterDays: 365 } }],
        retention: { mode: 'governance', days: 1825 },
      }),
    ).toThrow('accounts[0].lifecycle.expireAfterDays must be at least retention.days (1825)');
    expect(() => parseDeployConfig({ accounts: [restcomm], retention: { mode: 'legal', days: 1 } })).toThrow(
      /retention\.mode/,
    );
    expect(() => parseDeployConfig({ accounts: [restcomm], encryption: { kmsKeyArn: 'my-key' } })).toThrow(
      /encryption/,
    );
  });

  it('provider retention: Infobip 60 days, Bandwidth 30, others unknown unless configured', () => {
    expect(providerRetentionDays({ provider: 'infobip' })).toBe(60);
    expect(providerRetentionDays({ provider: 'bandwidth' })).toBe(30);
    expect(providerRetentionDays({ provider: 'restcomm' })).toBeUndefined();
    expect(providerRetentionDays({ provider: 'infobip', retentionDays: 10 })).toBe(10);
  });
});
