/**
 * Issue 8 item 12: `callvault providers check` judges the downloaded bytes as the archive does,
 * so a provider answering an HTML page with an audio content type is not "downloaded".
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidAudioError } from '../../lambdas/core/errors.ts';
import { checkDownload } from '../../lambdas/providers/check.ts';
import { createVoipbinAdapter } from '../../lambdas/providers/voipbin.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '../../bin/callvault.mjs');

describe('providers check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callvault-check-'));
  const sim = new VoipbinSimulator({ recordings: sampleRecordings(1, { prefix: 'vb' }) });
  const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };

  beforeAll(async () => {
    await sim.start();
  });
  afterAll(async () => {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checkDownload sniffs the bytes: audio is reported with its format, a page served as audio/wav is InvalidAudioError', async () => {
    const adapter = createVoipbinAdapter(voipbinSimulatorAccount(sim, 'vb'));
    expect(await checkDownload(adapter, ref)).toEqual({
      bytes: sim.audio('vb-00000').size,
      sha256: sim.audio('vb-00000').sha256(),
      contentType: 'audio/wav',
    });
    sim.inject({ kind: 'not-audio', on: 'audio' });
    await expect(checkDownload(adapter, ref)).rejects.toBeInstanceOf(InvalidAudioError);
  });

  it('the CLI reports the non-audio body as an error and exits 1', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ accounts: [voipbinSimulatorAccount(sim, 'vb')] }));
    sim.inject({ kind: 'not-audio', on: 'audio', times: Number.POSITIVE_INFINITY });
    const failure = await run(process.execPath, [cli, 'providers', 'check', '--config', config], {
      timeout: 60_000,
    }).catch((error: { code: number; stdout: string }) => error);
    expect('code' in failure && failure.code).toBe(1);
    expect(failure.stdout).toContain('vb (voipbin): InvalidAudioError');
    expect(failure.stdout).not.toContain('downloaded vb-00000');
    sim.clearFaults();
  }, 60_000);
});
