import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/core/config.ts';
import { ConfigError, ProviderAuthError, ProviderUnavailableError } from '../../lambdas/core/errors.ts';
import type { Logger } from '../../lambdas/core/log.ts';
import type { RecordingRef } from '../../lambdas/core/recording.ts';
import { createVoipbinAdapter } from '../../lambdas/providers/voipbin.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { listen, shut } from '../helpers/http-server.ts';
import { FAST } from '../helpers/retry.ts';

const uuid = (index: number) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
const ref = (id: string): RecordingRef => ({
  accountId: 'vb-key',
  provider: 'voipbin',
  providerRecordingId: id,
});

describe('voipbin access key against the simulator', () => {
  const sim = new VoipbinSimulator({ recordings: sampleRecordings(3, { makeId: uuid }) });
  beforeAll(() => sim.start());
  afterAll(() => sim.stop());

  it('lists, checks, downloads (through the storage redirect) and deletes with ?accesskey=', async () => {
    const adapter = createVoipbinAdapter(voipbinSimulatorAccount(sim, 'vb-key', 'accesskey'), FAST);
    const listed = [];
    for await (const recording of adapter.list({})) listed.push(recording.providerRecordingId);
    expect(listed.sort()).toEqual([uuid(0), uuid(1), uuid(2)]);
    expect((await adapter.get(ref(uuid(1)))).readiness).toBe('ready');
    sim.setDownloadMode(uuid(1), { redirect: true });
    const download = await adapter.download(ref(uuid(1)));
    const chunks: Buffer[] = [];
    for await (const chunk of download.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(sim.audio(uuid(1)).slice(0, sim.audio(uuid(1)).size))).toBe(true);
    await adapter.delete(ref(uuid(2)));
    expect((await adapter.get(ref(uuid(2)))).readiness).toBe('gone');
  });

  it('refuses a wrong access key as an auth error that does not contain the key', async () => {
    const secret = 'vb_wrongKey9f3a7c1e';
    const adapter = createVoipbinAdapter(
      { ...voipbinSimulatorAccount(sim, 'vb-key'), auth: { accesskey: secret } },
      FAST,
    );
    const error = await adapter.get(ref(uuid(0))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect((error as Error).message).toContain('accesskey=***');
    expect((error as Error).message).not.toContain(secret);
  });
});

describe('voipbin access key on the wire', () => {
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let answer = { status: 200, body: '{"result":[],"next_page_token":""}' };
  let server: Server;
  let baseUrl = '';
  // `+` and `/` are what URLSearchParams encodes: the redaction must catch the encoded form.
  const accesskey = 'vb_a3Bf+9xKm/Pq2nR7sT4w';

  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push({ url: request.url ?? '', headers: request.headers });
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body);
    });
    baseUrl = await listen(server);
  });
  afterAll(() => shut(server));

  it('sends the key in the query of every request, no Authorization header, and never logs it', async () => {
    const logged: string[] = [];
    const logger: Logger = {
      info: (message, fields) => logged.push(message + JSON.stringify(fields ?? {})),
      warn: (message, fields) => logged.push(message + JSON.stringify(fields ?? {})),
      error: (message, fields) => logged.push(message + JSON.stringify(fields ?? {})),
    };
    const adapter = createVoipbinAdapter(
      {
        id: 'vb-wire',
        provider: 'voipbin',
        baseUrl,
        timeZone: 'UTC',
        schedule: 'rate(15 minutes)',
        auth: { accesskey },
      },
      { ...FAST, logger },
    );
    for await (const _ of adapter.list({})) {
      // empty
    }
    const listRequest = seen.at(-1);
    expect(new URL(listRequest?.url ?? '', baseUrl).searchParams.get('accesskey')).toBe(accesskey);
    expect(listRequest?.headers.authorization).toBeUndefined();

    answer = { status: 503, body: `{"message":"down"}` };
    const error = await adapter.get(ref('r-1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    const getRequest = seen.at(-1);
    expect(new URL(getRequest?.url ?? '', baseUrl).searchParams.get('accesskey')).toBe(accesskey);
    const everything = [...logged, (error as Error).message].join('\n');
    expect(logged.length).toBeGreaterThan(0);
    expect(everything).toContain('accesskey=***');
    for (const form of [
      accesskey,
      encodeURIComponent(accesskey),
      new URLSearchParams({ k: accesskey }).toString().slice(2),
    ])
      expect(everything).not.toContain(form);
  });
});

describe('voipbin auth in the configuration', () => {
  const account = { id: 'vb', provider: 'voipbin', baseUrl: 'https://api.voipbin.net/v1.0' };

  it('takes an access key or a token', () => {
    const config = parseConfig({
      accounts: [
        { ...account, id: 'vb-key', auth: { accesskey: 'vb_key' } },
        { ...account, id: 'vb-token', auth: { token: 'jwt' } },
      ],
    });
    expect(config.accounts.map((entry) => entry.auth)).toEqual([{ accesskey: 'vb_key' }, { token: 'jwt' }]);
  });

  it('refuses an auth block with neither or both, naming the field', () => {
    expect(() =>
      parseConfig({ accounts: [{ ...account, auth: { accesskey: 'vb_key', token: 'jwt' } }] }),
    ).toThrow(/accounts\[0\]\.auth\.token cannot be set beside "accesskey"/);
    expect(() => parseConfig({ accounts: [{ ...account, auth: { accesskey: '' } }] })).toThrow(ConfigError);
    expect(() => parseConfig({ accounts: [{ ...account, auth: {} }] })).toThrow(/accounts\[0\]\.auth/);
  });
});
