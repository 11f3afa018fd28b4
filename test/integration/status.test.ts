/**
 * `callvault status` on the local stack: what the sweeps recorded, the cursor, the counts and the
 * oldest failed recording; and `--deployed`, the same table found through the stack's outputs
 * (CloudFormation answered by aws-shims.ts, DynamoDB by the local stack's dynalite).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { collectStatus, formatStatus, runStatus } from '../../bin/commands/status.ts';
import { type AccountStatus, reportSweep } from '../../lambdas/core/status.ts';
import { harvest } from '../../local/harvest.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { LOCAL_TABLE } from '../../local/stack.ts';
import { LOCAL_REGION } from '../../local/template.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { type AwsShims, startAwsShims } from './aws-shims.ts';

const TOKEN = 'wrong-token-s3cr3t';

describe('callvault status', () => {
  let simulator: VoipbinSimulator;
  let stack: TestStack;
  let shims: AwsShims;
  const now = new Date();
  const accounts = [
    { id: 'vb', provider: 'voipbin' },
    { id: 'vb-bad', provider: 'voipbin' },
  ];
  const failedStart = new Date(now.getTime() - 2 * 86_400_000).toISOString();

  beforeAll(async () => {
    simulator = new VoipbinSimulator({ recordings: sampleRecordings(3, { prefix: 'st' }) });
    await simulator.start();
    stack = await startTestStack([
      voipbinSimulatorAccount(simulator, 'vb'),
      { ...voipbinSimulatorAccount(simulator, 'vb-bad'), auth: { token: TOKEN } },
    ]);
    await harvest(stack);
    // A recording that failed two days after it was made (as a Catch would index it).
    await stack.runtime.index.put({
      id: 'vb:voipbin:old-failure',
      accountId: 'vb',
      provider: 'voipbin',
      providerRecordingId: 'old-failure',
      status: 'failed',
      reason: 'not audio',
      startedAt: failedStart,
      updatedAt: now.toISOString(),
    });
    shims = await startAwsShims({
      stacks: { Callvault: { TableName: LOCAL_TABLE } },
    });
  }, 120_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await shims?.close();
    await stack?.dispose();
    await simulator?.stop();
  });

  const expected = (statuses: AccountStatus[]) => {
    const [good, bad] = statuses;
    const newest = Math.max(
      ...[...simulator.recordings.values()].map((recording) => recording.startedAt.getTime()),
    );
    expect(good).toMatchObject({
      accountId: 'vb',
      provider: 'voipbin',
      lastSweep: { outcome: 'succeeded', listed: 3, started: 3, provider: 'voipbin' },
      archived: 3,
      failed: 1,
      skipped: 0,
    });
    expect(Date.parse(good?.cursor ?? '')).toBe(newest);
    expect(good?.lastSweep?.lastSucceededAt).toBe(good?.lastSweep?.at);
    expect(good?.oldestUnarchivedAgeSeconds).toBeGreaterThanOrEqual(2 * 86_400 - 5);
    expect(good?.oldestUnarchivedAgeSeconds).toBeLessThan(2 * 86_400 + 600);
    expect(bad).toMatchObject({
      accountId: 'vb-bad',
      lastSweep: { outcome: 'failed' },
      archived: 0,
      failed: 0,
    });
    expect(bad?.lastSweep?.error).toMatch(/^ProviderAuthError: voipbin account "vb-bad"/);
    expect(bad?.cursor).toBeUndefined();
  };

  it('per account: last sweep and outcome, cursor, counts, the oldest failed recording', async () => {
    const statuses = await collectStatus(accounts, {
      index: stack.archive.index,
      sweeps: stack.archive.sweeps,
    });
    expected(statuses);
    const text = await formatStatus(statuses);
    expect(text).toMatch(/^vb\s+voipbin\s+\S+Z\s+succeeded\s+\S+\s+3\s+1\s+0\s+2 d$/m);
    expect(text).toMatch(/^vb-bad: last sweep failed: ProviderAuthError/m);
    expect(text).not.toContain(TOKEN);
    // Without a config, the accounts are those that swept.
    expect((await stack.archive.sweeps.accounts()).filter((account) => account.id !== 'lag')).toEqual(
      accounts,
    );
  });

  it('sweep metrics: listed, started, success and the lag since the previous success, kept across a failure', async () => {
    const points: Array<[string, number, string]> = [];
    const deps = {
      sweeps: stack.archive.sweeps,
      metrics: {
        add: (name: string, value: number, dims: { account: string }) =>
          points.push([name, value, dims.account]),
      },
    };
    const account = { id: 'lag', provider: 'voipbin' };
    const at = (minutes: number) => () => new Date(Date.UTC(2026, 10, 2, 10, minutes));
    await reportSweep(account, { listed: 4, started: 2 }, { ...deps, now: at(0) });
    await reportSweep(account, { error: new Error('provider down') }, { ...deps, now: at(15) });
    await reportSweep(account, { listed: 1, started: 0 }, { ...deps, now: at(30) });
    expect(points).toEqual([
      ['SweepListed', 4, 'lag'],
      ['SweepStarted', 2, 'lag'],
      ['SweepSucceeded', 1, 'lag'],
      ['SweepListed', 1, 'lag'],
      ['SweepStarted', 0, 'lag'],
      ['SweepSucceeded', 1, 'lag'],
      ['SweepLagSeconds', 1800, 'lag'],
    ]);
    expect(await stack.archive.sweeps.last('lag')).toMatchObject({
      outcome: 'succeeded',
      listed: 1,
      lastSucceededAt: '2026-11-02T10:30:00.000Z',
    });
    expect((await stack.archive.sweeps.last('lag'))?.error).toBeUndefined();
  });

  it('--deployed: finds the table through the stack outputs and reads the same', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_CLOUDFORMATION', shims.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', stack.endpoints.dynamodb);
    vi.stubEnv('AWS_REGION', LOCAL_REGION);
    // The local DynamoDB takes only this run's credentials, as the deployed one takes only the operator's.
    vi.stubEnv('AWS_ACCESS_KEY_ID', stack.endpoints.credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', stack.endpoints.credentials.secretAccessKey);
    const json = await runStatus({ deployed: true, stack: 'Callvault', dataDir: '.', json: true });
    // Without --config, every account that swept: these two and the metrics test's 'lag'.
    expected((JSON.parse(json) as AccountStatus[]).filter((status) => status.accountId !== 'lag'));
    expect(shims.calls).toEqual(['CloudFormation.DescribeStacks']);
    await expect(runStatus({ deployed: true, stack: 'Nope', dataDir: '.' })).rejects.toThrow(
      /Nope does not exist/,
    );
  });
});
