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
import { createAdapter } from '../../lambdas/providers/index.ts';
import { CANARY_TEXT, CanaryServer } from '../../local/simulators/canary.ts';
import { ONE_RETRY } from '../helpers/retry.ts';
import { accountOf, PROVIDERS, type Provider, simulatorOf, startAll } from '../helpers/simulators.ts';
import { collect, drain, rejection } from '../helpers/streams.ts';
import type { Stop } from '../helpers/teardown.ts';

// Long enough (2 s of 8 kHz mono) that half of it is well past any header.
const simulators = Object.fromEntries(
  PROVIDERS.map((name) => [name, simulatorOf(name, 1, { durationSec: 2 })]),
);
const canary = new CanaryServer();
let stopSimulators: Stop;

beforeAll(async () => {
  [, stopSimulators] = await Promise.all([canary.start(), startAll(simulators)]);
});
afterAll(async () => {
  await Promise.all([canary.stop(), stopSimulators()]);
});

function setup(name: Provider, patch: Partial<AccountConfig> = {}) {
  const sim = simulators[name] as (typeof simulators)[Provider];
  const adapter = createAdapter({ ...accountOf(name, sim), ...patch } as AccountConfig, { retry: ONE_RETRY });
  return { sim, adapter };
}

/** Lists the one recording and reads its audio to the end: the error that stopped it, if any. */
async function downloadError(adapter: ReturnType<typeof createAdapter>): Promise<unknown> {
  return rejection(
    (async () => {
      const [recording] = await collect(adapter.list({}));
      if (!recording) throw new Error('nothing listed');
      await drain(await adapter.download(recording));
    })(),
  );
}

describe.each(PROVIDERS)('%s downloads', (name) => {
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
