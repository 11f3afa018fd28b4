/** Webhook intake decisions with in-memory fakes; the HTTP path is covered by test/integration/serve. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StaticAccountDirectory } from '../../lambdas/aws/accounts.ts';
import type { AccountConfig, AccountOf } from '../../lambdas/core/config.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { executionName, recordingId } from '../../lambdas/core/ids.ts';
import { MAX_WEBHOOK_BYTES, receiveWebhook } from '../../lambdas/core/intake.ts';
import { createBandwidthAdapter } from '../../lambdas/providers/bandwidth.ts';
import { createVoipbinAdapter } from '../../lambdas/providers/voipbin.ts';
import { ACCOUNT, FakeIndex, FakeStarter } from './fakes.ts';

const SECRET = 'hook-secret';
const hooked = { ...ACCOUNT, webhook: { secret: SECRET, previousSecret: 'old-secret' } } as AccountConfig;
const basic = (password: string) => `Basic ${Buffer.from(`any:${password}`).toString('base64')}`;
const ref = { accountId: ACCOUNT.id, provider: 'voipbin' as const, providerRecordingId: 'rec-1' };

function setup(accounts: AccountConfig[] = [hooked]) {
  const index = new FakeIndex();
  const starter = new FakeStarter();
  const deps = {
    accounts: new StaticAccountDirectory(accounts),
    adapterFor: async () => createVoipbinAdapter(hooked as Parameters<typeof createVoipbinAdapter>[0]),
    index,
    starter,
  };
  const call = (
    body: string,
    headers: Record<string, string | undefined> = { authorization: basic(SECRET) },
  ) => receiveWebhook({ accountId: ACCOUNT.id, body, headers }, deps);
  return { index, starter, call, deps };
}

describe('receiveWebhook', () => {
  it('starts the execution a sweep would start, under the same name', async () => {
    const { call, starter } = setup();
    const answer = await call(JSON.stringify({ recordingId: 'rec-1' }));
    expect(answer).toMatchObject({ statusCode: 202, body: { started: 1, duplicates: 0 } });
    expect(starter.calls).toEqual([
      { name: executionName(ref), input: { ref: { ...ref, callId: undefined } } },
    ]);
  });

  it('parses the provider-native event through the adapter, signed or with the previous secret', async () => {
    const { call, starter } = setup();
    const body = JSON.stringify({ type: 'recording_finished', data: { id: 'rec-2', status: 'ended' } });
    const signature = createHmac('sha256', SECRET).update(body).digest('hex');
    expect((await call(body, { 'x-voipbin-signature': signature })).statusCode).toBe(202);
    expect((await call(body, { authorization: basic('old-secret') })).statusCode).toBe(202);
    expect(starter.calls.map((started) => started.name)).toEqual([
      executionName({ ...ref, providerRecordingId: 'rec-2' }),
      executionName({ ...ref, providerRecordingId: 'rec-2' }),
    ]);
  });

  it('answers 401 and starts nothing without the secret, or for an account that takes no webhooks', async () => {
    const { call, starter } = setup();
    expect((await call('{"recordingId":"rec-1"}', {})).statusCode).toBe(401);
    expect((await call('{"recordingId":"rec-1"}', { authorization: basic('nope') })).statusCode).toBe(401);
    expect(
      (await call('{"recordingId":"rec-1"}', { 'x-voipbin-signature': 'ab'.repeat(32) })).statusCode,
    ).toBe(401);
    const plain = setup([ACCOUNT]);
    const refused = await plain.call('{"recordingId":"rec-1"}');
    expect(refused).toEqual({ statusCode: 401, body: { message: 'missing or wrong webhook credentials' } });
    expect(starter.calls).toEqual([]);
    expect(plain.starter.calls).toEqual([]);
  });

  it('answers an unknown account exactly as a wrong secret, so account ids cannot be enumerated', async () => {
    const { deps, call } = setup();
    const body = '{"recordingId":"rec-1"}';
    const unknown = await receiveWebhook(
      { accountId: 'nobody', body, headers: { authorization: basic(SECRET) } },
      deps,
    );
    const wrong = await call(body, { authorization: basic('wrong') });
    expect(unknown).toEqual(wrong);
    expect(unknown.statusCode).toBe(401);
  });

  it('throws (a 500, so the provider sends it again) for an account whose secret is broken, naming its fields', async () => {
    const { deps } = setup();
    const broken = {
      ...deps,
      accounts: {
        list: async () => [hooked],
        get: async () => {
          throw new ConfigError('secret for account "vb" is missing or has invalid fields: webhook.secret');
        },
      },
    };
    const answer = receiveWebhook(
      { accountId: ACCOUNT.id, body: '{"recordingId":"rec-1"}', headers: { authorization: basic(SECRET) } },
      broken,
    );
    await expect(answer).rejects.toThrow(/invalid fields: webhook\.secret/);
  });

  it('refuses a minimal body the provider cannot address: Bandwidth without the call id', async () => {
    const account = {
      id: 'bw',
      provider: 'bandwidth',
      baseUrl: 'https://voice.bandwidth.com',
      auth: { accountId: '9900', username: 'u', password: 'p' },
      webhook: { secret: SECRET },
    } as AccountConfig;
    const starter = new FakeStarter();
    const deps = {
      accounts: new StaticAccountDirectory([account]),
      adapterFor: async () => createBandwidthAdapter(account as AccountOf<'bandwidth'>),
      index: new FakeIndex(),
      starter,
    };
    const call = (body: string) =>
      receiveWebhook({ accountId: 'bw', body, headers: { authorization: basic(SECRET) } }, deps);
    expect(await call('{"recordingId":"r-1"}')).toMatchObject({
      statusCode: 400,
      body: { message: expect.stringContaining('"callId" is required') },
    });
    expect(starter.calls).toEqual([]);
    expect(await call('{"recordingId":"r-1","callId":"c-1"}')).toMatchObject({ statusCode: 202 });
    expect(await call('{"recordingId":"conf-1/r-1"}')).toMatchObject({ statusCode: 202 });
    expect(starter.calls).toHaveLength(2);
  });

  it('computes the signature over the raw body bytes, not their UTF-8 decoding', async () => {
    const { deps, starter } = setup();
    // Latin-1 bytes: not UTF-8, so decoding them would replace the "é" and change the HMAC.
    const bytes = Buffer.concat([
      Buffer.from('{"type":"recording_finished","data":{"id":"rec-4","name":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}}'),
    ]);
    const signature = createHmac('sha256', SECRET).update(bytes).digest('hex');
    const signed = {
      accountId: ACCOUNT.id,
      body: bytes.toString('utf8'),
      headers: { 'x-voipbin-signature': signature },
    };
    expect((await receiveWebhook({ ...signed, bytes }, deps)).statusCode).toBe(202);
    expect((await receiveWebhook(signed, deps)).statusCode).toBe(401);
    expect(starter.calls).toHaveLength(1);
  });

  it('answers 413 for an oversized body, 400 for a bad one', async () => {
    const { call } = setup();
    expect((await call('x'.repeat(MAX_WEBHOOK_BYTES + 1))).statusCode).toBe(413);
    const bad = await call(JSON.stringify({ recordingId: 42 }));
    expect(bad).toMatchObject({ statusCode: 400, body: { message: expect.stringContaining('recordingId') } });
  });

  it('treats an archived recording as a duplicate, and retries one that was skipped as gone', async () => {
    const { call, index, starter } = setup();
    await index.put({ id: recordingId(ref), ...ref, status: 'archived', updatedAt: 'x' });
    expect((await call(JSON.stringify({ recordingId: 'rec-1' }))).body).toMatchObject({
      started: 0,
      duplicates: 1,
    });
    const skipped = { ...ref, providerRecordingId: 'rec-3' };
    await index.put({ id: recordingId(skipped), ...skipped, status: 'skipped', updatedAt: 'x' });
    expect((await call(JSON.stringify({ recordingId: 'rec-3' }))).body).toMatchObject({ started: 1 });
    expect(starter.calls.map((started) => started.name)).toEqual([executionName(skipped, 1)]);
  });
});
