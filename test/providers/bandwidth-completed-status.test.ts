/**
 * Issue 8 item 7: Bandwidth's OpenAPI example says `"completed"` where its description lists
 * `complete`, and `mediaUrl` is documented as present only once the recording "may be
 * downloaded". Either must be archived, not left pending until the readiness deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderAdapter } from '../../lambdas/core/ports.ts';
import type { RecordingRef } from '../../lambdas/core/recording.ts';
import { createBandwidthAdapter } from '../../lambdas/providers/bandwidth.ts';
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../../local/simulators/bandwidth.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';

describe('Bandwidth readiness from the documented status words and mediaUrl', () => {
  let sim: BandwidthSimulator;
  let adapter: ProviderAdapter;
  const ref = (id: string): RecordingRef => ({
    accountId: 'bandwidth-sim',
    provider: 'bandwidth',
    providerRecordingId: id,
    callId: sim.recordings.get(id)?.callId,
  });

  beforeAll(async () => {
    const [completed, unknownWithMedia, unknownWithout, deletedWithMedia] = sampleRecordings(4);
    if (!completed || !unknownWithMedia || !unknownWithout || !deletedWithMedia) throw new Error('fixture');
    completed.extra = { status: 'completed' };
    unknownWithMedia.extra = { status: 'finalized', mediaUrl: 'present' };
    unknownWithout.extra = { status: 'finalized' };
    deletedWithMedia.extra = { status: 'deleted', mediaUrl: 'present' };
    sim = new BandwidthSimulator({
      recordings: [completed, unknownWithMedia, unknownWithout, deletedWithMedia],
    });
    await sim.start();
    adapter = createBandwidthAdapter(bandwidthSimulatorAccount(sim), {
      retry: { minDelayMs: 5, maxDelayMs: 20 },
    });
  });
  afterAll(() => sim.stop());

  it('treats "completed" as "complete": listed ready, and the media downloads byte-exact', async () => {
    const recording = await adapter.get(ref('rec-00000'));
    expect(recording).toMatchObject({ readiness: 'ready', providerStatus: 'completed' });
    const download = await adapter.download(ref('rec-00000'));
    for await (const _chunk of download.body) {
      // counted and hashed on the way
    }
    expect(download.body.sha256).toBe(sim.audio('rec-00000').sha256());
  });

  it('treats a present mediaUrl as ready whatever the status word, but not over a terminal one', async () => {
    const listed = new Map<string, string>();
    for await (const recording of adapter.list({}))
      listed.set(recording.providerRecordingId, recording.readiness);
    expect(Object.fromEntries(listed)).toEqual({
      'rec-00000': 'ready',
      'rec-00001': 'ready',
      'rec-00002': 'pending',
      'rec-00003': 'gone',
    });
    const download = await adapter.download(ref('rec-00001'));
    for await (const _chunk of download.body) {
      // counted and hashed on the way
    }
    expect(download.body.bytes).toBe(sim.audio('rec-00001').size);
  });
});
