import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingId } from '../../lambdas/core/ids.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { harvest, harvestSucceeded } from '../../local/harvest.ts';
import { type Fleet, startFleet } from '../../local/simulators/fleet.ts';
import type { VoipbinSimulator } from '../../local/simulators/voipbin.ts';
import type { TestStack } from '../helpers/stack.ts';
import { startTestStack } from '../helpers/stack.ts';
import { sha256 } from '../helpers/streams.ts';

async function allEntries(stack: TestStack): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await stack.runtime.index.query({ cursor, limit: 50 });
    entries.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return entries;
}

async function storedBytes(stack: TestStack, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await stack.archive.store.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('harvest of all five providers (with pending recordings and injected faults)', () => {
  let fleet: Fleet;
  let stack: TestStack;
  let firstRun: Awaited<ReturnType<typeof harvest>>;

  beforeAll(async () => {
    fleet = await startFleet({ perProvider: 6, pendingMs: 1_500 });
    stack = await startTestStack(fleet.accounts);
    firstRun = await harvest(stack);
  }, 60_000);

  afterAll(async () => {
    await stack?.dispose();
    await fleet?.stop();
  });

  it('archives every ready recording of every provider and skips the one deleted at the source', () => {
    const byAccount = Object.fromEntries(firstRun.map((summary) => [summary.accountId, summary]));
    for (const id of ['ib-demo', 'dt-demo', 'vb-demo', 'rc-demo']) {
      expect(byAccount[id]).toMatchObject({ listed: 6, archived: 6, skipped: 0, failed: 0 });
    }
    expect(byAccount['bw-demo']).toMatchObject({ listed: 6, archived: 5, skipped: 1, failed: 0 });
    expect(byAccount['bw-demo']?.problems[0]?.reason).toContain('deleted');
    expect(harvestSucceeded(firstRun)).toBe(true);
  });

  it('stores exactly the bytes each simulator served, hash and size recorded in the index', async () => {
    const entries = await allEntries(stack);
    const archived = entries.filter((entry) => entry.status === 'archived');
    expect(archived).toHaveLength(29);
    const voipbin = fleet.simulators.voipbin as VoipbinSimulator;
    for (const entry of archived) {
      const bytes = await storedBytes(stack, entry.key as string);
      expect(bytes.length).toBe(entry.bytes);
      expect(sha256(bytes)).toBe(entry.sha256);
      const simulator = fleet.simulators[entry.provider];
      const served =
        entry.contentType === 'application/zip'
          ? sha256(voipbin.zipOf(entry.providerRecordingId))
          : simulator.audio(entry.providerRecordingId).sha256();
      expect(entry.sha256, `${entry.provider} ${entry.providerRecordingId}`).toBe(served);
    }
  });

  it('keys objects by account and UTC start date, with the extension of what was stored', async () => {
    const entries = await allEntries(stack);
    const zip = entries.find((entry) => entry.contentType === 'application/zip');
    expect(zip?.container).toBe('zip');
    expect(zip?.key).toMatch(/^recordings\/vb-demo\/2026\/11\/20\/[0-9a-f-]+\.zip$/);
    const dialogtech = entries.filter((entry) => entry.accountId === 'dt-demo');
    // DialogTech dates are zone-less Chicago time; the folder is the UTC date.
    expect(dialogtech.every((entry) => entry.key?.startsWith('recordings/dt-demo/2026/11/20/'))).toBe(true);
    expect(dialogtech[0]?.startedAt).toBe('2026-11-20T14:00:00.000Z');
  });

  it('writes one index entry per recording, with the normalized metadata', async () => {
    const entries = await allEntries(stack);
    expect(new Set(entries.map((entry) => entry.id)).size).toBe(entries.length);
    expect(entries).toHaveLength(30);
    const bandwidth = entries.find(
      (entry) => entry.providerRecordingId === 'r-00000000-d189-4404-9aa4-6ac344d21621',
    );
    expect(bandwidth).toMatchObject({
      id: recordingId({
        accountId: 'bw-demo',
        providerRecordingId: 'r-00000000-d189-4404-9aa4-6ac344d21621',
      }),
      status: 'archived',
      provider: 'bandwidth',
      callId: 'c-2a913f94-00000000',
      startedAt: '2026-11-20T14:00:00.000Z',
      from: '+15550000000',
      direction: 'outbound',
      contentType: 'audio/wav',
      bucket: 'callvault-audio',
    });
  });

  it('a second harvest archives nothing new and downloads nothing', async () => {
    const downloadsBefore = Object.values(fleet.simulators).map((simulator) => simulator.count('audio'));
    const secondRun = await harvest(stack);
    expect(secondRun.map((summary) => summary.archived + summary.failed + summary.skipped)).toEqual([
      0, 0, 0, 0, 0,
    ]);
    expect(secondRun.map((summary) => summary.alreadyDone)).toEqual([6, 6, 6, 6, 6]);
    expect(Object.values(fleet.simulators).map((simulator) => simulator.count('audio'))).toEqual(
      downloadsBefore,
    );
    expect(await allEntries(stack)).toHaveLength(30);
  });
});
