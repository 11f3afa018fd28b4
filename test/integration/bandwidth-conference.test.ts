/**
 * A harvest on the local stack archives Bandwidth conference recordings like call recordings:
 * listed by the sweep (conference listing, then each conference's recordings), downloaded from
 * /conferences/…/media, stored byte-verified, indexed once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/core/config.ts';
import { recordingId } from '../../lambdas/core/ids.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { formatDeleteAtSource, runDeleteAtSource } from '../../local/compliance.ts';
import { harvest, harvestSucceeded } from '../../local/harvest.ts';
import {
  BandwidthSimulator,
  bandwidthSimulatorAccount,
  conferenceRecordingKey,
} from '../../local/simulators/bandwidth.ts';
import { type SimRecording, sampleRecordings } from '../../local/simulators/base.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { sha256 } from '../helpers/streams.ts';

const START = new Date('2026-11-20T14:00:00.000Z');

describe('harvest of Bandwidth conference recordings', () => {
  let sim: BandwidthSimulator;
  let stack: TestStack;
  let summary: Awaited<ReturnType<typeof harvest>>;

  beforeAll(async () => {
    sim = new BandwidthSimulator({ recordings: sampleRecordings(2, { start: START, prefix: 'bw' }) });
    const [first, second] = sampleRecordings(2, { start: new Date(START.getTime() + 600_000), prefix: 'cf' });
    sim.addConference(
      {
        id: 'conf-fe23a767',
        name: 'weekly',
        createdAt: new Date(START.getTime() + 300_000),
        completedAt: new Date(START.getTime() + 3_600_000),
      },
      // The second shares its recordingId with the call recording bw-00000.
      [first as SimRecording, { ...(second as SimRecording), id: 'bw-00000' }],
    );
    await sim.start();
    stack = await startTestStack([bandwidthSimulatorAccount(sim, 'bw')]);
    summary = await harvest(stack);
  }, 60_000);

  afterAll(async () => {
    await stack?.dispose();
    await sim?.stop();
  });

  it('archives the call and the conference recordings, each once, with the bytes Bandwidth served', async () => {
    expect(harvestSucceeded(summary)).toBe(true);
    expect(summary[0]).toMatchObject({ accountId: 'bw', listed: 4, archived: 4, skipped: 0, failed: 0 });
    const page = await stack.runtime.index.query({ accountId: 'bw', limit: 50 });
    const byId = new Map<string, IndexEntry>(page.items.map((entry) => [entry.providerRecordingId, entry]));
    expect([...byId.keys()].sort()).toEqual([
      'bw-00000',
      'bw-00001',
      'conf-fe23a767/bw-00000',
      'conf-fe23a767/cf-00000',
    ]);
    for (const key of ['conf-fe23a767/cf-00000', 'conf-fe23a767/bw-00000', 'bw-00000']) {
      const entry = byId.get(key);
      expect(entry).toMatchObject({
        id: recordingId({ accountId: 'bw', providerRecordingId: key }),
        status: 'archived',
        provider: 'bandwidth',
      });
      const chunks: Buffer[] = [];
      for await (const chunk of await stack.archive.store.read(entry?.key as string))
        chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      expect(sha256(bytes)).toBe(sim.audio(key).sha256());
      expect(entry?.sha256).toBe(sim.audio(key).sha256());
    }
    const conference = byId.get(conferenceRecordingKey('conf-fe23a767', 'cf-00000'));
    expect(conference?.callId).toBeUndefined();
    expect(conference?.startedAt).toBe('2026-11-20T14:10:00.000Z');
    expect(conference?.key).toBe('recordings/bw/2026/11/20/conf-fe23a767%2Fcf-00000.wav');
    expect(
      sim.requests.some((r) => r.path.endsWith('/conferences/conf-fe23a767/recordings/cf-00000/media')),
    ).toBe(true);
  });

  it('a second harvest finds them all done and downloads nothing', async () => {
    const downloads = sim.count('audio');
    const again = await harvest(stack);
    expect(again[0]).toMatchObject({ listed: 4, archived: 0, alreadyDone: 4 });
    expect(sim.count('audio')).toBe(downloads);
  });

  it('delete-at-source deletes the call recordings and keeps the conference ones, which its API cannot delete', async () => {
    const account = { ...bandwidthSimulatorAccount(sim, 'bw'), deleteAtSource: { afterDays: 0 } };
    const config = parseConfig({ accounts: [account] });
    const context = {
      archive: stack.archive,
      adapterFor: stack.runtime.adapterFor,
      slots: stack.runtime.slots,
    };
    const { result, exitCode } = await runDeleteAtSource(context, config);
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({ unverified: [], failed: [], remaining: 0, notDeletable: 2 });
    expect(result.deleted.map((item) => item.providerRecordingId).sort()).toEqual(['bw-00000', 'bw-00001']);
    expect(sim.count('delete')).toBe(2);
    expect(sim.recordings.get('conf-fe23a767/cf-00000')?.deleted).toBeFalsy();
    expect(formatDeleteAtSource(result)).toContain('kept at the provider: 2');
  });
});
