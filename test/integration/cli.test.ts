/** The CLI as a user runs it: the demo end to end, then listing and fetching what it archived. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BandwidthSimulator } from '../../local/simulators/bandwidth.ts';
import { DialogtechSimulator } from '../../local/simulators/dialogtech.ts';
import { InfobipSimulator } from '../../local/simulators/infobip.ts';
import { RestcommSimulator } from '../../local/simulators/restcomm.ts';
import { VoipbinSimulator } from '../../local/simulators/voipbin.ts';
import { listen, shut } from '../helpers/http-server.ts';

const run = promisify(execFile);

/** Every credential the demo's simulators accept (their defaults). */
function simulatorCredentials(): string[] {
  const infobip = new InfobipSimulator();
  const dialogtech = new DialogtechSimulator();
  const restcomm = new RestcommSimulator();
  const bandwidth = new BandwidthSimulator();
  return [
    infobip.password,
    infobip.apiKey,
    dialogtech.accessKey,
    dialogtech.secretAccessKey,
    new VoipbinSimulator().token,
    restcomm.authToken,
    bandwidth.password,
  ];
}
const cli = join(import.meta.dirname, '../../bin/callvault.mjs');
const dataDir = mkdtempSync(join(tmpdir(), 'callvault-cli-'));
const callvault = (...args: string[]) =>
  run(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });

describe('callvault CLI', () => {
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs the demo end to end, then lists and fetches what it archived', async () => {
    const demo = await callvault('demo', '--data-dir', dataDir);
    expect(demo.stdout).toMatch(/vb-demo\s+voipbin\s+6\s+6\s+0\s+0\s+0/);
    // The demo's faults make the transport log retries with URLs: no credential may show.
    expect(demo.stderr).toContain('retrying');
    for (const secret of simulatorCredentials()) {
      expect(demo.stdout + demo.stderr).not.toContain(secret);
    }
    expect(demo.stdout).toMatch(/bw-demo\s+bandwidth\s+6\s+5\s+0\s+1\s+0/);

    const listed = JSON.parse(
      (await callvault('recordings', 'list', '--json', '--data-dir', dataDir)).stdout,
    ) as {
      id: string;
      status: string;
      sha256: string | null;
      provider: string;
    }[];
    expect(listed).toHaveLength(30);
    expect(listed.filter((entry) => entry.status === 'archived')).toHaveLength(29);

    const restcomm = listed.find((entry) => entry.provider === 'restcomm');
    const output = join(dataDir, 'fetched.wav');
    await callvault('recordings', 'get', restcomm?.id ?? '', '--output', output, '--data-dir', dataDir);
    const bytes = readFileSync(output);
    expect(bytes.subarray(0, 4).toString()).toBe('RIFF');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(restcomm?.sha256);

    const again = await callvault('demo', '--data-dir', dataDir);
    expect(again.stdout).toMatch(/vb-demo\s+voipbin\s+6\s+0\s+6\s+0\s+0/);
  }, 120_000);

  it('rejects a broken config with the field that is wrong, and exits non-zero', async () => {
    const config = join(dataDir, 'broken.json');
    writeFileSync(
      config,
      JSON.stringify({ accounts: [{ id: 'vb', provider: 'voipbin', baseUrl: 'http://x' }] }),
    );
    const failure = await callvault('harvest', '--config', config, '--data-dir', dataDir).catch(
      (error) => error,
    );
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('accounts[0].auth is required');
  });

  it('names a damaged execution journal and exits, its servers closed rather than left running', async () => {
    const config = join(dataDir, 'one-account.json');
    writeFileSync(
      config,
      JSON.stringify({
        accounts: [{ id: 'vb', provider: 'voipbin', baseUrl: 'http://127.0.0.1:9', auth: { token: 't' } }],
      }),
    );
    const damagedDir = join(dataDir, 'damaged');
    mkdirSync(damagedDir);
    writeFileSync(join(damagedDir, 'executions.jsonl'), 'not an entry\nnor this\n');
    // The servers start in a worker thread before the journal is read: left running, they kept
    // the process alive after the error, until this timeout killed it.
    const failure = await run(
      process.execPath,
      [cli, 'harvest', '--config', config, '--data-dir', damagedDir],
      {
        env: { ...process.env, NO_COLOR: '1' },
        timeout: 45_000,
      },
    ).catch((error) => error);
    expect(failure.killed).toBe(false);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain(
      `callvault: the execution journal ${join(damagedDir, 'executions.jsonl')} is damaged at line 1`,
    );
    expect(failure.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);

  it('refuses to serve on a port that is taken, exiting 2 with its data directory let go', async () => {
    const config = join(dataDir, 'serve-account.json');
    writeFileSync(
      config,
      JSON.stringify({
        accounts: [{ id: 'vb', provider: 'voipbin', baseUrl: 'http://127.0.0.1:9', auth: { token: 't' } }],
      }),
    );
    const holder = createServer();
    const port = Number(new URL(await listen(holder)).port);
    const serveDir = join(dataDir, 'port-taken');
    try {
      // The stack opened before the port was tried, and kept the process alive after it failed.
      const failure = await run(
        process.execPath,
        [cli, 'serve', '--config', config, '--data-dir', serveDir, '--port', String(port)],
        { env: { ...process.env, NO_COLOR: '1' }, timeout: 45_000 },
      ).catch((error) => error);
      expect(failure.killed).toBe(false);
      expect(failure.code).toBe(2);
      expect(failure.stderr).toContain(
        `callvault: cannot listen on 127.0.0.1:${port}: port ${port} is in use`,
      );
      expect(failure.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await shut(holder);
    }

    const notAPort = join(dataDir, 'not-a-port');
    const refused = await run(
      process.execPath,
      [cli, 'serve', '--config', config, '--data-dir', notAPort, '--port', 'abc'],
      { env: { ...process.env, NO_COLOR: '1' }, timeout: 45_000 },
    ).catch((error) => error);
    expect(refused.killed).toBe(false);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--port must be a whole number from 0 to 65535, got "abc"');
    expect(existsSync(notAPort)).toBe(false); // refused before anything opened
  }, 60_000);
});
