/**
 * A readiness check costs O(1) provider requests: the sweep hands each recording's listed
 * metadata to its execution, so neither DialogTech (no per-recording metadata endpoint) nor
 * Infobip (no per-file endpoint at all) is listed again per recording. Counted at the simulators,
 * over real HTTP, through the synthesized workflow on the local stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harvest } from '../../local/harvest.ts';
import {
  type DialogtechList,
  DialogtechSimulator,
  dialogtechRecordings,
} from '../../local/simulators/dialogtech.ts';
import { accountOf, simulatorOf, startAll } from '../helpers/simulators.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import type { Stop } from '../helpers/teardown.ts';

const N = 12;
const LISTS: DialogtechList[] = [
  { type: 'recorded_calls', id: '101' },
  { type: 'queue', id: '202' },
  { type: 'findme', id: '303' },
];

describe('readiness checks cost O(1) provider requests per recording', () => {
  const dialogtech = new DialogtechSimulator({ recordings: dialogtechRecordings(N, { lists: LISTS }) });
  const infobip = simulatorOf('infobip', N);
  let stopSimulators: Stop;
  let stack: TestStack;
  let summaries: Awaited<ReturnType<typeof harvest>>;

  beforeAll(async () => {
    stopSimulators = await startAll({ dialogtech, infobip });
    stack = await startTestStack([
      accountOf('dialogtech', dialogtech, 'dt-cost'),
      accountOf('infobip', infobip, 'ib-cost'),
    ]);
    summaries = await harvest(stack);
  }, 60_000);

  afterAll(async () => {
    await stack?.dispose();
    await stopSimulators?.();
  });

  it('archives every recording of both accounts', () => {
    for (const summary of summaries) expect(summary).toMatchObject({ listed: N, archived: N, failed: 0 });
  });

  it('DialogTech: one listing per (type, id) for the whole sweep, then a probe and a download each', () => {
    // Before: every check re-listed each list to find its recording, N × lists listings.
    expect(dialogtech.count('list')).toBe(LISTS.length);
    expect(dialogtech.count('audio')).toBe(2 * N);
  });

  it('Infobip: the listing pages once, no lookup per file, one download each', async () => {
    // 12 files fit one page of 100; the empty page 2 ends the listing.
    expect(infobip.count('list')).toBe(2);
    expect(infobip.count('status')).toBe(0);
    expect(infobip.count('audio')).toBe(N);
    const entry = await stack.runtime.index.get(
      (await stack.runtime.index.query({ accountId: 'ib-cost', limit: 1 })).items[0]?.id ?? '',
    );
    // The index still gets the listing's metadata and its raw entry.
    expect(entry?.from).toMatch(/^1555/);
    expect(JSON.parse(entry?.raw ?? '{}')).toHaveProperty('scenarioId');
  });
});
