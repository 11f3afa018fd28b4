import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingId } from '../../lambdas/core/ids.ts';
import {
  RestcommSimulator,
  restcommRecordings,
  restcommSid,
  restcommSimulatorAccount,
} from '../../local/simulators/restcomm.ts';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'callvault-compliance-cli-'));
const dataDir = join(dir, 'data');
const callvault = (...args: string[]) => runCli(args, { timeout: 120_000 });

describe('compliance CLI', () => {
  const restcomm = new RestcommSimulator({ recordings: restcommRecordings(3, { prefix: 'cli' }) });
  const configFile = join(dir, 'config.json');

  beforeAll(async () => {
    await restcomm.start();
    const config = {
      accounts: [{ ...restcommSimulatorAccount(restcomm, 'rc'), deleteAtSource: { afterDays: 0 } }],
      readiness: { initialDelaySeconds: 1, maxDelaySeconds: 1, deadlineSeconds: 30 },
    };
    writeFileSync(configFile, JSON.stringify(config));
    expect((await callvault('harvest', '--config', configFile, '--data-dir', dataDir)).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await restcomm.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reconcile --json prints exactly the report and exits 0 when there is no gap', async () => {
    const result = await callvault('reconcile', '--config', configFile, '--data-dir', dataDir, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      accounts: [{ accountId: 'rc', provider: 'restcomm', listed: 3, archived: 3, gaps: [] }],
    });
  }, 60_000);

  it('a config with deleteAtSource on an Infobip account is refused at load, naming the field (exit 2)', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        accounts: [
          {
            id: 'ib',
            provider: 'infobip',
            baseUrl: 'https://x.api.infobip.com',
            auth: { apiKey: 'k' },
            deleteAtSource: { afterDays: 1 },
          },
        ],
      }),
    );
    const result = await callvault('delete-at-source', '--config', bad, '--data-dir', dataDir, '--dry-run');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('accounts[0].deleteAtSource: infobip cannot delete recordings');
  }, 60_000);

  it('recordings erase leaves a tombstone that list --status erased --json shows with erasedAt', async () => {
    const id = recordingId({ accountId: 'rc', providerRecordingId: restcommSid('RE', 'cli-0') });
    const erased = await callvault(
      'recordings',
      'erase',
      id,
      '--reason',
      'GDPR request 7',
      '--data-dir',
      dataDir,
    );
    expect(erased.code).toBe(0);
    expect(erased.stdout).toContain(`recording ${id} erased`);
    const listed = await callvault(
      'recordings',
      'list',
      '--status',
      'erased',
      '--json',
      '--data-dir',
      dataDir,
    );
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id,
      status: 'erased',
      reason: 'GDPR request 7',
      erasedAt: expect.any(String),
    });
    expect(rows[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]).not.toHaveProperty('legalHold');
  }, 60_000);
});
