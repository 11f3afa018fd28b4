/**
 * Issue 8 item 6: `recordingId` (Bandwidth) and `id` (VoIPBin) are optional in the providers'
 * OpenAPI schemas. One item without it must not fail the whole listing (and so every later
 * sweep at the same place): it is skipped with a warning naming the account and the page.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../../lambdas/core/log.ts';
import type { Recording } from '../../lambdas/core/recording.ts';
import type { ProviderAdapter } from '../../lambdas/providers/adapter.ts';
import { createBandwidthAdapter } from '../../lambdas/providers/bandwidth.ts';
import { createVoipbinAdapter } from '../../lambdas/providers/voipbin.ts';
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../../local/simulators/bandwidth.ts';
import { type ProviderSimulator, sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { FAST } from '../helpers/retry.ts';

const START = new Date('2026-11-01T09:00:00.000Z');

function recordingLogger(): { logger: Logger; warnings: Array<{ message: string; fields?: LogFields }> } {
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  return {
    warnings,
    logger: { info() {}, warn: (message, fields) => warnings.push({ message, fields }), error() {} },
  };
}

async function ids(adapter: ProviderAdapter): Promise<string[]> {
  const out: Recording[] = [];
  for await (const recording of adapter.list({})) out.push(recording);
  return out.map((recording) => recording.providerRecordingId).sort();
}

const running: ProviderSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.stop()));
});

describe('a listing item without its id', () => {
  it('Bandwidth: is skipped and reported with account and page; the other recordings are listed', async () => {
    const recordings = sampleRecordings(4, { start: START });
    const sim = new BandwidthSimulator({ recordings });
    await sim.start();
    running.push(sim);
    sim.listWithoutId('rec-00001');
    const { logger, warnings } = recordingLogger();
    const adapter = createBandwidthAdapter(bandwidthSimulatorAccount(sim, 'bw-main'), { ...FAST, logger });

    expect(await ids(adapter)).toEqual(['rec-00000', 'rec-00002', 'rec-00003']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('without a recordingId');
    expect(warnings[0]?.fields).toMatchObject({
      account: 'bw-main',
      provider: 'bandwidth',
      item: 1,
      callId: 'call-rec-1',
      page: expect.stringContaining('/api/v2/accounts/***/recordings'),
    });
    // The next sweep fails no more than this one did.
    expect(await ids(adapter)).toHaveLength(3);
  });

  it('VoIPBin: is skipped and reported with account and page; paging goes on past it', async () => {
    const recordings = sampleRecordings(5, {
      start: START,
      makeId: (index) => `0c5f000${index}-2ac9-4702-84f0-ae81301ad349`,
    });
    const sim = new VoipbinSimulator({ recordings });
    await sim.start();
    running.push(sim);
    const idless = recordings[3]?.id as string;
    sim.listWithoutId(idless);
    const { logger, warnings } = recordingLogger();
    // Two items a page: the item without an id is on the first page, three more pages follow.
    const adapter = createVoipbinAdapter(voipbinSimulatorAccount(sim, 'vb-main'), {
      ...FAST,
      logger,
      pageSize: 2,
    });

    const listed = await ids(adapter);
    expect(listed).toEqual(
      recordings
        .map((r) => r.id)
        .filter((id) => id !== idless)
        .sort(),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('without an id');
    expect(warnings[0]?.fields).toMatchObject({
      account: 'vb-main',
      provider: 'voipbin',
      item: 1,
      referenceId: 'call-rec-3',
      page: expect.stringContaining('/v1.0/recordings?page_size=2'),
    });
  });
});
