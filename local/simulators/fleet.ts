/**
 * All five provider simulators, seeded with sample recordings that exercise the quirks: some
 * still processing when the harvest starts, one deleted at the provider, a ZIP, a redirect, and
 * faults injected once each (429, 503, a truncated download). Used by the demo and benchmarks.
 */
import type { AccountConfig } from '../../lambdas/core/config.ts';
import { BandwidthSimulator, bandwidthSimulatorAccount } from './bandwidth.ts';
import type { ProviderSimulator } from './base.ts';
import { sampleRecordings } from './base.ts';
import { DialogtechSimulator, dialogtechRecordings, dialogtechSimulatorAccount } from './dialogtech.ts';
import { InfobipSimulator, infobipSampleRecordings, infobipSimulatorAccount } from './infobip.ts';
import { RestcommSimulator, restcommRecordings, restcommSimulatorAccount } from './restcomm.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from './voipbin.ts';

export interface Fleet {
  simulators: Record<AccountConfig['provider'], ProviderSimulator>;
  accounts: AccountConfig[];
  stop(): Promise<void>;
}

export interface FleetOptions {
  /** Recordings per provider. Default 6. */
  perProvider?: number;
  /** How long the "still processing" recordings stay pending. Default 3 s. */
  pendingMs?: number;
  /** Inject the demo's faults. Default true. */
  faults?: boolean;
}

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const count = options.perProvider ?? 6;
  const readyAt = Date.now() + (options.pendingMs ?? 3_000);
  const start = new Date(Date.UTC(2026, 10, 20, 14, 0, 0));
  const common = { start, spacingMs: 7 * 60_000 };

  const infobip = new InfobipSimulator({
    recordings: infobipSampleRecordings(count, { ...common, prefix: 'ib' }),
  });
  const dialogtech = new DialogtechSimulator({
    recordings: dialogtechRecordings(count, common).map((recording, index) =>
      index === 1 ? { ...recording, readyAt } : recording,
    ),
    timeZone: 'America/Chicago',
  });
  const voipbinRecordings = sampleRecordings(count, { ...common, prefix: 'vb' }).map((recording, index) => ({
    ...recording,
    id: `0c5f${index.toString(16).padStart(4, '0')}-2ac9-4702-84f0-ae81301ad349`,
    readyAt: index === 2 ? readyAt : undefined,
  }));
  const voipbin = new VoipbinSimulator({ recordings: voipbinRecordings });
  const restcomm = new RestcommSimulator({
    recordings: restcommRecordings(count, { ...common, prefix: 'rc' }),
  });
  const bandwidth = new BandwidthSimulator({
    recordings: sampleRecordings(count, {
      ...common,
      makeId: (index) => `r-${index.toString(16).padStart(8, '0')}-d189-4404-9aa4-6ac344d21621`,
    }).map((recording, index) => ({
      ...recording,
      callId: `c-2a913f94-${index.toString(16).padStart(8, '0')}`,
      readyAt: index === 3 ? readyAt : undefined,
      // Bandwidth keeps metadata of a recording whose media was deleted: it must end "skipped".
      extra: index === 4 ? { status: 'deleted' } : undefined,
    })),
  });

  const simulators = { infobip, dialogtech, voipbin, restcomm, bandwidth };
  await Promise.all(Object.values(simulators).map((simulator) => simulator.start()));

  const firstVoipbin = voipbinRecordings[0]?.id;
  const secondVoipbin = voipbinRecordings[1]?.id;
  if (firstVoipbin) voipbin.setDownloadMode(firstVoipbin, { zip: true });
  if (secondVoipbin) voipbin.setDownloadMode(secondVoipbin, { redirect: true });
  if (options.faults ?? true) {
    infobip.inject({ kind: 'rate-limit', on: 'list', retryAfterSeconds: 1 });
    restcomm.inject({ kind: 'server-error', on: 'list', status: 503 });
    voipbin.inject({ kind: 'truncate', on: 'audio', fraction: 0.4 });
    bandwidth.inject({ kind: 'reset', on: 'audio' });
  }

  return {
    simulators,
    accounts: [
      infobipSimulatorAccount(infobip, 'ib-demo'),
      dialogtechSimulatorAccount(dialogtech, 'dt-demo'),
      voipbinSimulatorAccount(voipbin, 'vb-demo'),
      restcommSimulatorAccount(restcomm, 'rc-demo'),
      bandwidthSimulatorAccount(bandwidth, 'bw-demo'),
    ],
    async stop() {
      await Promise.all(Object.values(simulators).map((simulator) => simulator.stop()));
    },
  };
}
