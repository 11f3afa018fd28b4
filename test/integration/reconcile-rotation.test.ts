/**
 * The deployed reconcile re-reads the archive a time-boxed slice per run: an archive too large to
 * re-read in one Lambda invocation is re-read over several, each run resuming where the last one
 * stopped (progress in the index table), the pass wrapping round once every object was re-read.
 * Local stack and a Restcomm simulator over HTTP.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallvaultConfig, parseConfig } from '../../lambdas/core/config.ts';
import { listingOrder } from '../../lambdas/core/ids.ts';
import { eachIndexEntry } from '../../lambdas/core/index-walk.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { reconcileAccount, VERIFY_CONCURRENCY } from '../../lambdas/core/reconcile.ts';
import { createReconcileHandler, REPORT_MARGIN_MS } from '../../lambdas/handlers/reconcile.ts';
import { harvest, harvestSucceeded } from '../../local/harvest.ts';
import {
  RestcommSimulator,
  restcommRecordings,
  restcommSimulatorAccount,
} from '../../local/simulators/restcomm.ts';
import { LOCAL_BUCKET } from '../../local/stack.ts';
import { jobDepsOf, startTestStack, type TestStack } from '../helpers/stack.ts';

/** More objects than two of reconcile's slices (4 × its concurrency each). */
const RECORDINGS = VERIFY_CONCURRENCY * 4 * 2 + 22;

describe('reconcile re-reads a large archive over several runs', () => {
  let restcomm: RestcommSimulator;
  let stack: TestStack;
  let config: CallvaultConfig;
  let inOrder: IndexEntry[];

  beforeAll(async () => {
    restcomm = new RestcommSimulator({ recordings: restcommRecordings(RECORDINGS, { prefix: 'rot' }) });
    await restcomm.start();
    config = parseConfig({ accounts: [restcommSimulatorAccount(restcomm, 'rc')] });
    stack = await startTestStack(config.accounts);
    expect(harvestSucceeded(await harvest(stack))).toBe(true);
    inOrder = [];
    for await (const entry of eachIndexEntry(stack.archive.index, { accountId: 'rc' })) inOrder.push(entry);
    // Sorted here, not trusted: the index's own order is what the pass relies on.
    inOrder.sort((a, b) => (listingOrder(a) < listingOrder(b) ? -1 : 1));
    expect(inOrder).toHaveLength(RECORDINGS);
  }, 120_000);

  afterAll(async () => {
    await stack?.dispose();
    await restcomm?.stop();
  });

  it('each run re-reads one slice until its deadline and resumes after it; the last slice completes the pass', async () => {
    const account = config.accounts[0];
    if (!account) throw new Error('no account');
    // The object last in listing order no longer holds its bytes: only the run that reaches it can tell.
    const altered = inOrder[inOrder.length - 1] as IndexEntry;
    await stack.archive.s3.send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKET, Key: altered.key, Body: 'not the audio any more' }),
    );
    const run = async (at: string) => {
      // A clock that has reached the deadline by its second look: exactly one slice per run.
      let looks = 0;
      return (
        await reconcileAccount({
          account,
          source: await stack.runtime.adapterFor('rc'),
          index: stack.archive.index,
          store: stack.archive.store,
          now: () => new Date(at),
          verification: { progress: stack.archive.index, deadline: 1, clock: () => looks++ },
        })
      ).report;
    };
    const slice = VERIFY_CONCURRENCY * 4;

    const first = await run('2026-12-01T04:00:00.000Z');
    expect(first.verification).toEqual({
      objects: slice,
      remaining: RECORDINGS - slice,
      passStartedAt: '2026-12-01T04:00:00.000Z',
    });
    expect(first.gaps).toEqual([]);
    expect(await stack.archive.index.getVerification('rc')).toEqual({
      position: listingOrder(inOrder[slice - 1] as IndexEntry),
      passStartedAt: '2026-12-01T04:00:00.000Z',
    });

    const second = await run('2026-12-02T04:00:00.000Z');
    expect(second.verification).toEqual({
      objects: slice,
      remaining: RECORDINGS - 2 * slice,
      passStartedAt: '2026-12-01T04:00:00.000Z',
    });
    expect(second.gaps).toEqual([]);

    const third = await run('2026-12-03T04:00:00.000Z');
    const lastPass = { startedAt: '2026-12-01T04:00:00.000Z', completedAt: '2026-12-03T04:00:00.000Z' };
    expect(third.verification).toEqual({
      objects: RECORDINGS - 2 * slice,
      remaining: 0,
      passStartedAt: '2026-12-01T04:00:00.000Z',
      lastPass,
    });
    expect(third.gaps.map((gap) => [gap.kind, gap.id])).toEqual([['hash-mismatch', altered.id]]);
    expect(third.archived).toBe(RECORDINGS);

    // The next run starts a new pass from the first entry, and still knows when the last one ended.
    const fourth = await run('2026-12-04T04:00:00.000Z');
    expect(fourth.verification).toEqual({
      objects: slice,
      remaining: RECORDINGS - slice,
      passStartedAt: '2026-12-04T04:00:00.000Z',
      lastPass,
    });
    expect(await stack.archive.index.getVerification('rc')).toEqual({
      position: listingOrder(inOrder[slice - 1] as IndexEntry),
      passStartedAt: '2026-12-04T04:00:00.000Z',
      lastPass,
    });
  });

  it("the deployed job time-boxes the read-back from Lambda's remaining time", async () => {
    let now = new Date('2026-12-05T04:00:00.000Z');
    const lines: string[] = [];
    const job = createReconcileHandler({
      ...jobDepsOf(stack, (line) => lines.push(line)),
      now: () => now,
    });
    const passAge = () => JSON.parse(lines.at(-1) as string).VerifiedPassAgeSeconds;
    // Nothing left beyond the report's margin: the account is still reconciled, no object re-read.
    await job(undefined, { getRemainingTimeInMillis: () => REPORT_MARGIN_MS });
    const saved = await stack.archive.index.getVerification('rc');
    // An hour: the whole pass under way, to its end.
    now = new Date('2026-12-06T04:00:00.000Z');
    await job(undefined, { getRemainingTimeInMillis: () => 3_600_000 });
    const completed = await stack.archive.index.getVerification('rc');
    // The proof is as old as the start of the pass just completed (what the overdue alarm reads).
    expect(passAge()).toBe((now.getTime() - Date.parse(saved?.passStartedAt as string)) / 1000);
    expect(saved?.position).toBeDefined();
    expect(completed?.position).toBeUndefined();
    expect(completed?.passStartedAt).toBeUndefined();
    expect(completed?.lastPass?.startedAt).toBe(saved?.passStartedAt);
    // Without a context (the local CLI) every object is re-read, and no progress is kept.
    const { key } = await job();
    expect(key).toMatch(/^reports\/reconcile\//);
    expect(passAge()).toBeUndefined();
    expect(await stack.archive.index.getVerification('rc')).toEqual(completed);
    // A new pass that gets no time at all still starts: the run after it completes that pass.
    await job(undefined, { getRemainingTimeInMillis: () => REPORT_MARGIN_MS });
    const started = await stack.archive.index.getVerification('rc');
    expect(started).toEqual({ passStartedAt: expect.any(String), lastPass: completed?.lastPass });
    await job(undefined, { getRemainingTimeInMillis: () => 3_600_000 });
    expect((await stack.archive.index.getVerification('rc'))?.lastPass?.startedAt).toBe(
      started?.passStartedAt,
    );
  });
});
