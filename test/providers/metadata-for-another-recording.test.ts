/**
 * Issue 8 item 11: a single-recording answer that names another recording (a gateway mixing up
 * responses) is refused by every adapter that has such a resource, before its readiness or
 * times can be recorded under the wrong id.
 */
import { describe, expect, it } from 'vitest';
import type { AccountConfig } from '../../lambdas/core/config.ts';
import { ProviderResponseError } from '../../lambdas/core/errors.ts';
import type { RecordingRef } from '../../lambdas/core/recording.ts';
import { createBandwidthAdapter } from '../../lambdas/providers/bandwidth.ts';
import { createAdapter } from '../../lambdas/providers/index.ts';
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../../local/simulators/bandwidth.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import {
  RestcommSimulator,
  restcommRecordings,
  restcommSimulatorAccount,
} from '../../local/simulators/restcomm.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { FAST } from '../helpers/retry.ts';
import { started, teardown } from '../helpers/teardown.ts';

const later = teardown();

/**
 * Starts the simulator and an adapter on it; checks that `asked`'s metadata is its own, then has
 * the simulator answer `other`'s instead.
 */
async function mixedUp<S extends VoipbinSimulator | RestcommSimulator>(
  sim: S,
  account: (sim: S) => AccountConfig,
  [asked, other]: [string, string],
) {
  await started(sim, later);
  const settings = account(sim);
  const adapter = createAdapter(settings, FAST);
  const ref: RecordingRef = {
    accountId: settings.id,
    provider: settings.provider,
    providerRecordingId: asked,
  };
  expect((await adapter.get(ref)).providerRecordingId).toBe(asked);
  sim.answerMetadataAs(asked, other);
  return { sim, adapter, ref };
}

describe('metadata for another recording', () => {
  it('VoIPBin: get() refuses it, and so does download() (which asks get() first)', async () => {
    const recordings = sampleRecordings(2, {
      makeId: (index) => `0c5f000${index}-2ac9-4702-84f0-ae81301ad349`,
    });
    const [asked, other] = recordings.map((r) => r.id) as [string, string];
    const { sim, adapter, ref } = await mixedUp(
      new VoipbinSimulator({ recordings }),
      (running) => voipbinSimulatorAccount(running, 'vb-main'),
      [asked, other],
    );
    const error = await adapter.get(ref).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect((error as Error).message).toContain('voipbin account "vb-main"');
    expect((error as Error).message).toContain(`the metadata of recording "${other}" instead of ${asked}`);
    await expect(adapter.download(ref)).rejects.toBeInstanceOf(ProviderResponseError);
    expect(sim.count('audio')).toBe(0);
  });

  it('Restcomm: get() refuses it, as JSON', async () => {
    const recordings = restcommRecordings(2);
    const [asked, other] = recordings.map((r) => r.id) as [string, string];
    const { adapter, ref } = await mixedUp(
      new RestcommSimulator({ recordings }),
      (running) => restcommSimulatorAccount(running, 'rc-main'),
      [asked, other],
    );
    await expect(adapter.get(ref)).rejects.toThrow(
      new RegExp(
        `restcomm account "rc-main" answered .* the metadata of recording "${other}" instead of ${asked}`,
      ),
    );
  });

  it('Bandwidth: get() refuses it (as it always did)', async () => {
    const recordings = sampleRecordings(2);
    const sim = await started(new BandwidthSimulator({ recordings }), later);
    const adapter = createBandwidthAdapter(bandwidthSimulatorAccount(sim), FAST);
    const ref: RecordingRef = {
      accountId: 'bandwidth-sim',
      provider: 'bandwidth',
      providerRecordingId: 'rec-00000',
      callId: 'call-rec-0',
    };
    sim.answerMetadataAs('rec-00000', 'rec-00001');
    await expect(adapter.get(ref)).rejects.toThrow(/metadata for another recording/);
  });
});
