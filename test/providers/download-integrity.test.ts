/**
 * Issue 8 items 9 and 13 through every adapter, against its simulator over HTTP: a WAV body
 * that ends cleanly but short (chunked or close-delimited), a body that never ends, and a
 * download redirected to a foreign loopback canary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountConfig } from '../../lambdas/core/config.ts';
import {
  DownloadTooLargeError,
  ForbiddenAddressError,
  IncompleteDownloadError,
} from '../../lambdas/core/errors.ts';
import type { Recording } from '../../lambdas/core/recording.ts';
import { createAdapter } from '../../lambdas/providers/index.ts';
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../../local/simulators/bandwidth.ts';
import { type ProviderSimulator, sampleRecordings } from '../../local/simulators/base.ts';
import { CANARY_TEXT, CanaryServer } from '../../local/simulators/canary.ts';
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

interface Case {
  sim: ProviderSimulator;
  account: (sim: never) => AccountConfig;
}

// Long enough (2 s of 8 kHz mono) that half of it is well past any header.
const durationSec = 2;
const cases: Record<string, Case> = {
  infobip: {
    sim: new InfobipSimulator({ recordings: infobipSampleRecordings(1, { durationSec }) }),
    account: infobipSimulatorAccount,
  },
  dialogtech: {
    sim: new DialogtechSimulator({ recordings: dialogtechRecordings(1, { durationSec }) }),
    account: dialogtechSimulatorAccount,
  },
  voipbin: {
    sim: new VoipbinSimulator({ recordings: sampleRecordings(1, { durationSec }) }),
    account: voipbinSimulatorAccount,
  },
  restcomm: {
    sim: new RestcommSimulator({ recordings: restcommRecordings(1, { durationSec }) }),
    account: restcommSimulatorAccount,
  },
  bandwidth: {
    sim: new BandwidthSimulator({ recordings: sampleRecordings(1, { durationSec }) }),
    account: bandwidthSimulatorAccount,
  },
};
const canary = new CanaryServer();

beforeAll(async () => {
  await Promise.all([canary.start(), ...Object.values(cases).map(({ sim }) => sim.start())]);
});
afterAll(async () => {
  await Promise.all([canary.stop(), ...Object.values(cases).map(({ sim }) => sim.stop())]);
});

function setup(name: string, patch: Partial<AccountConfig> = {}) {
  const { sim, account } = cases[name] as Case;
  const adapter = createAdapter({ ...account(sim as never), ...patch } as AccountConfig, {
    retry: { retries: 1, minDelayMs: 5, maxDelayMs: 10 },
  });
  return { sim, adapter };
}

async function firstRecording(adapter: ReturnType<typeof createAdapter>): Promise<Recording> {
  for await (const recording of adapter.list({})) return recording;
  throw new Error('nothing listed');
}

async function downloadError(adapter: ReturnType<typeof createAdapter>): Promise<unknown> {
  try {
    const download = await adapter.download(await firstRecording(adapter));
    for await (const _chunk of download.body) {
      // counted, hashed, checked
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

describe.each(Object.keys(cases))('%s downloads', (name) => {
  it.each(['short-chunked', 'short-close'] as const)(
    'a WAV that ends cleanly at half its RIFF length (%s) is IncompleteDownloadError',
    async (kind) => {
      const { sim, adapter } = setup(name);
      sim.inject({ kind, on: 'audio', fraction: 0.5 });
      const error = await downloadError(adapter);
      expect(error).toBeInstanceOf(IncompleteDownloadError);
      expect((error as Error).message).toMatch(/but its RIFF size declares \d+/);
      // Whole the next time.
      expect(await downloadError(adapter)).toBeUndefined();
    },
  );

  it('a body that never ends stops at maxDownloadBytes with DownloadTooLargeError', async () => {
    const { sim, adapter } = setup(name, { maxDownloadBytes: 100_000 });
    sim.inject({ kind: 'endless', on: 'audio' });
    const error = await downloadError(adapter);
    expect(error).toBeInstanceOf(DownloadTooLargeError);
  });

  it('a redirect to a foreign loopback canary is refused, and the canary never asked', async () => {
    const { sim, adapter } = setup(name);
    sim.inject({ kind: 'redirect', on: 'audio', location: `${canary.url}/latest/meta-data/` });
    const before = canary.hits.length;
    const error = await downloadError(adapter);
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(canary.hits.length).toBe(before);
    expect((error as Error).message).not.toContain(CANARY_TEXT);
  });

  it('an allowed download host is fetched, but its body is never quoted', async () => {
    const { sim, adapter } = setup(name, { allowedDownloadHosts: [new URL(canary.url).host] });
    sim.inject({ kind: 'redirect', on: 'audio', location: `${canary.url}/bucket/file.wav` });
    const before = canary.hits.length;
    const error = await downloadError(adapter);
    expect(canary.hits.length).toBe(before + 1);
    expect(error).toBeInstanceOf(IncompleteDownloadError);
    expect((error as Error).message).toContain('not shown');
    expect((error as Error).message).not.toContain(CANARY_TEXT);
  });
});
