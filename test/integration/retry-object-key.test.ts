/**
 * A recording keeps one object key across retry rounds, whoever starts the round: the record step
 * fails after the archive step stored the object (the execution ends FAILED, the ended handler
 * writes the entry), and the next round, started by the retry job or a sweep's hand-over, finds
 * that object instead of downloading the audio into a second key.
 *
 * The adapter is Infobip's against its simulator, on a file without a messageId that is no longer
 * on the listing's first page: asked without hints, it can say the file is there but not when it
 * was recorded, so a round without a date would store it under `undated/`.
 */
import { describe, expect, it } from 'vitest';
import { handOver, listedState } from '../../lambdas/core/hand-over.ts';
import { executionName, objectKeyPrefix, recordingId } from '../../lambdas/core/ids.ts';
import type { IngestState } from '../../lambdas/core/ingest.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import type { Recording, RecordingRef } from '../../lambdas/core/recording.ts';
import type { SimRecording } from '../../local/simulators/base.ts';
import { type InfobipSimulator, infobipSampleRecordings } from '../../local/simulators/infobip.ts';
import { accountOf, simulatorOf } from '../helpers/simulators.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { started, teardown } from '../helpers/teardown.ts';

const later = teardown();

/** One more than the adapter's page: the oldest file is on page 2 of the newest-first listing. */
const FILES = 101;

async function infobipStack(): Promise<{ simulator: InfobipSimulator; stack: TestStack; fileId: string }> {
  const simulator = simulatorOf('infobip', FILES, { prefix: 'key' });
  const oldest = [...simulator.recordings.values()].sort(
    (a, b) => a.startedAt.getTime() - b.startedAt.getTime(),
  )[0];
  if (!oldest) throw new Error('no recordings');
  // Recorded by a scenario whose files carry no messageId: no one-message lookup finds it.
  oldest.callId = '';
  await started(simulator, later);
  const stack = await startTestStack([accountOf('infobip', simulator, 'ib')], {
    retry: { initialDelaySeconds: 1, maxDelaySeconds: 1 },
  });
  later(() => stack.dispose());
  return { simulator, stack, fileId: oldest.id };
}

/**
 * Until the returned function is called, the record step cannot write an `archived` outcome (as
 * when its Lambda is throttled past the state's retries): the execution fails without one.
 */
function failArchivedWrites(stack: TestStack): () => void {
  const index = stack.runtime.index;
  const put = index.put.bind(index);
  index.put = async (entry: IndexEntry) => {
    if (entry.status === 'archived') {
      throw Object.assign(new Error('Rate exceeded (simulated)'), {
        name: 'Lambda.TooManyRequestsException',
      });
    }
    return put(entry);
  };
  return () => {
    index.put = put;
  };
}

async function objectsOf(stack: TestStack, accountId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of stack.archive.store.list(`recordings/${accountId}/`)) keys.push(object.key);
  return keys;
}

const audioRequests = (simulator: InfobipSimulator, fileId: string) =>
  simulator.requests.filter((request) => request.endpoint === 'audio' && request.path.endsWith(fileId))
    .length;

async function listed(stack: TestStack, fileId: string): Promise<Recording> {
  const adapter = await stack.runtime.adapterFor('ib');
  for await (const recording of adapter.list({}))
    if (recording.providerRecordingId === fileId) return recording;
  throw new Error(`${fileId} is not listed`);
}

/** The retry job starts round 1, which finds the object under `key`: the only one stored. */
async function retryRecovers(stack: TestStack, ref: RecordingRef, key: string): Promise<void> {
  const retried = await stack.retry({ ignoreBackoff: true });
  expect(retried.started).toEqual([executionName(ref, 1)]);
  const [second] = await stack.waitFor(retried.started);
  expect((second?.output as IngestState | undefined)?.archive).toMatchObject({ recovered: true, key });
  expect(await objectsOf(stack, ref.accountId)).toEqual([key]);
}

async function run(stack: TestStack, input: IngestState, entry: IndexEntry | undefined) {
  const handed = await handOver(input, entry, stack.runtime.starter);
  if (handed.outcome !== 'started') throw new Error(`not started: ${handed.outcome}`);
  const [ended] = await stack.waitFor([handed.name]);
  return { name: handed.name, ended };
}

describe('the object key across retry rounds', { timeout: 120_000 }, () => {
  it('a retry-job round of a recording stored under its date finds that object, hint-less adapter or not', async () => {
    const { simulator, stack, fileId } = await infobipStack();
    const recording = await listed(stack, fileId);
    expect(recording.callId).toBeUndefined();
    expect(recording.startedAt).toBeDefined();
    const ref: RecordingRef = { accountId: 'ib', provider: 'infobip', providerRecordingId: fileId };
    const dated = `${objectKeyPrefix(ref, recording.startedAt)}wav`;

    // Round 0, as a sweep hands it over: the listing's date → the dated key; the record step fails.
    const restore = failArchivedWrites(stack);
    const first = await run(stack, listedState(recording), undefined);
    restore();
    expect(first.ended).toMatchObject({ status: 'FAILED', error: 'Lambda.TooManyRequestsException' });
    expect(await objectsOf(stack, 'ib')).toEqual([dated]);
    expect(audioRequests(simulator, fileId)).toBe(1);
    const failed = await stack.runtime.index.get(recordingId(ref));
    // The ended handler wrote it from the execution's input, keeping what the listing told.
    expect(failed).toMatchObject({ status: 'failed', round: 0, startedAt: recording.startedAt });

    // Round 1, from the index alone: the adapter, asked without hints, could not date the file.
    await retryRecovers(stack, ref, dated);
    expect(audioRequests(simulator, fileId)).toBe(1);
    expect(await stack.runtime.index.get(recordingId(ref))).toMatchObject({
      status: 'archived',
      key: dated,
      sha256: simulator.audio(fileId).sha256(),
    });
  });

  it('a round that learns the date finds the object an undated round stored', async () => {
    const { simulator, stack, fileId } = await infobipStack();
    const ref: RecordingRef = { accountId: 'ib', provider: 'infobip', providerRecordingId: fileId };
    const undated = `${objectKeyPrefix(ref, undefined)}wav`;

    // Round 0 without hints (a bare callback, or a retry of an entry that knew no date): the
    // adapter finds the file by its URL only, so it is stored undated; the record step fails.
    const restore = failArchivedWrites(stack);
    const first = await run(stack, { ref }, undefined);
    restore();
    expect(first.ended).toMatchObject({ status: 'FAILED' });
    expect(await objectsOf(stack, 'ib')).toEqual([undated]);
    const failed = await stack.runtime.index.get(recordingId(ref));
    expect(failed).toMatchObject({ status: 'failed', round: 0 });
    expect(failed?.startedAt).toBeUndefined();
    // The probe of the file's URL and the download.
    const audioBefore = audioRequests(simulator, fileId);

    // Round 1 as a sweep hands it over, with the listing's date.
    const recording = await listed(stack, fileId);
    expect(recording.startedAt).toBeDefined();
    const second = await run(stack, listedState(recording), failed);
    expect(second.name).toBe(executionName(ref, 1));
    expect((second.ended?.output as IngestState | undefined)?.archive).toMatchObject({
      recovered: true,
      key: undated,
    });

    expect(await objectsOf(stack, 'ib')).toEqual([undated]);
    expect(audioRequests(simulator, fileId)).toBe(audioBefore);
    expect(await stack.runtime.index.get(recordingId(ref))).toMatchObject({
      status: 'archived',
      key: undated,
      startedAt: recording.startedAt,
      sha256: simulator.audio(fileId).sha256(),
    });
  });
  it('a round that dated a hint-less recording leaves the date on its failed entry, so the retry finds the object', async () => {
    const { simulator, stack } = await infobipStack();
    const newest = [...simulator.recordings.values()].sort(
      (a, b) => b.startedAt.getTime() - a.startedAt.getTime(),
    )[0] as SimRecording;
    newest.callId = '';
    const ref: RecordingRef = { accountId: 'ib', provider: 'infobip', providerRecordingId: newest.id };
    const dated = `${objectKeyPrefix(ref, newest.startedAt.toISOString())}wav`;

    // Round 0 from a bare callback: the check finds the file on the listing's first page, so the
    // audio is stored under its date; the record step fails, the execution ends FAILED.
    const restore = failArchivedWrites(stack);
    const first = await run(stack, { ref }, undefined);
    restore();
    expect(first.ended).toMatchObject({ status: 'FAILED' });
    expect(await objectsOf(stack, 'ib')).toEqual([dated]);
    // The input knew no date; the ended handler read it from the execution's last state.
    const failed = await stack.runtime.index.get(recordingId(ref));
    expect(failed).toMatchObject({ status: 'failed', startedAt: newest.startedAt.toISOString() });
    const audioBefore = audioRequests(simulator, newest.id);

    // 100 newer files push it off the first page: asked again without hints, the adapter could
    // not date it, and a round without the entry's date would store it again under `undated/`.
    for (const recording of infobipSampleRecordings(100, {
      prefix: 'newer',
      start: new Date(newest.startedAt.getTime() + 3_600_000),
    }))
      simulator.add(recording);
    await retryRecovers(stack, ref, dated);
    expect(audioRequests(simulator, newest.id)).toBe(audioBefore);
    expect(await stack.runtime.index.get(recordingId(ref))).toMatchObject({ status: 'archived', key: dated });
  });
});
