/** A `serve` stopped while an execution waits for its recording: the next start resumes it. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/core/config.ts';
import { recordingId } from '../../lambdas/core/ids.ts';
import { silentLogger } from '../../lambdas/core/log.ts';
import { serve } from '../../local/serve.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { runningServe } from '../../local/stack.ts';

describe('stopping and starting serve', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'callvault-resume-'));
  const simulator = new VoipbinSimulator({
    recordings: sampleRecordings(1, { prefix: 'vb' }).map((recording) => ({
      ...recording,
      readyAt: Date.now() + 3_600_000,
    })),
  });
  afterAll(async () => {
    await simulator.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes an execution that a stop left running, and archives it once', async () => {
    await simulator.start();
    const account = { ...voipbinSimulatorAccount(simulator, 'vb'), webhook: { secret: 's3cret' } };
    const options = {
      config: parseConfig({
        accounts: [account],
        readiness: { initialDelaySeconds: 1, maxDelaySeconds: 1, deadlineSeconds: 600 },
      }),
      dataDir,
      port: 0,
      logger: silentLogger,
      shutdownGraceMs: 100,
    };
    const first = await serve(options);
    expect((await runningServe(dataDir))?.url).toBe(first.url);
    const accepted = await fetch(`${first.url}/webhooks/vb`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('x:s3cret').toString('base64')}` },
      body: JSON.stringify({ type: 'recording_finished', data: { id: 'vb-00000' } }),
    });
    expect(accepted.status).toBe(202);
    await sleep(500); // the execution is now waiting for the recording to be ready
    await first.close();
    expect(await runningServe(dataDir)).toBeUndefined();
    const journal = readFileSync(join(dataDir, 'executions.jsonl'), 'utf8').trim().split('\n');
    expect(journal.map((line) => JSON.parse(line).event)).toEqual(['started']);

    simulator.markReady('vb-00000');
    const second = await serve(options);
    try {
      const id = recordingId({ accountId: 'vb', providerRecordingId: 'vb-00000' });
      for (let tries = 0; tries < 100; tries += 1) {
        if ((await second.stack.runtime.index.get(id))?.status === 'archived') break;
        await sleep(100);
      }
      expect(await second.stack.runtime.index.get(id)).toMatchObject({
        status: 'archived',
        sha256: simulator.audio('vb-00000').sha256(),
      });
      expect(simulator.count('audio')).toBe(1);
    } finally {
      await second.close();
    }
  });
});
