/**
 * `callvault serve` over real HTTP: provider callbacks in their native formats archived within
 * seconds, authentication, bad bodies, foreign hosts, the search API across pages, and a restart
 * that resumes what a stop left running.
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountConfig } from '../../lambdas/core/config.ts';
import { recordingId } from '../../lambdas/core/ids.ts';
import { silentLogger } from '../../lambdas/core/log.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { harvest } from '../../local/harvest.ts';
import { type RunningServe, serve } from '../../local/serve.ts';
import { openLocalArchive, openLocalStack, startLocalStack } from '../../local/stack.ts';
import { runCli } from '../helpers/cli.ts';
import { listen, shut } from '../helpers/http-server.ts';
import { accountOf, simulatorOf, startAll } from '../helpers/simulators.ts';
import { FAST_PROVIDERS, OFFLINE_ACCOUNT, testConfig } from '../helpers/stack.ts';
import type { Stop } from '../helpers/teardown.ts';

const secretOf = (accountId: string) => `hook-secret-${accountId}`;
const basic = (password: string) => `Basic ${Buffer.from(`provider:${password}`).toString('base64')}`;

function withWebhook<T extends AccountConfig>(account: T, previousSecret?: string): T {
  return { ...account, webhook: { secret: secretOf(account.id), previousSecret } };
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(100);
  }
}

describe('callvault serve', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callvault-serve-'));
  const simulators = {
    infobip: simulatorOf('infobip', 2, { prefix: 'ib' }),
    dialogtech: simulatorOf('dialogtech', 2),
    voipbin: simulatorOf('voipbin', 8, { prefix: 'vb' }),
    restcomm: simulatorOf('restcomm', 2, { prefix: 'rc' }),
    bandwidth: simulatorOf('bandwidth', 2, { prefix: 'bw' }),
  };
  let stopSimulators: Stop;
  const foreignRequests: string[] = [];
  const foreign: Server = createServer((request, response) => {
    foreignRequests.push(request.url ?? '');
    response.end('not audio');
  });
  let accounts: AccountConfig[];
  let running: RunningServe;

  const post = (accountId: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${running.url}/webhooks/${accountId}`, {
      method: 'POST',
      body,
      headers: { authorization: basic(secretOf(accountId)), 'content-type': 'application/json', ...headers },
    });
  const entry = (accountId: string, providerRecordingId: string) =>
    running.stack.runtime.index.get(recordingId({ accountId, providerRecordingId }));
  const archived = (accountId: string, providerRecordingId: string) =>
    until(async () => {
      const found = await entry(accountId, providerRecordingId);
      return found?.status === 'archived' ? found : undefined;
    });

  beforeAll(async () => {
    stopSimulators = await startAll(simulators);
    await listen(foreign);
    accounts = [
      withWebhook(accountOf('infobip', simulators.infobip, 'ib')),
      withWebhook(accountOf('dialogtech', simulators.dialogtech, 'dt')),
      withWebhook(accountOf('voipbin', simulators.voipbin, 'vb'), 'hook-secret-before-rotation'),
      withWebhook(accountOf('restcomm', simulators.restcomm, 'rc')),
      withWebhook(accountOf('bandwidth', simulators.bandwidth, 'bw')),
    ];
    running = await serve({
      ...FAST_PROVIDERS,
      config: testConfig(accounts),
      dataDir,
      port: 0,
    });
  });

  afterAll(async () => {
    await running?.close();
    await shut(foreign);
    await stopSimulators?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('archives a Bandwidth recordingComplete callback within seconds, once for a duplicate', async () => {
    const body = simulators.bandwidth.callbackBody('bw-00000', 'recordingComplete');
    const first = await post('bw', body);
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ started: 1, duplicates: 0 });
    const saved = await archived('bw', 'bw-00000');
    expect(saved.sha256).toBe(simulators.bandwidth.audio('bw-00000').sha256());
    const again = await post('bw', body);
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ started: 0, duplicates: 1 });
    expect(simulators.bandwidth.count('audio')).toBe(1);
  });

  it('archives a Restcomm Record callback (form-encoded) and never fetches the URL it names on another host', async () => {
    const sid = [...simulators.restcomm.recordings.keys()][0] as string;
    const foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/restcomm/recordings/${sid}.wav`;
    const form = new URLSearchParams({ RecordingUrl: foreignUrl, RecordingDuration: '1', CallSid: 'CA1' });
    const response = await post('rc', form.toString(), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(response.status).toBe(202);
    const saved = await archived('rc', sid);
    expect(saved.sha256).toBe(simulators.restcomm.audio(sid).sha256());
    expect(foreignRequests).toEqual([]);
  });

  it('accepts a VoIPBin recording_finished event signed with X-VoIPBIN-Signature over the raw body', async () => {
    const body = JSON.stringify({ type: 'recording_finished', data: { id: 'vb-00001', status: 'ended' } });
    const signature = createHmac('sha256', secretOf('vb')).update(body).digest('hex');
    const signed = await post('vb', body, { authorization: '', 'x-voipbin-signature': signature });
    expect(signed.status).toBe(202);
    await archived('vb', 'vb-00001');
    // The same signature over a different body is refused, and nothing starts.
    const tampered = body.replace('vb-00001', 'vb-00002');
    const refused = await post('vb', tampered, { authorization: '', 'x-voipbin-signature': signature });
    expect(refused.status).toBe(401);
    await sleep(300);
    expect(await entry('vb', 'vb-00002')).toBeUndefined();
  });

  it('checks X-VoIPBIN-Signature over the bytes received, also when they are not UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"type":"recording_finished","data":{"id":"vb-00005","name":"caf'),
      Buffer.from([0xe9]), // Latin-1 "é": decoding it as UTF-8 would change the bytes signed
      Buffer.from('"}}'),
    ]);
    const signature = createHmac('sha256', secretOf('vb')).update(bytes).digest('hex');
    const response = await fetch(`${running.url}/webhooks/vb`, {
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'application/json', 'x-voipbin-signature': signature },
    });
    expect(response.status).toBe(202);
    await archived('vb', 'vb-00005');
  });

  it('accepts the previous secret during a rotation', async () => {
    const body = JSON.stringify({ type: 'recording_finished', data: { id: 'vb-00003' } });
    const response = await post('vb', body, { authorization: basic('hook-secret-before-rotation') });
    expect(response.status).toBe(202);
    await archived('vb', 'vb-00003');
  });

  it('takes the minimal { recordingId } body for providers without a callback of their own', async () => {
    const infobipFile = [...simulators.infobip.recordings.keys()][0] as string;
    const dialogtechSid = [...simulators.dialogtech.recordings.keys()][0] as string;
    expect((await post('ib', JSON.stringify({ recordingId: infobipFile }))).status).toBe(202);
    expect((await post('dt', JSON.stringify({ recordingId: dialogtechSid }))).status).toBe(202);
    expect((await archived('ib', infobipFile)).bytes).toBe(simulators.infobip.audio(infobipFile).size);
    expect((await archived('dt', dialogtechSid)).bytes).toBe(simulators.dialogtech.audio(dialogtechSid).size);
  });

  it('answers 401 without or with wrong credentials, the same for an unknown account, and starts nothing', async () => {
    const body = JSON.stringify({ recordingId: 'vb-00004' });
    expect((await post('vb', body, { authorization: '' })).status).toBe(401);
    const wrong = await post('vb', body, { authorization: basic('wrong') });
    const unknown = await post('nobody', body);
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(await unknown.text()).toBe(await wrong.text());
    expect(unknown.headers.get('www-authenticate')).toBe(wrong.headers.get('www-authenticate'));
    await sleep(300);
    expect(await entry('vb', 'vb-00004')).toBeUndefined();
    expect(running.stack.stepFunctions.executions.size).toBeGreaterThan(0);
    expect(
      [...running.stack.stepFunctions.executions.values()].some(
        (execution) =>
          (execution.input as { ref: { providerRecordingId: string } }).ref.providerRecordingId ===
          'vb-00004',
      ),
    ).toBe(false);
  });

  it('answers 400 naming the problem for a malformed body, and 413 for an oversized one', async () => {
    const malformed = await post('bw', '{"eventType": "recordingComplete", "callId": ');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { message: string }).message).toMatch(/not JSON/);
    const missing = await post('vb', JSON.stringify({ recordingId: '' }));
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { message: string }).message).toContain('recordingId');
    const oversized = await post('vb', JSON.stringify({ recordingId: 'x', padding: 'x'.repeat(100_000) }));
    expect(oversized.status).toBe(413);
  });

  it('refuses a foreign Host header (DNS rebinding) and outlives a malformed %-escape', async () => {
    const { port } = new URL(running.url);
    const raw = (path: string, host: string, method = 'GET') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          { host: '127.0.0.1', port, path, method, headers: { host } },
          (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => {
              body += chunk.toString();
            });
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        request.on('error', reject);
        request.end();
      });
    const rebound = await raw('/recordings', `attacker.example:${port}`);
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('items');
    expect((await raw('/recordings', `localhost:${port}`)).status).toBe(200);
    expect((await raw('/recordings', `[::1]:${port}`)).status).toBe(200);
    for (const path of ['/webhooks/%E0%A4%A', '/recordings/%zz/audio', '/recordings/%']) {
      const method = path.startsWith('/webhooks') ? 'POST' : 'GET';
      const malformed = await raw(path, `127.0.0.1:${port}`, method);
      expect(malformed.status).toBe(400);
      expect(malformed.body).toContain('%-escape');
    }
    // Still serving.
    expect((await fetch(`${running.url}/recordings?limit=1`)).status).toBe(200);
  });

  it('serves the search API with filters, across pages, and the audio by a presigned redirect', async () => {
    // Fill the index: a sweep of the VoIPBin account archives the rest.
    await running.stack.sweep({ accountId: 'vb' });
    await until(async () => {
      const page = await running.stack.runtime.index.query({
        accountId: 'vb',
        status: 'archived',
        limit: 100,
      });
      return page.items.length === 8 ? page : undefined;
    });
    const collected: IndexEntry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = new URLSearchParams({
        account: 'vb',
        limit: '3',
        ...(cursor ? { cursor } : {}),
      }).toString();
      const response = await fetch(`${running.url}/recordings?${query}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: IndexEntry[]; cursor: string | null };
      collected.push(...page.items);
      cursor = page.cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBeGreaterThan(2);
    expect(collected.map((item) => item.providerRecordingId).sort()).toEqual(
      [...simulators.voipbin.recordings.keys()].sort(),
    );

    const window = await fetch(
      `${running.url}/recordings?account=vb&since=2026-11-01T09:02:00Z&until=2026-11-01T09:05:00Z`,
    );
    expect(
      ((await window.json()) as { items: IndexEntry[] }).items.map((item) => item.providerRecordingId),
    ).toEqual(['vb-00002', 'vb-00003', 'vb-00004']);
    const byNumber = await fetch(`${running.url}/recordings?number=${encodeURIComponent('+1 555 000-0000')}`);
    const numbered = ((await byNumber.json()) as { items: IndexEntry[] }).items;
    // Bandwidth writes `+15550000000`, Infobip `15550000000`: the same number, by its digits.
    expect(numbered.map((item) => item.accountId).sort()).toEqual(['bw', 'ib']);
    expect((await fetch(`${running.url}/recordings?status=lost`)).status).toBe(400);

    const target = collected[0] as IndexEntry;
    const redirect = await fetch(`${running.url}/recordings/${target.id}/audio`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const audio = Buffer.from(await (await fetch(redirect.headers.get('location') as string)).arrayBuffer());
    expect(audio.length).toBe(target.bytes);
    expect((await fetch(`${running.url}/recordings/nope/audio`)).status).toBe(404);
  });

  it('lets other commands work on the same data directory meanwhile, through the running service', async () => {
    // They find the endpoints and this run's credentials in serve.json, readable by its owner only.
    const published = join(dataDir, 'serve.json');
    expect(statSync(published).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(published, 'utf8')).credentials).toEqual(
      running.stack.endpoints.credentials,
    );
    const archive = await openLocalArchive(dataDir);
    try {
      const listed = await archive.index.query({ accountId: 'bw' });
      expect(listed.items.map((item) => item.providerRecordingId)).toContain('bw-00000');
    } finally {
      await archive.close();
    }
    const executionsBefore = running.stack.stepFunctions.executions.size;
    const attached = await openLocalStack({
      config: testConfig(accounts),
      dataDir,
      logger: silentLogger,
    });
    try {
      const summary = await harvest(attached);
      const bandwidth = summary.find((account) => account.accountId === 'bw');
      expect(bandwidth).toMatchObject({ listed: 2, archived: 1, alreadyDone: 1, failed: 0 });
    } finally {
      await attached.close();
    }
    // The harvest's executions ran inside the service, not in a second workflow runner.
    expect(running.stack.stepFunctions.executions.size).toBeGreaterThan(executionsBefore);
    expect((await entry('bw', 'bw-00001'))?.status).toBe('archived');
  });
});

describe('a serve.json left behind', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callvault-stale-serve-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is removed when its serve no longer answers, though its pid is alive (reused after a reboot)', async () => {
    const stack = await startLocalStack({
      ...FAST_PROVIDERS,
      config: testConfig([OFFLINE_ACCOUNT]),
      dataDir,
    });
    await stack.close();
    // Ports nothing listens on any more.
    const gone = createServer();
    const endpoint = await listen(gone);
    await shut(gone);
    const published = join(dataDir, 'serve.json');
    writeFileSync(
      published,
      JSON.stringify({
        s3: endpoint,
        dynamodb: endpoint,
        stepFunctions: endpoint,
        url: endpoint,
        pid: process.pid, // alive, and not the CLI's own
        credentials: { accessKeyId: 'AKIDSTALE', secretAccessKey: 'stale' },
      }),
      { mode: 0o600 },
    );
    const listed = await runCli(['recordings', 'list', '--json', '--data-dir', dataDir], { timeout: 30_000 });
    expect(listed.stderr).not.toContain('ECONNREFUSED');
    expect(listed.stderr).toContain(`${published} named a serve (pid ${process.pid}) that no longer answers`);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([]);
    expect(existsSync(published)).toBe(false);

    // Damaged (not JSON, or not a serve's endpoints): removed as well, named, and nothing lost.
    for (const damaged of ['{"pid": 12', '{"url": "http://127.0.0.1:1"}']) {
      writeFileSync(published, damaged, { mode: 0o600 });
      const again = await runCli(['recordings', 'list', '--json', '--data-dir', dataDir], {
        timeout: 30_000,
      });
      expect(again.stderr).toContain(`${published} was damaged (not a serve's endpoints): removed it`);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual([]);
      expect(existsSync(published)).toBe(false);
    }
  }, 60_000);
});
