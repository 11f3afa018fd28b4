/**
 * The retry job on the local stack: failed recordings retried from the index alone (no sweep
 * lists them), with backoff, until archived, gone, or at the limit, where they stay failed;
 * `callvault recordings retry` runs it now.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { executionName, recordingId } from '../../lambdas/core/ids.ts';
import { harvest } from '../../local/harvest.ts';
import { voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { runCli } from '../helpers/cli.ts';
import { accountOf, simulatorOf } from '../helpers/simulators.ts';
import { removeDir, startTestStack, type TestStack } from '../helpers/stack.ts';
import { started, teardown } from '../helpers/teardown.ts';

const later = teardown();

const REF = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };

/** A VoIPBin account whose one recording failed once (every download cut short), and its stack. */
async function failedOnce(options: Parameters<typeof startTestStack>[1] = {}) {
  const simulator = await started(simulatorOf('voipbin', 1, { prefix: 'vb' }), later);
  simulator.inject({ kind: 'truncate', on: 'audio', times: Number.POSITIVE_INFINITY, fraction: 0.5 });
  const stack: TestStack = await startTestStack([accountOf('voipbin', simulator, 'vb')], options);
  let closed = false;
  later(async () => {
    if (closed) removeDir(stack.dataDir);
    else await stack.dispose();
  });
  expect((await harvest(stack))[0]).toMatchObject({ failed: 1 });
  /** Stops the stack but keeps its data directory, for a CLI run on it (`false`: as if killed). */
  const closeKeepingData = async (options?: { waitForExecutions?: boolean }) => {
    closed = true;
    await stack.close(options);
  };
  return { simulator, stack, closeKeepingData };
}

async function retryAndWait(stack: TestStack, request: Parameters<TestStack['retry']>[0]) {
  const result = await stack.retry(request);
  await stack.waitFor(result.started);
  return result;
}

// Each test starts a stack of its own, which on a loaded machine can take most of the default 30 s.
describe('the retry job', { timeout: 120_000 }, () => {
  it('retries a failed recording from the index once its backoff has passed, until archived', async () => {
    const { simulator, stack } = await failedOnce({ retry: { initialDelaySeconds: 3600 } });
    simulator.clearFaults();
    // No sweep runs: the index alone drives the retry, whatever the recording's age.
    const notDue = await stack.retry({});
    expect(notDue).toMatchObject({ failed: 1, notDue: 1, started: [] });

    const retried = await retryAndWait(stack, { ignoreBackoff: true });
    expect(retried.started).toEqual([executionName(REF, 1)]);
    expect(await stack.runtime.index.get(recordingId(REF))).toMatchObject({
      status: 'archived',
      sha256: simulator.audio('vb-00000').sha256(),
      failures: 1,
    });
    expect((await stack.runtime.index.listFailed({})).items).toEqual([]);
  });

  it('stops at maxAttempts: the entry stays failed with its reason, listed by status', async () => {
    const { stack } = await failedOnce({
      retry: { maxAttempts: 2, initialDelaySeconds: 1, maxDelaySeconds: 1 },
    });
    const second = await retryAndWait(stack, { ignoreBackoff: true });
    expect(second.started).toHaveLength(1);
    const third = await stack.retry({ ignoreBackoff: true });
    expect(third).toMatchObject({
      failed: 1,
      started: [],
      exhausted: [recordingId(REF)],
      newlyExhausted: [{ id: recordingId(REF), failures: 2 }],
    });
    // Reported once: the note is on the entry as the byStatus index lists it.
    expect((await stack.runtime.index.listFailed({})).items[0]).toMatchObject({ retryLimitReported: 2 });
    expect(await stack.retry({ ignoreBackoff: true })).toMatchObject({ newlyExhausted: [] });
    const entry = await stack.runtime.index.get(recordingId(REF));
    expect(entry).toMatchObject({ status: 'failed', failures: 2, errorName: 'IncompleteDownloadError' });
    expect(entry?.reason).toMatch(/ended after|broke after/);
    expect((await stack.runtime.index.query({ status: 'failed' })).items.map((item) => item.id)).toEqual([
      recordingId(REF),
    ]);
    // Named with --id, it is retried anyway: someone asked for it.
    const forced = await retryAndWait(stack, { id: recordingId(REF) });
    expect(forced.started).toEqual([executionName(REF, 2)]);
    // It failed again: the limit is reported again, at three failures.
    expect(await stack.retry({})).toMatchObject({ newlyExhausted: [{ id: recordingId(REF), failures: 3 }] });
  });

  it('stops retrying a recording that is gone at the provider: skipped, out of the failed index', async () => {
    const { simulator, stack } = await failedOnce({ retry: { initialDelaySeconds: 1 } });
    simulator.markDeleted('vb-00000');
    const retried = await retryAndWait(stack, { ignoreBackoff: true, accountId: 'vb' });
    expect(retried.started).toHaveLength(1);
    expect(await stack.runtime.index.get(recordingId(REF))).toMatchObject({ status: 'skipped', failures: 1 });
    expect((await stack.runtime.index.listFailed({ accountId: 'vb' })).items).toEqual([]);
  });

  it('runs now from the CLI: `callvault recordings retry --account`', async () => {
    const { simulator, stack, closeKeepingData } = await failedOnce();
    simulator.clearFaults();
    const configFile = join(stack.dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ accounts: [voipbinSimulatorAccount(simulator, 'vb')] }));
    await closeKeepingData();
    const cli = join(import.meta.dirname, '../../bin/callvault.mjs');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'recordings', 'retry', '--config', configFile, '--data-dir', stack.dataDir, '--account', 'vb'],
      { env: { ...process.env, NO_COLOR: '1' }, timeout: 220_000 },
    );
    expect(stdout).toContain('failed recordings: 1; retried: 1 (archived 1, gone 0, failed again 0)');
  }, 240_000);

  it('from the CLI, waits for and counts a retry a killed run left running (resumed from the journal)', async () => {
    const { simulator, stack, closeKeepingData } = await failedOnce();
    simulator.clearFaults();
    // A download of seconds: still in flight when the next run's retry job finds it running.
    simulator.inject({
      kind: 'slow',
      on: 'audio',
      times: Number.POSITIVE_INFINITY,
      chunkBytes: 256,
      chunkDelayMs: 100,
    });
    const downloads = simulator.count('audio');
    const retried = await stack.retry({ ignoreBackoff: true });
    expect(retried.started).toEqual([executionName(REF, 1)]);
    await vi.waitFor(() => expect(simulator.count('audio')).toBeGreaterThan(downloads), { timeout: 30_000 });
    const configFile = join(stack.dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ accounts: [voipbinSimulatorAccount(simulator, 'vb')] }));
    // Stopped as a kill stops it: the execution stays unfinished in the journal.
    await closeKeepingData({ waitForExecutions: false });

    const { code, stdout } = await runCli(
      ['recordings', 'retry', '--config', configFile, '--data-dir', stack.dataDir, '--account', 'vb'],
      { timeout: 220_000 },
    );
    expect(stdout).toContain('failed recordings: 1; retried: 0 (archived 0, gone 0, failed again 0)');
    expect(stdout).toContain('already being retried: 1 (archived 1, gone 0, failed again 0)');
    expect(code).toBe(0);
  }, 240_000);
});
