/**
 * Each provider's simulator with its sample recordings and the account that points at it, for
 * tests that run several providers (or any one of them) the same way.
 */
import type { AccountConfig, AccountOf } from '../../lambdas/core/config.ts';
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../../local/simulators/bandwidth.ts';
import { type ProviderSimulator, type SimRecording, sampleRecordings } from '../../local/simulators/base.ts';
import {
  DialogtechSimulator,
  dialogtechRecordings,
  dialogtechSimulatorAccount,
} from '../../local/simulators/dialogtech.ts';
import {
  InfobipSimulator,
  infobipSampleRecordings,
  infobipSimulatorAccount,
} from '../../local/simulators/infobip.ts';
import {
  RestcommSimulator,
  restcommRecordings,
  restcommSimulatorAccount,
} from '../../local/simulators/restcomm.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import type { Stop } from './teardown.ts';

export type Provider = AccountConfig['provider'];

export interface Simulators {
  infobip: InfobipSimulator;
  dialogtech: DialogtechSimulator;
  voipbin: VoipbinSimulator;
  restcomm: RestcommSimulator;
  bandwidth: BandwidthSimulator;
}

export type SampleOptions = Omit<NonNullable<Parameters<typeof sampleRecordings>[1]>, 'makeId'> & {
  /** Not ready (processing at the provider) until this many milliseconds from now. */
  pendingMs?: number;
};

/** A provider's simulator class, its sample recordings and the account that points at one. */
type Kind<P extends Provider> = readonly [
  Simulator: new (options: { recordings: SimRecording[] }) => Simulators[P],
  samples: (count: number, options: SampleOptions) => SimRecording[],
  account: (simulator: Simulators[P], id?: string) => AccountOf<P>,
];

const KINDS: { [P in Provider]: Kind<P> } = {
  infobip: [InfobipSimulator, infobipSampleRecordings, infobipSimulatorAccount],
  dialogtech: [DialogtechSimulator, dialogtechRecordings, dialogtechSimulatorAccount],
  voipbin: [VoipbinSimulator, sampleRecordings, voipbinSimulatorAccount],
  restcomm: [RestcommSimulator, restcommRecordings, restcommSimulatorAccount],
  bandwidth: [BandwidthSimulator, sampleRecordings, bandwidthSimulatorAccount],
};

export const PROVIDERS = Object.keys(KINDS) as Provider[];

/** The provider's sample recordings (its own id format), optionally still processing. */
function samplesOf(provider: Provider, count: number, options: SampleOptions = {}): SimRecording[] {
  const { pendingMs, ...sampleOptions } = options;
  const [, samples] = KINDS[provider];
  const recordings = samples(count, sampleOptions);
  if (pendingMs === undefined) return recordings;
  const readyAt = Date.now() + pendingMs;
  return recordings.map((recording) => ({ ...recording, readyAt }));
}

/** A simulator (not started) holding `count` sample recordings. */
export function simulatorOf<P extends Provider>(
  provider: P,
  count: number,
  options: SampleOptions = {},
): Simulators[P] {
  const [Simulator] = KINDS[provider];
  return new Simulator({ recordings: samplesOf(provider, count, options) });
}

export function accountOf<P extends Provider>(
  provider: P,
  simulator: Simulators[P],
  id?: string,
): AccountOf<P> {
  const [, , account] = KINDS[provider];
  return account(simulator, id);
}

/** Starts every simulator of the record at once; the returned function stops them all. */
export async function startAll(simulators: Record<string, ProviderSimulator>): Promise<Stop> {
  const all = Object.values(simulators);
  await Promise.all(all.map((simulator) => simulator.start()));
  return async () => {
    await Promise.all(all.map((simulator) => simulator.stop()));
  };
}
