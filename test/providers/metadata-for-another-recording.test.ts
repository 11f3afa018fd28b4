/**
 * Issue 8 item 11: a single-recording answer that names another recording (a gateway mixing up
 * responses) is refused by every adapter that has such a resource, before its readiness or
 * times can be recorded under the wrong id.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderResponseError } from '../../lambdas/core/errors.ts';
import type { RecordingRef } from '../../lambdas/core/recording.ts';
import { createBandwidthAdapter } from '../../lambdas/providers/bandwidth.ts';
import { createRestcommAdapter } from '../../lambdas/providers/restcomm.ts';
import { createVoipbinAdapter } from '../../lambdas/providers/voipbin.ts';
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../../local/simulators/bandwidth.ts';
import { type ProviderSimulator, sampleRecordings } from '../../local/simulators/base.ts';
import {
  RestcommSimulator,
  restcommRecordings,
  restcommSimulatorAccount,
} from '../../local/simulators/restcomm.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { FAST } from '../helpers/retry.ts';

const running: ProviderSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.stop()));
});

async function started<T extends ProviderSimulator>(sim: T): Promise<T> {
  await sim.start();
  running.push(sim);
  return sim;
}

describe('metadata for another recording', () => {
  it('VoIPBin: get() refuses it, and so does download() (which asks get() first)', async () => {
    const recordings = sampleRecordings(2, {
      makeId: (index) => `0c5f000${index}-2ac9-4702-84f0-ae81301ad349`,
    });
    const [asked, other] = recordings.map((r) => r.id) as [string, string];
    const sim = await started(new VoipbinSimulator({ recordings }));
    const adapter = createVoipbinAdapter(voipbinSimulatorAccount(sim, 'vb-main'), FAST);
    const ref: RecordingRef = { accountId: 'vb-main', provider: 'voipbin', providerRecordingId: asked };
    expect((await adapter.get(ref)).providerRecordingId).toBe(asked);

    sim.answerMetadataAs(asked, other);
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
    const sim = await started(new RestcommSimulator({ recordings }));
    const adapter = createRestcommAdapter(restcommSimulatorAccount(sim, 'rc-main'), FAST);
    const ref: RecordingRef = { accountId: 'rc-main', provider: 'restcomm', providerRecordingId: asked };
    expect((await adapter.get(ref)).providerRecordingId).toBe(asked);

    sim.answerMetadataAs(asked, other);
    await expect(adapter.get(ref)).rejects.toThrow(
      new RegExp(
        `restcomm account "rc-main" answered .* the metadata of recording "${other}" instead of ${asked}`,
      ),
    );
  });

  it('Bandwidth: get() refuses it (as it always did)', async () => {
    const recordings = sampleRecordings(2);
    const sim = await started(new BandwidthSimulator({ recordings }));
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
