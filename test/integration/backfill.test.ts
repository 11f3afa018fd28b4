/**
 * `callvault backfill` as a user runs it: a window of a VoIPBin simulator's history archived
 * through the sweep workflow; a hard kill mid-way and a second run; `--deployed` against the
 * local stack's Step Functions endpoint.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/core/config.ts';
import { silentLogger } from '../../lambdas/core/log.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { openLocalArchive, startLocalStack } from '../../local/stack.ts';
import { killedCli, runCli } from '../helpers/cli.ts';

// 24 recordings, one every 7 minutes from 09:00; the window 09:10..10:50 holds 14 of them.
const recordings = sampleRecordings(24, { prefix: 'vb', durationSec: 1, spacingMs: 7 * 60_000 });
const window = ['--since', '2026-11-01T09:10:00Z', '--until', '2026-11-01T10:50:00Z'];
const inWindow = recordings.filter(
  (recording) =>
    recording.startedAt.toISOString() >= '2026-11-01T09:10:00.000Z' &&
    recording.startedAt.toISOString() < '2026-11-01T10:50:00.000Z',
);

describe('callvault backfill', () => {
  const work = mkdtempSync(join(tmpdir(), 'callvault-backfill-'));
  const simulator = new VoipbinSimulator({ recordings });
  const configFile = join(work, 'config.json');

  beforeAll(async () => {
    await simulator.start();
    writeFileSync(
      configFile,
      JSON.stringify({
        accounts: [voipbinSimulatorAccount(simulator, 'vb')],
        readiness: { initialDelaySeconds: 1, maxDelaySeconds: 1, deadlineSeconds: 60 },
      }),
    );
  });
  afterAll(async () => {
    await simulator.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const archived = async (dataDir: string) => {
    const archive = await openLocalArchive(dataDir);
    try {
      return (await archive.index.query({ accountId: 'vb', limit: 500 })).items;
    } finally {
      await archive.close();
    }
  };
  const downloads = () => simulator.requests.filter((request) => request.endpoint === 'audio').length;

  it('killed hard mid-way, a second run resumes: exactly the window ends archived, only what was in flight is fetched again; plain progress lines off a terminal, exit 0', async () => {
    const dataDir = join(work, 'killed');
    const before = downloads();
    // Slow downloads, so the kill lands while recordings are in flight.
    simulator.inject({ kind: 'slow', on: 'audio', times: Infinity, chunkDelayMs: 150, chunkBytes: 4096 });
    await killedCli(['backfill', '--config', configFile, ...window], dataDir, { started: 1, graceMs: 300 });
    simulator.clearFaults();
    const fetchedBeforeKill = downloads() - before;
    expect((await archived(dataDir)).length).toBeLessThan(inWindow.length);

    const { code, stdout, stderr } = await runCli(
      ['backfill', '--config', configFile, ...window, '--data-dir', dataDir],
      { timeout: 120_000 },
    );
    expect(code).toBe(0);
    // The resumed pass counts what it listed before the kill too (its checkpoint holds the counts).
    expect(stdout).toMatch(
      new RegExp(`^found ${inWindow.length}, archived \\d+, already archived \\d+, skipped 0, failed 0`, 'm'),
    );
    expect(stderr).toMatch(
      /^found \d+\+?, archived \d+, skipped 0, failed 0, already archived \d+, [\d.]+ MB, [\d.]+\/s, ETA /m,
    );
    const entries = await archived(dataDir);
    expect(entries.map((entry) => entry.providerRecordingId).sort()).toEqual(
      inWindow.map((r) => r.id).sort(),
    );
    expect(entries.every((entry) => entry.status === 'archived')).toBe(true);
    // Each recording fetched once, plus at most the ones that were in flight at the kill.
    const total = downloads() - before;
    expect(total).toBeGreaterThanOrEqual(inWindow.length);
    expect(total).toBeLessThanOrEqual(inWindow.length + fetchedBeforeKill);
  }, 240_000);

  it('--deployed starts the deployed sweep workflow through the Step Functions API (here the local stack endpoint)', async () => {
    const dataDir = join(work, 'deployed');
    const stack = await startLocalStack({
      config: parseConfig(JSON.parse(readFileSync(configFile, 'utf8'))),
      dataDir,
      logger: silentLogger,
      retryIntervalScale: 0.002,
    });
    try {
      const { code, stdout } = await runCli(
        ['backfill', '--deployed', '--stack', 'callvault', '--account', 'vb', ...window],
        {
          env: {
            AWS_ENDPOINT_URL_SFN: stack.endpoints.stepFunctions,
            AWS_REGION: 'us-east-1',
            // The local endpoint takes only this run's credentials, as AWS takes only the user's.
            AWS_ACCESS_KEY_ID: stack.endpoints.credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: stack.endpoints.credentials.secretAccessKey,
          },
          timeout: 120_000,
        },
      );
      expect(code).toBe(0);
      expect(stdout).toContain(`vb: found ${inWindow.length}, handed over ${inWindow.length}`);
      await Promise.all([...stack.stepFunctions.executions.values()].map((execution) => execution.done));
      const entries = (await stack.archive.index.query({ accountId: 'vb', limit: 500 })).items;
      expect(entries.filter((entry) => entry.status === 'archived')).toHaveLength(inWindow.length);
    } finally {
      await stack.close();
    }
  }, 180_000);
});
