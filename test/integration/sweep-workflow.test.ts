import { describe, expect, it } from 'vitest';
import type { SweepCheckpoint, SweepLedger } from '../../lambdas/core/ports.ts';
import { harvest, harvestSucceeded } from '../../local/harvest.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import type { VoipbinSimulator } from '../../local/simulators/voipbin.ts';
import { type OwnedLocalStack, startLocalStack, sweepOutcome } from '../../local/stack.ts';
import { accountOf, simulatorOf } from '../helpers/simulators.ts';
import { FAST_STACK, removeDir, tempDir, testConfig } from '../helpers/stack.ts';
import { started, teardown } from '../helpers/teardown.ts';

const later = teardown();

async function setUp(count: number) {
  const simulator = await started(simulatorOf('voipbin', count, { prefix: 'vb', durationSec: 1 }), later);
  const dataDir = tempDir('sweep');
  later(() => removeDir(dataDir));
  const config = testConfig([accountOf('voipbin', simulator, 'vb')]);
  const open = () =>
    startLocalStack({
      ...FAST_STACK,
      config,
      dataDir,
      adapterOptions: { ...FAST_STACK.adapterOptions, pageSize: 2 },
    });
  return { simulator, open };
}

/** List requests for the first page (no page token), the only one a resumed pass must not repeat. */
const firstPageRequests = (simulator: VoipbinSimulator) =>
  simulator.requests.filter((request) => request.endpoint === 'list' && !request.query.includes('page_token'))
    .length;

describe('sweep workflow on the local stack', () => {
  it('a sweep killed between pages resumes from its checkpoint in the next process, listing no page twice', async () => {
    const { simulator, open } = await setUp(6);
    const first = await open();
    // Right after the first page's checkpoint is stored, the process "dies": executions aborted.
    const ledger = first.runtime.ledger;
    let killed: Promise<void> | undefined;
    let killedAt: SweepCheckpoint | undefined;
    first.runtime.ledger = {
      get: ledger.get.bind(ledger),
      acquire: ledger.acquire.bind(ledger),
      release: ledger.release.bind(ledger),
      inFlight: ledger.inFlight.bind(ledger),
      addInFlight: ledger.addInFlight.bind(ledger),
      resetInFlight: ledger.resetInFlight.bind(ledger),
      put: async (accountId, pass, record) => {
        await ledger.put(accountId, pass, record);
        if (record.active?.pages === 1 && !killed) {
          killedAt = record.active;
          killed = first.close({ waitForExecutions: false });
        }
      },
    } satisfies SweepLedger;
    const sweep = first.sweep({ accountId: 'vb' }, 'vb-scheduled-1').catch((error: Error) => error);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (killed) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    await killed;
    expect(await sweep).toBeInstanceOf(Error);
    expect(firstPageRequests(simulator)).toBe(1);

    // The next start resumes the sweep execution under its name: same lease holder, same pass.
    const second = await open();
    later(() => second.close());
    const resumed = second.sweepFunctions.executions.get('vb-scheduled-1');
    expect(resumed).toBeDefined();
    // What the killed process left: the checkpoint after page one, and no cursor yet.
    expect(killedAt).toMatchObject({ pages: 1, listed: 2, position: expect.any(String) });
    const sfn = await sfnOf(second);
    const outcome = await sweepOutcome(sfn, 'vb-scheduled-1');
    expect(outcome).toMatchObject({ status: 'done', holder: 'vb-scheduled-1' });
    // Three pages of two and the empty page that ends a VoIPBin listing.
    expect(outcome.progress).toMatchObject({ listed: 6, pages: 4 });
    expect(firstPageRequests(simulator)).toBe(1);
    const ingest = [...second.stepFunctions.executions.values()];
    await Promise.all(ingest.map((execution) => execution.done));
    const archived = await second.archive.index.query({ accountId: 'vb', status: 'archived' });
    expect(archived.items).toHaveLength(6);
    expect(await second.archive.index.getCursor('vb')).toBe(sampleRecordings(6)[5]?.startedAt.toISOString());
  }, 180_000);

  it('two sweeps of one account never overlap: the second ends at once, or waits for the lease when told to', async () => {
    const { open } = await setUp(6);
    const stack = await open();
    later(() => stack.close());
    const ledger = stack.runtime.ledger;
    const events: string[] = [];
    stack.runtime.ledger = {
      get: ledger.get.bind(ledger),
      put: ledger.put.bind(ledger),
      inFlight: ledger.inFlight.bind(ledger),
      addInFlight: ledger.addInFlight.bind(ledger),
      resetInFlight: ledger.resetInFlight.bind(ledger),
      acquire: async (accountId, holder, ttl) => {
        const got = await ledger.acquire(accountId, holder, ttl);
        if (got) events.push(`unit ${holder}`);
        return got;
      },
      release: async (accountId, holder) => {
        events.push(`release ${holder}`);
        await ledger.release(accountId, holder);
      },
    };
    const [a, b] = await Promise.all([
      stack.sweep({ accountId: 'vb' }, 'sweep-a'),
      stack.sweep({ accountId: 'vb' }, 'sweep-b'),
    ]);
    expect([a.status, b.status].sort()).toEqual(['busy', 'done']);
    const winner = a.status === 'done' ? 'sweep-a' : 'sweep-b';
    expect(events.every((event) => event.endsWith(winner))).toBe(true);
    // Three pages of two, and the empty page that ends a VoIPBin listing.
    expect(events.filter((event) => event.startsWith('unit'))).toHaveLength(4);

    events.length = 0;
    const [c, d] = await Promise.all([
      stack.sweep({ accountId: 'vb', waitIfBusy: true }, 'sweep-c'),
      stack.sweep({ accountId: 'vb', waitIfBusy: true }, 'sweep-d'),
    ]);
    expect([c.status, d.status]).toEqual(['done', 'done']);
    // Every unit of one sweep comes before the other sweep's first unit.
    const holders = events.filter((event) => event.startsWith('unit')).map((event) => event.split(' ')[1]);
    const firstHolder = holders[0];
    const switched = holders.findIndex((holder) => holder !== firstHolder);
    expect(switched).toBeGreaterThan(0);
    expect(holders.slice(switched).every((holder) => holder !== firstHolder)).toBe(true);
    expect(events.indexOf(`release ${firstHolder}`)).toBeLessThan(
      events.indexOf(`unit ${holders[switched]}`),
    );
  }, 180_000);

  it('StartExecution throttling is waited out: every recording is still handed over and archived', async () => {
    const { open } = await setUp(6);
    const stack = await open();
    later(() => stack.close());
    // More refusals in a row than the SDK's own three attempts absorb.
    stack.stepFunctions.throttleStarts(8);
    const [summary] = await harvest(stack);
    expect(summary).toMatchObject({ listed: 6, archived: 6, failed: 0 });
    expect(summary?.sweepError).toBeUndefined();
    expect(harvestSucceeded([summary as NonNullable<typeof summary>])).toBe(true);
    stack.stepFunctions.throttleStarts(0);
  }, 180_000);

  it("a provider's 429 that outlasts the transport's retries is retried by the workflow, not a failed pass", async () => {
    const { simulator, open } = await setUp(4);
    const stack = await open();
    later(() => stack.close());
    // The listing answers 429 five times: the first attempt and the transport's four retries.
    simulator.inject({ kind: 'rate-limit', on: 'list', times: 5, retryAfterSeconds: 0 });
    const [summary] = await harvest(stack);
    expect(summary).toMatchObject({ listed: 4, archived: 4, failed: 0 });
    expect(summary?.sweepError).toBeUndefined();
    expect(simulator.requests.filter((request) => request.status === 429)).toHaveLength(5);
  }, 180_000);
});

async function sfnOf(stack: OwnedLocalStack) {
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  return new SFNClient({
    region: 'us-east-1',
    endpoint: stack.endpoints.stepFunctions,
    credentials: stack.endpoints.credentials,
  });
}
