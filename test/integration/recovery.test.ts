/**
 * Failure paths on the local stack: a crash between archive and index, a body that never arrives
 * whole, a recording that never becomes ready, refused credentials, duplicate starts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { eraseRecording } from '../../lambdas/core/erasure.ts';
import { handOver } from '../../lambdas/core/hand-over.ts';
import { executionName, objectKeyPrefix, recordingId } from '../../lambdas/core/ids.ts';
import type { IngestState } from '../../lambdas/core/ingest.ts';
import { createArchiveHandler } from '../../lambdas/handlers/archive.ts';
import { createCheckHandler } from '../../lambdas/handlers/check.ts';
import { harvest, harvestSucceeded } from '../../local/harvest.ts';
import type { VoipbinSimulator } from '../../local/simulators/voipbin.ts';
import { LOCAL_BUCKET } from '../../local/stack.ts';
import { accountOf, type SampleOptions, simulatorOf } from '../helpers/simulators.ts';
import { failedEntry, removeDir, startTestStack, type TestStack, tempDir } from '../helpers/stack.ts';
import { started, teardown } from '../helpers/teardown.ts';

const later = teardown();
/** Far beyond any deadline in these tests: the recording stays processing at the provider. */
const NEVER_READY: SampleOptions = { pendingMs: 3_600_000 };

const voipbin = (count: number, options: SampleOptions = {}) =>
  started(simulatorOf('voipbin', count, { prefix: 'vb', ...options }), later);

async function stackFor(...args: Parameters<typeof startTestStack>): Promise<TestStack> {
  const stack = await startTestStack(...args);
  later(() => stack.dispose());
  return stack;
}

const audioRequestsFor = (simulator: VoipbinSimulator, id: string) =>
  simulator.requests.filter((request) => request.endpoint === 'audio' && request.path.endsWith(id)).length;

// Each test starts a stack of its own, which on a loaded machine can take most of the default 30 s.
describe('recovery and failure paths', { timeout: 120_000 }, () => {
  it('completes the index after a crash between archive and index, without downloading again', async () => {
    const simulator = await voipbin(2);
    const stack = await stackFor([accountOf('voipbin', simulator, 'vb')]);
    const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };
    // The archive step ran to completion, then the process died before the index was written.
    const checked = await createCheckHandler(stack.runtime)({ ref });
    const archived = await createArchiveHandler(stack.runtime)(checked);
    expect(archived.recovered).toBe(false);
    expect(await stack.runtime.index.get(recordingId(ref))).toBeUndefined();
    expect(audioRequestsFor(simulator, 'vb-00000')).toBe(1);

    const summary = await harvest(stack);
    expect(summary[0]).toMatchObject({ archived: 2, failed: 0 });
    const execution = stack.stepFunctions.executions.get(executionName(ref));
    expect((execution?.output as IngestState | undefined)?.archive).toMatchObject({
      recovered: true,
      key: archived.key,
      sha256: archived.sha256,
      bytes: archived.bytes,
    });
    expect(audioRequestsFor(simulator, 'vb-00000')).toBe(1);
  });

  it('never indexes or stores a body that keeps arriving truncated, and retries it on the next sweep', async () => {
    const simulator = await voipbin(1);
    simulator.inject({ kind: 'truncate', on: 'audio', times: Number.POSITIVE_INFINITY, fraction: 0.5 });
    const stack = await stackFor([accountOf('voipbin', simulator, 'vb')]);

    const first = await harvest(stack);
    expect(first[0]).toMatchObject({ archived: 0, failed: 1 });
    expect(first[0]?.problems[0]?.reason).toMatch(/ended after|broke after/);
    expect(harvestSucceeded(first)).toBe(false);
    const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };
    const entry = (await stack.runtime.index.query({ accountId: 'vb' })).items[0];
    expect(entry).toMatchObject({ status: 'failed', errorName: 'IncompleteDownloadError', failures: 1 });
    expect(entry?.sha256).toBeUndefined();
    expect(await stack.runtime.store.find(objectKeyPrefix(ref, entry?.startedAt))).toBeUndefined();
    // The workflow retried the download before giving up.
    expect(audioRequestsFor(simulator, 'vb-00000')).toBeGreaterThan(1);

    simulator.clearFaults();
    const second = await harvest(stack);
    expect(second[0]).toMatchObject({ archived: 1, failed: 0 });
    expect(stack.stepFunctions.executions.has(executionName(ref, 1))).toBe(true);
    const archived = (await stack.runtime.index.query({ accountId: 'vb' })).items[0];
    expect(archived).toMatchObject({ status: 'archived', sha256: simulator.audio('vb-00000').sha256() });
  });

  it('waits for a recording that is still processing and archives it once ready', async () => {
    const simulator = await voipbin(1, NEVER_READY);
    const stack = await stackFor([accountOf('voipbin', simulator, 'vb')]);
    // Ready 2 s after the stack is up, not after the simulator: a slow start must not use them up.
    for (const recording of simulator.recordings.values()) recording.readyAt = Date.now() + 2_000;

    const summary = await harvest(stack);
    expect(summary[0]).toMatchObject({ archived: 1 });
    const state = [...stack.stepFunctions.executions.values()][0]?.output as IngestState;
    expect(state.attempt).toBeGreaterThan(1);
    expect(state.recording?.providerStatus).toBe('ended');
  });

  it('records a failure with the reason when a recording is not ready by the deadline', async () => {
    const simulator = await voipbin(1, NEVER_READY);
    const stack = await stackFor([accountOf('voipbin', simulator, 'vb')], { deadlineSeconds: 2 });

    const summary = await harvest(stack);
    expect(summary[0]).toMatchObject({ archived: 0, failed: 1 });
    expect(summary[0]?.problems[0]?.reason).toMatch(/still not ready after 2 s/);
    expect(simulator.count('audio')).toBe(0);
  });

  it('reports refused credentials for the account, starts nothing and never prints the token', async () => {
    const simulator = await voipbin(2);
    const account = { ...accountOf('voipbin', simulator, 'vb'), auth: { token: 'wrong-token-s3cr3t' } };
    const stack = await stackFor([account]);
    const summary = await harvest(stack);
    expect(summary[0]?.sweepError).toMatch(/voipbin account "vb".*refused/);
    expect(summary[0]?.sweepError).not.toContain('wrong-token-s3cr3t');
    expect(stack.stepFunctions.executions.size).toBe(0);
    expect(harvestSucceeded(summary)).toBe(false);
  });

  it('archives a recording skipped as gone once the provider lists it after all (Infobip stores files late)', async () => {
    const simulator = await started(simulatorOf('infobip', 1, { prefix: 'late', ...NEVER_READY }), later);
    const stack = await stackFor([accountOf('infobip', simulator, 'ib')]);
    const fileId = [...simulator.recordings.keys()][0] as string;
    const ref = { accountId: 'ib', provider: 'infobip' as const, providerRecordingId: fileId };
    // A callback arrived before Infobip lists the file: the workflow finds nothing and skips it.
    await stack.runtime.starter.start(executionName(ref), { ref });
    const [early] = await stack.waitFor([executionName(ref)]);
    expect((early?.output as IngestState | undefined)?.decision).toBe('skip');

    simulator.markReady(fileId);
    const summary = await harvest(stack);
    expect(summary[0]).toMatchObject({ listed: 1, archived: 1 });
    expect((await stack.runtime.index.query({ accountId: 'ib' })).items[0]).toMatchObject({
      status: 'archived',
      sha256: simulator.audio(fileId).sha256(),
    });
  });

  it('starts a new round for a recording whose earlier execution ended without recording any outcome', async () => {
    const simulator = await voipbin(1);
    const dataDir = tempDir('lost');
    later(() => removeDir(dataDir));
    const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };
    // An earlier process ran this recording's execution to a failure that wrote no index entry.
    writeFileSync(
      join(dataDir, 'executions.jsonl'),
      `${JSON.stringify({ event: 'started', name: executionName(ref), input: { ref } })}\n${JSON.stringify({ event: 'ended', name: executionName(ref), status: 'FAILED' })}\n`,
    );
    const stack = await stackFor([accountOf('voipbin', simulator, 'vb')], { dataDir });
    const summary = await harvest(stack);
    expect(summary[0]).toMatchObject({ archived: 1, failed: 0 });
    expect(stack.stepFunctions.executions.has(executionName(ref, 1))).toBe(true);
  });

  it('an erasure between the readiness check and the archive step stops the archive: no download, no object', async () => {
    const simulator = await voipbin(1);
    const stack = await stackFor([accountOf('voipbin', simulator, 'vb')]);
    const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };
    const id = recordingId(ref);
    await stack.runtime.index.put(failedEntry(ref));
    // The entry is erased while CheckReadiness asks the provider, after it read the index.
    const adapterFor = stack.runtime.adapterFor;
    stack.runtime.adapterFor = async (accountId) => {
      const adapter = await adapterFor(accountId);
      return {
        ...adapter,
        get: async (...args) => {
          await eraseRecording(id, 'subject request', stack.archive);
          return adapter.get(...args);
        },
      };
    };
    // Handed over by a sweep: its place in the sweep's count is freed though nothing is written.
    await stack.runtime.ledger.addInFlight('vb', 1);
    const name = executionName(ref, 1);
    await stack.runtime.starter.start(name, { ref, round: 1, paced: true });
    const [ended] = await stack.waitFor([name]);
    expect(ended).toMatchObject({ status: 'SUCCEEDED' });
    expect(stack.stepFunctions.executions.get(name)?.statesEntered.slice(-3)).toEqual([
      'ErasedPaced',
      'ErasedFreePlace',
      'Erased',
    ]);
    expect(await stack.runtime.ledger.inFlight('vb')).toBe(0);
    expect(audioRequestsFor(simulator, 'vb-00000')).toBe(0);
    const stored = await stack.archive.s3.send(
      new ListObjectsV2Command({ Bucket: LOCAL_BUCKET, Prefix: 'recordings/vb/' }),
    );
    expect(stored.KeyCount).toBe(0);
    expect(await stack.runtime.index.get(id)).toMatchObject({ status: 'erased', reason: 'subject request' });
    stack.runtime.adapterFor = adapterFor;
  });

  it('a paced execution that finds its recording archived already frees its place in the sweep count', async () => {
    const simulator = await voipbin(1);
    const stack = await stackFor([accountOf('voipbin', simulator, 'vb')]);
    expect(harvestSucceeded(await harvest(stack))).toBe(true);
    const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };
    // A sweep handed it over as a webhook's execution archived it: the count says one in flight.
    await stack.runtime.ledger.addInFlight('vb', 1);
    const name = executionName(ref, 1);
    await stack.runtime.starter.start(name, { ref, round: 1, paced: true });
    await stack.waitFor([name]);
    expect(stack.stepFunctions.executions.get(name)?.statesEntered).toEqual([
      'CheckReadiness',
      'Route',
      'AlreadyDonePaced',
      'AlreadyDoneFreePlace',
      'AlreadyDone',
    ]);
    expect(await stack.runtime.ledger.inFlight('vb')).toBe(0);
    // Not paced (a webhook's): nothing to free, no extra step.
    await stack.runtime.starter.start(executionName(ref, 2), { ref, round: 2 });
    await stack.waitFor([executionName(ref, 2)]);
    expect(stack.stepFunctions.executions.get(executionName(ref, 2))?.statesEntered).toEqual([
      'CheckReadiness',
      'Route',
      'AlreadyDonePaced',
      'AlreadyDone',
    ]);
    expect(await stack.runtime.ledger.inFlight('vb')).toBe(0);
  });

  it('refuses a second execution of the same name, also after a restart on the same data directory', async () => {
    const simulator = await voipbin(1);
    const accounts = [accountOf('voipbin', simulator, 'vb')];
    const first = await startTestStack(accounts);
    const input = { ref: { accountId: 'vb', provider: 'voipbin', providerRecordingId: 'vb-00000' } };
    expect(await first.runtime.starter.start('vb-test-execution', input)).toBe('started');
    expect(await first.runtime.starter.start('vb-test-execution', input)).toBe('exists');
    await first.close();
    const second = await stackFor(accounts, { dataDir: first.dataDir });
    expect(await second.runtime.starter.start('vb-test-execution', input)).toBe('exists');
    expect(simulator.count('audio')).toBe(1);
  });

  it('fails a recording listed as ready whose audio never appears, once the deadline has passed', async () => {
    // Restcomm lists a recording (no status word) before its media server wrote the file: 404s.
    const simulator = await started(simulatorOf('restcomm', 1, { prefix: 'never', ...NEVER_READY }), later);
    const stack = await stackFor([accountOf('restcomm', simulator, 'rc')], { deadlineSeconds: 2 });

    const summary = await harvest(stack);
    expect(summary[0]).toMatchObject({ archived: 0, failed: 1 });
    expect(summary[0]?.problems[0]?.reason).toBe(
      'listed as ready, but the audio was still not there after 2 s',
    );
    const [execution] = [...stack.stepFunctions.executions.values()];
    // Each Archive → Wait → CheckReadiness loop waited initialDelaySeconds (1 s here), not less.
    const archives = execution?.statesEntered.filter((state) => state === 'Archive').length ?? 0;
    expect(archives).toBeGreaterThanOrEqual(2);
    expect(archives).toBeLessThanOrEqual(4);
    const entry = (await stack.runtime.index.query({ accountId: 'rc' })).items[0];
    expect(entry).toMatchObject({ status: 'failed', failures: 1 });
  });

  it('never turns a recording re-offered while gone into an error, however often it comes', async () => {
    const simulator = await voipbin(1);
    simulator.markDeleted('vb-00000');
    const stack = await stackFor([accountOf('voipbin', simulator, 'vb')]);
    const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };
    // As a webhook does each time the provider calls back about it: hand it over again.
    for (let offer = 0; offer < 7; offer += 1) {
      const entry = await stack.runtime.index.get(recordingId(ref));
      const handed = await handOver({ ref }, entry, stack.runtime.starter);
      expect(handed).toEqual({ outcome: 'started', name: executionName(ref, offer) });
      const [ended] = await stack.waitFor([handed.outcome === 'started' ? handed.name : '']);
      expect((ended?.output as IngestState | undefined)?.decision).toBe('skip');
    }
    expect(await stack.runtime.index.get(recordingId(ref))).toMatchObject({ status: 'skipped', round: 6 });
  });

  it("downloads recording X even when the store holds X.1's object, whose key starts with X's", async () => {
    const simulator = await voipbin(1);
    const stack = await stackFor([accountOf('voipbin', simulator, 'vb')]);
    const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };
    const other = { ...ref, providerRecordingId: 'vb-00000.1' };
    const startedAt = simulator.recordings.get('vb-00000')?.startedAt.toISOString();
    await stack.runtime.store.write(
      `${objectKeyPrefix(other, startedAt)}wav`,
      Readable.from([Buffer.from('RIFF\0\0\0\0WAVEsomeone else')]),
      'audio/wav',
      { 'callvault-recording-id': recordingId(other) },
    );

    const summary = await harvest(stack);
    expect(summary[0]).toMatchObject({ archived: 1, failed: 0 });
    expect(audioRequestsFor(simulator, 'vb-00000')).toBe(1);
    expect(await stack.runtime.index.get(recordingId(ref))).toMatchObject({
      status: 'archived',
      key: `${objectKeyPrefix(ref, startedAt)}wav`,
      sha256: simulator.audio('vb-00000').sha256(),
    });
  });

  it('leaves a failed entry for an execution that timed out before recording any outcome', async () => {
    const simulator = await voipbin(1, NEVER_READY);
    // The readiness deadline is far; the execution's own timeout (shortened here) comes first.
    const stack = await stackFor([accountOf('voipbin', simulator, 'vb')], {
      deadlineSeconds: 3600,
      executionTimeoutSeconds: 2,
    });
    const summary = await harvest(stack);
    expect(summary[0]).toMatchObject({ archived: 0, failed: 1 });
    const [execution] = [...stack.stepFunctions.executions.values()];
    expect(execution?.status).toBe('TIMED_OUT');
    const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };
    expect(await stack.runtime.index.get(recordingId(ref))).toMatchObject({
      status: 'failed',
      errorName: 'ExecutionTimedOut',
      reason: 'the execution timed out before recording an outcome',
      failures: 1,
      round: 0,
    });
    // The next hand-over moves to a new round, as after any other failure.
    expect((await stack.sweep({ accountId: 'vb' })).started).toEqual([executionName(ref, 1)]);
    stack.stepFunctions.abortRunning();
  });
});
