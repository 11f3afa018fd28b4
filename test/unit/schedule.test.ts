import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/core/config.ts';
import { nextRun, parseSchedule } from '../../lambdas/core/schedule.ts';

describe('EventBridge schedule expressions', () => {
  const at = new Date('2026-11-25T13:07:30.000Z');

  it('runs rate() schedules every period from the start', () => {
    const start = new Date('2026-11-25T13:00:00.000Z');
    expect(nextRun(parseSchedule('rate(5 minutes)'), at, start)?.toISOString()).toBe(
      '2026-11-25T13:10:00.000Z',
    );
    expect(nextRun(parseSchedule('rate(1 hour)'), at, start)?.toISOString()).toBe('2026-11-25T14:00:00.000Z');
    expect(nextRun(parseSchedule('rate(2 days)'), start, start)?.toISOString()).toBe(
      '2026-11-27T13:00:00.000Z',
    );
  });

  it('runs cron() schedules at their next UTC match, strictly after the given time', () => {
    expect(nextRun(parseSchedule('cron(0 12 * * ? *)'), at)?.toISOString()).toBe('2026-11-26T12:00:00.000Z');
    expect(nextRun(parseSchedule('cron(0/15 * * * ? *)'), at)?.toISOString()).toBe(
      '2026-11-25T13:15:00.000Z',
    );
    const quarter = new Date('2026-11-25T13:15:00.000Z');
    expect(nextRun(parseSchedule('cron(0/15 * * * ? *)'), quarter)?.toISOString()).toBe(
      '2026-11-25T13:30:00.000Z',
    );
    // EventBridge counts days of the week from SUN=1: 2 is Monday, 30 Nov 2026.
    expect(nextRun(parseSchedule('cron(0 8 ? * 2 *)'), at)?.toISOString()).toBe('2026-11-30T08:00:00.000Z');
  });

  it('refuses what EventBridge refuses, saying why', () => {
    expect(() => parseSchedule('rate(1 minutes)')).toThrow(/"1 minute"/);
    expect(() => parseSchedule('rate(5 minute)')).toThrow(/"5 minutes"/);
    expect(() => parseSchedule('rate(0 minutes)')).toThrow(/at least 1/);
    expect(() => parseSchedule('cron(0 12 * * *)')).toThrow(/6 fields/);
    expect(() => parseSchedule('cron(0 12 1 * 2 *)')).toThrow(/must be "\?"/);
    expect(() => parseSchedule('every day')).toThrow(/neither rate/);
  });

  it('is validated with the config, naming the account field', () => {
    const account = {
      id: 'vb',
      provider: 'voipbin',
      baseUrl: 'https://api.voipbin.net',
      auth: { token: 't' },
    };
    expect(() => parseConfig({ accounts: [{ ...account, schedule: 'rate(1 minutes)' }] })).toThrow(
      /accounts\[0\]\.schedule is invalid/,
    );
    expect(parseConfig({ accounts: [account] }).accounts[0]?.schedule).toBe('rate(15 minutes)');
  });
});
