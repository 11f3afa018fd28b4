/**
 * `callvault status` on the local stack: what the sweeps recorded, the cursor, the counts and the
 * oldest failed recording; and `--deployed`, the same table found through the stack's outputs
 * (CloudFormation answered by aws-shims.ts, DynamoDB by the local stack's dynalite) with the
 * last 24 hours of each account's metrics (CloudWatch GetMetricData answered by cloudwatch-shim.ts
 * from the datapoints below, over HTTP in the SDK's own protocol).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { collectStatus, formatStatus, runStatus } from '../../bin/commands/status.ts';
import { CloudWatchMetricReader } from '../../lambdas/aws/cloudwatch-metrics.ts';
import { type AccountStatus, reportSweep } from '../../lambdas/core/status.ts';
import { readStatusMetrics } from '../../lambdas/core/status-metrics.ts';
import { harvest } from '../../local/harvest.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { LOCAL_TABLE } from '../../local/stack.ts';
import { LOCAL_REGION } from '../../local/template.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { type AwsShims, startAwsShims } from './aws-shims.ts';
import type { Datapoint } from './cloudwatch-shim.ts';

const TOKEN = 'wrong-token-s3cr3t';
const HOUR = 3_600_000;

/** Spelled out here rather than taken from lambdas/core/metrics.ts: this is what CloudWatch holds. */
const accountDimensions = (account: string) => ({ service: 'callvault', account, provider: 'voipbin' });

const deniedNote = (errorName: string) =>
  'metrics not read: RecordingsArchived, BytesArchived, ArchiveFailures, ArchiveLatencySeconds, SweepListed, ' +
  'ReconcileGaps, VerifiedPassAgeSeconds, DeleteAtSourceRemaining ' +
  `(cloudwatch:GetMetricData denied: ${errorName})`;

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
  const emitted = (
    account: string,
    metricName: string,
    value: number,
    hoursAgo: number,
    dimensions: Record<string, string> = accountDimensions(account),
  ): Datapoint => ({
    namespace: 'callvault',
    metricName,
    dimensions,
    at: new Date(now.getTime() - hoursAgo * HOUR),
    value,
  });
  const datapoints: Datapoint[] = [
    ...[1, 2, 3].flatMap((hoursAgo) => [
      emitted('vb', 'RecordingsArchived', 1, hoursAgo),
      emitted('vb', 'BytesArchived', 1000 * hoursAgo, hoursAgo),
    ]),
    // Outside the 24 hours; the whole service's series; another namespace: none of them counts.
    emitted('vb', 'RecordingsArchived', 1, 25),
    emitted('vb', 'RecordingsArchived', 7, 1, { service: 'callvault' }),
    { ...emitted('vb', 'RecordingsArchived', 5, 1), namespace: 'other' },
    // Ten latencies, 10 s to 100 s: p50 is 50 s and p99 100 s (nearest rank).
    ...Array.from({ length: 10 }, (_, n) => emitted('vb', 'ArchiveLatencySeconds', 10 * (n + 1), n + 1)),
    emitted('vb', 'SweepListed', 3, 1),
    // The daily jobs publish per account under the account alone (and per job, which does not count).
    emitted('vb', 'ReconcileGaps', 2, 20, { account: 'vb' }),
    emitted('vb', 'VerifiedPassAgeSeconds', 3 * 86_400, 20, { account: 'vb' }),
    emitted('vb', 'VerifiedPassAgeSeconds', 86_400, 44, { account: 'vb' }),
    emitted('vb', 'ReconcileGaps', 9, 20, { stage: 'reconcile' }),
    emitted('vb-bad', 'DeleteAtSourceRemaining', 40, 19, { account: 'vb-bad' }),
    emitted('vb-bad', 'ArchiveFailures', 1, 4),
    emitted('vb-bad', 'ArchiveFailures', 1, 5),
  ];

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
      metrics: { datapoints },
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

  /** The operator's environment: the AWS endpoints of `aws`, the local DynamoDB, this run's credentials. */
  const deployedAt = (aws: AwsShims) => {
    vi.stubEnv('AWS_ENDPOINT_URL_CLOUDFORMATION', aws.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_CLOUDWATCH', aws.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', stack.endpoints.dynamodb);
    vi.stubEnv('AWS_REGION', LOCAL_REGION);
    // The local DynamoDB takes only this run's credentials, as the deployed one takes only the operator's.
    vi.stubEnv('AWS_ACCESS_KEY_ID', stack.endpoints.credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', stack.endpoints.credentials.secretAccessKey);
  };

  it('--deployed: finds the table through the stack outputs and reads the same, with 24 h of metrics', async () => {
    deployedAt(shims);
    const json = await runStatus({ deployed: true, stack: 'Callvault', dataDir: '.', json: true });
    const readAt = Date.now();
    // Without --config, every account that swept: these two and the metrics test's 'lag'.
    const statuses = (JSON.parse(json) as AccountStatus[]).filter((status) => status.accountId !== 'lag');
    expected(statuses);
    const [good, bad] = statuses;
    expect(good?.metrics).toEqual({
      from: expect.any(String),
      to: expect.any(String),
      recordingsArchived: 3,
      bytesArchived: 6000,
      archiveFailures: 0,
      archiveLatencyP50Seconds: 50,
      archiveLatencyP99Seconds: 100,
      sweepListed: 3,
      reconcileGaps: 2,
      verifiedPassAgeSeconds: 3 * 86_400,
    });
    // No data: summed counts are 0; latencies and what the daily jobs last reported absent.
    expect(bad?.metrics).toEqual({
      from: good?.metrics?.from,
      to: good?.metrics?.to,
      recordingsArchived: 0,
      bytesArchived: 0,
      archiveFailures: 2,
      sweepListed: 0,
      deleteAtSourceRemaining: 40,
    });
    const to = Date.parse(good?.metrics?.to ?? '');
    expect(good?.metrics?.to).toMatch(/:00\.000Z$/);
    expect(readAt - to).toBeLessThan(120_000);
    expect(to - Date.parse(good?.metrics?.from ?? '')).toBe(24 * HOUR);
    expect(shims.calls).toEqual(['CloudFormation.DescribeStacks', 'CloudWatch.GetMetricData']);

    // One call: nine queries for each of the three accounts, over the window, one period.
    const [request] = shims.metricDataRequests;
    expect(shims.metricDataRequests).toHaveLength(1);
    expect(request?.MetricDataQueries).toHaveLength(27);
    expect(request?.StartTime).toBe(Date.parse(good?.metrics?.from ?? '') / 1000);
    expect(request?.EndTime).toBe(to / 1000);
    const queriesOf = (account: string) =>
      request?.MetricDataQueries.filter(({ MetricStat }) =>
        MetricStat.Metric.Dimensions?.some(({ Name, Value }) => Name === 'account' && Value === account),
      ).map(({ MetricStat, ReturnData }) => ({ ...MetricStat, ReturnData }));
    const dimensions = Object.entries(accountDimensions('vb')).map(([Name, Value]) => ({ Name, Value }));
    const jobDimensions = [{ Name: 'account', Value: 'vb' }];
    expect(queriesOf('vb')).toEqual(
      [
        ['RecordingsArchived', 'Sum', dimensions],
        ['BytesArchived', 'Sum', dimensions],
        ['ArchiveFailures', 'Sum', dimensions],
        ['ArchiveLatencySeconds', 'p50', dimensions],
        ['ArchiveLatencySeconds', 'p99', dimensions],
        ['SweepListed', 'Sum', dimensions],
        ['ReconcileGaps', 'Maximum', jobDimensions],
        ['VerifiedPassAgeSeconds', 'Maximum', jobDimensions],
        ['DeleteAtSourceRemaining', 'Maximum', jobDimensions],
      ].map(([MetricName, Stat, Dimensions]) => ({
        Metric: { Namespace: 'callvault', MetricName, Dimensions },
        Period: 86_400,
        Stat,
        ReturnData: true,
      })),
    );

    const text = await runStatus({ deployed: true, stack: 'Callvault', dataDir: '.' });
    expect(text).toMatch(
      /^account .* oldest failed\s+archived 24h\s+bytes 24h\s+failures 24h\s+latency p50\s+latency p99\s+listed 24h\s+gaps\s+verified pass age\s+delete backlog$/m,
    );
    expect(text).toMatch(
      /^vb\s+voipbin\s+\S+Z\s+succeeded\s+\S+\s+3\s+1\s+0\s+2 d\s+3\s+6\.0 kB\s+0\s+50 s\s+100 s\s+3\s+2\s+3 d\s*$/m,
    );
    expect(text).toMatch(/^vb-bad\s+voipbin\s+\S+Z\s+failed\s+0\s+0\s+0\s+0\s+0 B\s+2\s+0\s+40$/m);
    expect(text).not.toContain('metrics not read');

    await expect(runStatus({ deployed: true, stack: 'Nope', dataDir: '.' })).rejects.toThrow(
      /Nope does not exist/,
    );
  });

  it.each([
    ['with the query-compatible error header', 'query-compatible', 'AccessDenied'],
    ['as a JSON error type alone', 'json', 'AccessDeniedException'],
  ] as const)(
    '--deployed, GetMetricData denied %s: the table without metrics, and a note naming them',
    async (_, deny, errorName) => {
      const denying = await startAwsShims({
        stacks: { Callvault: { TableName: LOCAL_TABLE } },
        metrics: { datapoints, deny },
      });
      try {
        deployedAt(denying);
        const note = deniedNote(errorName);
        const text = await runStatus({ deployed: true, stack: 'Callvault', dataDir: '.' });
        expect(text).toMatch(/^vb\s+voipbin\s+\S+Z\s+succeeded\s+\S+\s+3\s+1\s+0\s+2 d$/m);
        expect(text).not.toContain('archived 24h');
        expect(text.split('\n').at(-1)).toBe(note);

        const notes: string[] = [];
        const json = await runStatus(
          { deployed: true, stack: 'Callvault', dataDir: '.', json: true },
          (line) => notes.push(line),
        );
        const statuses = (JSON.parse(json) as AccountStatus[]).filter((status) => status.accountId !== 'lag');
        expected(statuses);
        expect(statuses.map((status) => status.metrics)).toEqual([undefined, undefined]);
        expect(notes).toEqual([note]);
        expect(denying.metricDataRequests).toHaveLength(2);
      } finally {
        await denying.close();
      }
    },
  );

  it('--deployed: a metric CloudWatch did not answer (a query status) shows empty, not 0, and is named', async () => {
    const partial = await startAwsShims({
      stacks: { Callvault: { TableName: LOCAL_TABLE } },
      metrics: { datapoints, unanswered: { metricName: 'BytesArchived', statusCode: 'Forbidden' } },
    });
    try {
      deployedAt(partial);
      const text = await runStatus({ deployed: true, stack: 'Callvault', dataDir: '.' });
      expect(text).toMatch(
        /^vb\s+voipbin\s+\S+Z\s+succeeded\s+\S+\s+3\s+1\s+0\s+2 d\s+3\s+0\s+50 s\s+100 s\s+3\s+2\s+3 d\s*$/m,
      );
      const note = text.split('\n').at(-1) ?? '';
      expect(note).toMatch(/^metrics CloudWatch did not answer, shown empty: /);
      // Every account's BytesArchived, and nothing else.
      expect(note.match(/\S+: BytesArchived \(Forbidden\)/g)).toEqual(
        expect.arrayContaining(['vb: BytesArchived (Forbidden)', 'vb-bad: BytesArchived (Forbidden)']),
      );
      expect(note).not.toMatch(/RecordingsArchived|ArchiveFailures|SweepListed|Latency/);
      const json = await runStatus(
        { deployed: true, stack: 'Callvault', dataDir: '.', json: true },
        () => undefined,
      );
      const good = (JSON.parse(json) as AccountStatus[]).find((status) => status.accountId === 'vb');
      expect(good?.metrics).toMatchObject({ recordingsArchived: 3, archiveFailures: 0 });
      expect(good?.metrics).not.toHaveProperty('bytesArchived');
    } finally {
      await partial.close();
    }
  });

  it('reads at most 500 queries a call, and every page of each', async () => {
    // 90 accounts are 810 queries (nine each): a call of 500 and one of 310.
    const many = Array.from({ length: 90 }, (_, n) => ({ id: `acct${n}`, provider: 'voipbin' }));
    const paged = await startAwsShims({
      metrics: {
        datapoints: many.map((account, n) => emitted(account.id, 'RecordingsArchived', n + 1, 1)),
        valuesPerPage: 25,
      },
    });
    const cloudwatch = new CloudWatchClient({
      endpoint: paged.endpoint,
      region: LOCAL_REGION,
      credentials: stack.endpoints.credentials,
    });
    try {
      const { byAccount: figures } = await readStatusMetrics(many, new CloudWatchMetricReader(cloudwatch));
      expect(many.map((account) => figures.get(account.id)?.recordingsArchived)).toEqual(
        many.map((_, n) => n + 1),
      );
      // The first call's queries hold 56 of the values (accounts 0 to 55), three pages of 25; the
      // second's 34, two pages.
      expect(
        paged.metricDataRequests.map((request) => [request.MetricDataQueries.length, request.NextToken]),
      ).toEqual([
        [500, undefined],
        [500, '25'],
        [500, '50'],
        [310, undefined],
        [310, '25'],
      ]);
      expect(new Set(paged.metricDataRequests[0]?.MetricDataQueries.map(({ Id }) => Id)).size).toBe(500);
    } finally {
      cloudwatch.destroy();
      await paged.close();
    }
  });
});
