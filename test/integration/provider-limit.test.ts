/**
 * Providers are protected: an account's `maxConcurrency` bounds the checks and downloads in flight
 * at its provider across every execution, through the lease items in the (dynalite) index table
 * that deployed Lambdas share too; a 429 slows the account down and no recording fails for it.
 * The simulators count the requests they answer at once, over real HTTP.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoProviderSlots, slotsKey } from '../../lambdas/aws/dynamo-slots.ts';
import type { AccountConfig } from '../../lambdas/core/config.ts';
import { ProviderBusyError } from '../../lambdas/core/errors.ts';
import { type AccountSummary, harvest } from '../../local/harvest.ts';
import { type InfobipSimulator, infobipSimulatorAccount } from '../../local/simulators/infobip.ts';
import { LOCAL_TABLE, type OwnedLocalStack, startLocalStack } from '../../local/stack.ts';
import { simulatorOf } from '../helpers/simulators.ts';
import { FAST_PROVIDERS, removeDir, tempDir, testConfig } from '../helpers/stack.ts';
import { started, teardown } from '../helpers/teardown.ts';

const later = teardown('all');

/**
 * The local stack with 16 concurrent invocations per handler: more than the accounts' limits
 * together, so one account's waiting tasks cannot starve another's.
 */
async function stackFor(accounts: AccountConfig[]): Promise<OwnedLocalStack> {
  const dataDir = tempDir('limit');
  later(() => removeDir(dataDir));
  const stack = await startLocalStack({
    ...FAST_PROVIDERS,
    config: testConfig(accounts),
    dataDir,
    // Busy retries every 100 ms (5 s × 0.02), up to 60 times: enough for this backlog to drain.
    retryIntervalScale: 0.02,
    concurrency: 16,
  });
  later(() => stack.close());
  return stack;
}

const simWith = (count: number, prefix: string) => started(simulatorOf('infobip', count, { prefix }), later);

describe('maxConcurrency through the local workflow', () => {
  let stack: OwnedLocalStack;
  let limited: InfobipSimulator;
  let control: InfobipSimulator;
  let throttling: InfobipSimulator;
  let summaries: Map<string, AccountSummary>;

  beforeAll(async () => {
    [limited, control, throttling] = await Promise.all([
      simWith(8, 'lim'),
      simWith(8, 'ctl'),
      simWith(6, 'rl'),
    ]);
    // Slow bodies (about 0.6 s each), so downloads overlap unless something holds them back, even
    // on a loaded machine where each recording's steps before its download take longer.
    for (const sim of [limited, control])
      sim.inject({
        kind: 'slow',
        on: 'audio',
        times: Number.POSITIVE_INFINITY,
        chunkBytes: 2048,
        chunkDelayMs: 60,
      });
    // Every audio request is answered 429 until all 25 are spent. A download gives up (busy) at
    // its fifth 429; six recordings can absorb at most 6 × 4 = 24 without one giving up, however
    // the answers fall among concurrent downloads, so at least one download ends busy.
    throttling.inject({ kind: 'rate-limit', on: 'audio', times: 25, retryAfterSeconds: 0 });
    stack = await stackFor([
      { ...infobipSimulatorAccount(limited, 'ib-two'), maxConcurrency: 2 },
      // The control: room for all its downloads at once.
      { ...infobipSimulatorAccount(control, 'ib-control'), maxConcurrency: 8 },
      { ...infobipSimulatorAccount(throttling, 'ib-429'), maxConcurrency: 4 },
    ]);
    summaries = new Map((await harvest(stack)).map((summary) => [summary.accountId, summary]));
  }, 60_000);

  const slotsItem = async (accountId: string) =>
    (
      await stack.archive.dynamo.send(
        new GetCommand({ TableName: LOCAL_TABLE, Key: { id: slotsKey(accountId) }, ConsistentRead: true }),
      )
    ).Item;

  it('never has more than maxConcurrency downloads in flight at the provider, and archives everything', async () => {
    expect(summaries.get('ib-two')).toMatchObject({ listed: 8, archived: 8, failed: 0 });
    // Downloads only: the sweep's next listing page may be read while two downloads run (Infobip's
    // readiness check asks the provider nothing).
    expect(limited.maxInFlightOf.get('audio')).toBeLessThanOrEqual(2);
    // The same load with room for it overlaps more than two downloads.
    expect(summaries.get('ib-control')).toMatchObject({ listed: 8, archived: 8, failed: 0 });
    expect(control.maxInFlightOf.get('audio')).toBeGreaterThan(2);
    // Every slot was given back.
    expect(Object.keys((await slotsItem('ib-two')) ?? {}).filter((name) => /^s\d+$/.test(name))).toEqual([]);
  });

  it('slows an account down on a 429 that outlives the transport retries, and no recording fails', async () => {
    expect(summaries.get('ib-429')).toMatchObject({ listed: 6, archived: 6, failed: 0 });
    expect(throttling.requests.filter((request) => request.status === 429)).toHaveLength(25);
    const item = await slotsItem('ib-429');
    // Halved at least once from 4, for a minute from the 429.
    expect(item?.limit).toBeLessThanOrEqual(2);
    expect(item?.reducedUntil).toBeGreaterThan(Date.now());
  });

  describe('DynamoProviderSlots on dynalite', () => {
    let clock = Date.UTC(2026, 11, 1, 12, 0, 0);
    const slotsAt = (waitMs = 0) =>
      new DynamoProviderSlots(stack.archive.dynamo, LOCAL_TABLE, {
        leaseMs: 30_000,
        waitMs,
        now: () => clock,
      });
    afterEach(() => {
      clock += 3_600_000;
    });
    it('hands out exactly `limit` slots to concurrent callers, and a released one again', async () => {
      const slots = slotsAt();
      const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => slots.acquire('acct-a', 3)));
      const leases = attempts.flatMap((attempt) => (attempt.status === 'fulfilled' ? [attempt.value] : []));
      const refused = attempts.flatMap((attempt) => (attempt.status === 'rejected' ? [attempt.reason] : []));
      expect(leases).toHaveLength(3);
      for (const reason of refused) expect(reason).toBeInstanceOf(ProviderBusyError);
      await expect(slots.acquire('acct-a', 3)).rejects.toThrow(/all 3 of its provider slots are taken/);
      // Another account has slots of its own.
      await (await slots.acquire('acct-b', 1)).release();
      await leases[0]?.release();
      const again = await slots.acquire('acct-a', 3);
      await Promise.all([again, ...leases.slice(1)].map((lease) => lease.release()));
    });

    it('waits in-process for a slot given back within waitMs, instead of failing the task', async () => {
      const slots = slotsAt(5_000);
      const held = await slots.acquire('acct-w', 1);
      const waiting = slots.acquire('acct-w', 1);
      setTimeout(() => void held.release(), 200);
      await (await waiting).release();
    });

    it('lets a lease of a task that died lapse, so its slot is taken again', async () => {
      const slots = slotsAt();
      const dead = await slots.acquire('acct-c', 1);
      await expect(slots.acquire('acct-c', 1)).rejects.toBeInstanceOf(ProviderBusyError);
      clock += 30_001;
      const next = await slots.acquire('acct-c', 1);
      // The dead task's late release does not free the slot it no longer holds.
      await dead.release();
      await expect(slots.acquire('acct-c', 1)).rejects.toBeInstanceOf(ProviderBusyError);
      await next.release();
    });

    it('halves the slots after a 429 for the slow-down period, then gives them all back', async () => {
      const slots = slotsAt();
      await slots.slowDown('acct-d', 4);
      const first = await slots.acquire('acct-d', 4);
      const second = await slots.acquire('acct-d', 4);
      await expect(slots.acquire('acct-d', 4)).rejects.toThrow(/slowed down to 2 after a 429/);
      await slots.slowDown('acct-d', 4, 120_000);
      await Promise.all([first.release(), second.release()]);
      const only = await slots.acquire('acct-d', 4);
      await expect(slots.acquire('acct-d', 4)).rejects.toThrow(/all 1 of its provider slots/);
      clock += 120_001;
      const more = await Promise.all([
        slots.acquire('acct-d', 4),
        slots.acquire('acct-d', 4),
        slots.acquire('acct-d', 4),
      ]);
      await Promise.all([only, ...more].map((lease) => lease.release()));
    });
  });
});
