import { describe, expect, it } from 'vitest';
import { retryConfig } from '../../lambdas/core/config.ts';
import { firstRound } from '../../lambdas/core/hand-over.ts';
import { recordingId } from '../../lambdas/core/ids.ts';
import type { Logger } from '../../lambdas/core/log.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { RETRIES_EXHAUSTED_MESSAGE, retryDueAt, retryFailed } from '../../lambdas/core/retry.ts';
import { recordStoppedExecution } from '../../lambdas/core/stopped-execution.ts';
import { createRetryHandler } from '../../lambdas/handlers/retry.ts';
import { FakeIndex, FakeStarter } from './fakes.ts';

const retry = retryConfig.parse({ initialDelaySeconds: 60, maxDelaySeconds: 600, maxAttempts: 3 });
const failed = (fields: Partial<IndexEntry> = {}): IndexEntry => ({
  id: 'id-1',
  accountId: 'vb',
  provider: 'voipbin',
  providerRecordingId: 'r1',
  status: 'failed',
  updatedAt: '2026-11-01T09:00:00.000Z',
  failures: 1,
  round: 0,
  ...fields,
});

describe('firstRound', () => {
  it('starts after the round that wrote the outcome, whatever the outcome', () => {
    expect(firstRound(undefined)).toBe(0);
    expect(firstRound(failed({ round: 3 }))).toBe(4);
    expect(firstRound(failed({ status: 'skipped', round: 5, failures: undefined }))).toBe(6);
    expect(firstRound(failed({ status: 'archived' }))).toBeUndefined();
  });

  it('reads entries written before they carried a round from their failure count', () => {
    expect(firstRound(failed({ round: undefined, failures: 2 }))).toBe(2);
    expect(firstRound(failed({ status: 'skipped', round: undefined, failures: undefined }))).toBe(1);
  });
});

describe('retryDueAt', () => {
  it('doubles from initialDelaySeconds per failure, capped at maxDelaySeconds', () => {
    const due = (failures: number) =>
      (Date.parse(retryDueAt(failed({ failures }), retry).toISOString()) - Date.parse(failed().updatedAt)) /
      1000;
    expect([1, 2, 3, 4, 5].map(due)).toEqual([60, 120, 240, 480, 600]);
  });
});

describe('retryFailed', () => {
  it('hands over due entries under the next round, waits for the others, leaves exhausted ones', async () => {
    const index = new FakeIndex();
    index.entries.set(
      'due',
      failed({ id: 'due', providerRecordingId: 'due', updatedAt: '2026-11-01T08:00:00.000Z' }),
    );
    index.entries.set('early', failed({ id: 'early', providerRecordingId: 'early' }));
    index.entries.set('spent', failed({ id: 'spent', providerRecordingId: 'spent', failures: 3 }));
    index.entries.set('done', failed({ id: 'done', status: 'archived' }));
    const starter = new FakeStarter();
    const result = await retryFailed(
      {},
      { index, starter, retry, now: () => new Date('2026-11-01T09:00:30.000Z') },
    );
    expect(result).toMatchObject({ failed: 3, notDue: 1, exhausted: ['spent'], errors: [] });
    expect(starter.calls).toEqual([
      {
        name: `vb-${recordingId({ accountId: 'vb', providerRecordingId: 'due' })}-r1`,
        input: { ref: { accountId: 'vb', provider: 'voipbin', providerRecordingId: 'due' }, round: 1 },
      },
    ]);
  });
});

describe('the retry handler', () => {
  const now = () => new Date('2026-11-01T12:00:00.000Z');
  function handlerWith(index: FakeIndex, starter = new FakeStarter()) {
    const errors: { event: string; fields: unknown }[] = [];
    const logger = {
      info: () => {},
      warn: () => {},
      error: (event: string, fields: unknown) => errors.push({ event, fields }),
    } as unknown as Logger;
    return { run: createRetryHandler({ index, starter, retry, logger, now }), errors };
  }
  const exhaustedLines = (errors: { event: string; fields: unknown }[]) =>
    errors.filter((line) => line.event === RETRIES_EXHAUSTED_MESSAGE).map((line) => line.fields);

  it('reports an entry at the retry limit once (the alarm notifies on a change), again once it fails again', async () => {
    const index = new FakeIndex();
    index.entries.set('spent', failed({ id: 'spent', failures: 3 }));
    const { run, errors } = handlerWith(index);
    await run({});
    await run({});
    expect(exhaustedLines(errors)).toEqual([{ exhausted: 1, ids: ['spent'] }]);
    expect(index.entries.get('spent')).toMatchObject({ retryLimitReported: 3 });
    // A forced retry failed once more: that limit is news again.
    index.entries.set('spent', { ...(index.entries.get('spent') as IndexEntry), failures: 4 });
    const next = await run({});
    expect(next.exhausted).toEqual(['spent']);
    expect(exhaustedLines(errors)).toHaveLength(2);
  });

  it('fails the run, after handing over the rest, when a failed recording could not be handed over', async () => {
    const index = new FakeIndex();
    index.entries.set('a', failed({ id: 'a', providerRecordingId: 'a' }));
    index.entries.set('b', failed({ id: 'b', providerRecordingId: 'b' }));
    const starter = new FakeStarter((name) =>
      name.includes(recordingId({ accountId: 'vb', providerRecordingId: 'a' }))
        ? new Error('throttled')
        : 'started',
    );
    const { run, errors } = handlerWith(index, starter);
    await expect(run({})).rejects.toThrow(
      expect.objectContaining({
        name: 'RetryHandOverError',
        message: expect.stringMatching(/^1 failed recordings could not be handed over again \(first: a\)/),
      }),
    );
    expect(starter.calls).toHaveLength(2);
    expect(errors).toContainEqual({
      event: 'a failed recording could not be handed over',
      fields: { id: 'a', reason: 'throttled' },
    });
  });
});

describe('recordStoppedExecution', () => {
  const deps = () => ({ index: new FakeIndex(), now: () => new Date('2026-11-01T10:00:00.000Z') });
  const input = JSON.stringify({
    ref: { accountId: 'vb', provider: 'voipbin', providerRecordingId: 'r1' },
    round: 2,
  });

  it('records a timed-out or aborted execution as failed, in its round', async () => {
    const { index, now } = deps();
    const entry = (
      await recordStoppedExecution({ name: 'vb-x-r2', status: 'ABORTED', input }, { index, now })
    )?.entry;
    expect(entry).toMatchObject({ status: 'failed', round: 2, errorName: 'ExecutionAborted' });
    expect(index.entries.get(entry?.id ?? '')).toMatchObject({ failures: 1 });
  });

  it('ignores a failure the workflow recorded itself, and a succeeded execution', async () => {
    const { index, now } = deps();
    expect(
      await recordStoppedExecution(
        { name: 'n', status: 'FAILED', error: 'IngestFailed', input },
        { index, now },
      ),
    ).toBeUndefined();
    expect(
      await recordStoppedExecution({ name: 'n', status: 'SUCCEEDED', input }, { index, now }),
    ).toBeUndefined();
    expect(index.puts).toEqual([]);
  });

  it('keeps the cause of an unexpected failure out of the reason: the error name only', async () => {
    const { index, now } = deps();
    const entry = (
      await recordStoppedExecution(
        { name: 'n', status: 'FAILED', error: 'States.Runtime', input },
        { index, now },
      )
    )?.entry;
    expect(entry?.reason).toBe('the execution failed (States.Runtime) before recording an outcome');
  });
});
