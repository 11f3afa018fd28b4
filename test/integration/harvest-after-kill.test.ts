/**
 * `callvault harvest` after a harvest killed mid-download: the next process resumes the killed
 * run's executions from executions.jsonl, and its sweep finds them running. Their outcomes are
 * the harvest's too: counted in the summary and in the exit status.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { openLocalArchive } from '../../local/stack.ts';
import { journalEvents, killedCli, runCli } from '../helpers/cli.ts';

// 4 s of audio, sent slowly: a download takes seconds, so the kill lands mid-download.
const SLOW = { kind: 'slow', on: 'audio', times: Number.POSITIVE_INFINITY, chunkDelayMs: 150 } as const;

describe('callvault harvest after a killed harvest', () => {
  const work = mkdtempSync(join(tmpdir(), 'callvault-harvest-kill-'));
  const simulator = new VoipbinSimulator({
    recordings: sampleRecordings(4, { prefix: 'vb', durationSec: 4 }),
  });
  const configFile = join(work, 'config.json');

  beforeAll(async () => {
    await simulator.start();
    writeFileSync(
      configFile,
      JSON.stringify({
        // Room for all four downloads at once: none waits out the busy backoff.
        accounts: [{ ...voipbinSimulatorAccount(simulator, 'vb'), maxConcurrency: 4 }],
        readiness: { initialDelaySeconds: 1, maxDelaySeconds: 1, deadlineSeconds: 60 },
      }),
    );
  });
  afterAll(async () => {
    await simulator.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const entries = async (dataDir: string) => {
    const archive = await openLocalArchive(dataDir);
    try {
      return (await archive.index.query({ accountId: 'vb', limit: 50 })).items;
    } finally {
      await archive.close();
    }
  };

  /** A harvest killed hard once its four executions are downloading; leaves them in the journal. */
  async function killedHarvest(dataDir: string) {
    simulator.clearFaults();
    simulator.inject(SLOW);
    await killedCli(['harvest', '--config', configFile], dataDir, { started: 4, graceMs: 500 });
    expect(journalEvents(dataDir, 'started')).toBe(4);
    expect(journalEvents(dataDir, 'ended')).toBe(0);
  }

  const harvest = (dataDir: string) =>
    runCli(['harvest', '--config', configFile, '--data-dir', dataDir], { timeout: 120_000 });

  /** The summary table's row of the account: listed, archived, already, skipped, failed. */
  const row = (stdout: string) =>
    stdout.match(/^vb\s+voipbin\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m)?.slice(1);

  it('reports the failures of the executions it resumed and exits 1', async () => {
    const dataDir = join(work, 'failing');
    await killedHarvest(dataDir);
    // The resumed downloads now answer an HTML page instead of audio: every one of them fails.
    simulator.clearFaults();
    simulator.inject({ kind: 'not-audio', on: 'audio', times: Number.POSITIVE_INFINITY });

    const { code, stdout } = await harvest(dataDir);
    expect((await entries(dataDir)).map((entry) => entry.status)).toEqual(Array(4).fill('failed'));
    expect(row(stdout)).toEqual(['4', '0', '0', '0', '4']);
    expect(stdout.match(/^vb: failed vb-\d+: /gm)).toHaveLength(4);
    expect(code).toBe(1);
  }, 240_000);

  it('counts the resumed executions that archive as archived, once each, and exits 0', async () => {
    const dataDir = join(work, 'archiving');
    await killedHarvest(dataDir);
    // Still slow: the resumed executions are downloading when the new sweep reaches them.
    const downloadsBefore = simulator.count('audio');

    const { code, stdout } = await harvest(dataDir);
    expect((await entries(dataDir)).map((entry) => entry.status)).toEqual(Array(4).fill('archived'));
    expect(row(stdout)).toEqual(['4', '4', '0', '0', '0']);
    // Each resumed execution downloaded once more; the sweep started none of its own.
    expect(simulator.count('audio') - downloadsBefore).toBe(4);
    expect(code).toBe(0);
  }, 240_000);
});
