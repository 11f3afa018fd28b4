/**
 * The manifest chain over days: only a day that has ended is written; the nightly run catches up
 * every day since the newest manifest (bounded per invocation), so a missed night leaves no hole;
 * and verify names a missing day, which the chain alone cannot see.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveVerificationError, UsageError } from '../../lambdas/core/errors.ts';
import type { Logger } from '../../lambdas/core/log.ts';
import {
  type ManifestDeps,
  manifestKey,
  NAMED_MISSING_DAYS,
  parseManifestDate,
  verifyManifests,
  writeManifests,
} from '../../lambdas/core/manifest.ts';
import type { ComplianceStore, IndexEntry } from '../../lambdas/core/ports.ts';
import { createManifestHandler, MANIFEST_MARGIN_MS } from '../../lambdas/handlers/manifest.ts';
import { formatManifest, runManifest } from '../../local/compliance.ts';
import { LOCAL_BUCKET } from '../../local/stack.ts';
import { writeThrough } from '../helpers/manifests.ts';
import { OFFLINE_ACCOUNT, startTestStack, type TestStack } from '../helpers/stack.ts';

const DAY = 86_400_000;
/** `yyyy-mm-dd` of `2025-03-10` plus `days`. */
const day = (days: number) =>
  new Date(Date.parse('2025-03-10T00:00:00Z') + days * DAY).toISOString().slice(0, 10);
/** Half past midnight UTC of that day: when the nightly run starts. */
const at = (date: string) => new Date(`${date}T00:30:00.000Z`);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack([OFFLINE_ACCOUNT]);
});
afterAll(async () => stack?.dispose());

/** Each test starts from no manifest (and no lock of one). */
beforeEach(async () => {
  for (const prefix of ['manifests/', '_locks/manifests/']) {
    const listed = await stack.archive.s3.send(
      new ListObjectsV2Command({ Bucket: LOCAL_BUCKET, Prefix: prefix }),
    );
    for (const object of listed.Contents ?? [])
      await stack.archive.s3.send(new DeleteObjectCommand({ Bucket: LOCAL_BUCKET, Key: object.Key }));
  }
});

const depsAt = (date: string): ManifestDeps => ({
  index: stack.archive.index,
  store: stack.archive.store,
  now: () => at(date),
});

interface Logged {
  level: 'info' | 'warn' | 'error';
  event: string;
  fields: Record<string, unknown>;
}
function capture(): { logger: Logger; logged: Logged[] } {
  const logged: Logged[] = [];
  const push = (level: Logged['level']) => (event: string, fields: object) =>
    logged.push({ level, event, fields: fields as Record<string, unknown> });
  return { logger: { info: push('info'), warn: push('warn'), error: push('error') }, logged };
}

const handlerAt = (date: string, options: { maxDays?: number } = {}) => {
  const { logger, logged } = capture();
  return { run: createManifestHandler({ ...depsAt(date), logger, ...options }), logged };
};

async function readText(key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await stack.archive.store.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
const chainOf = async (date: string) =>
  JSON.parse((await readText(manifestKey(date))).trim().split('\n').at(-1) ?? '');

/** A manifest put as the old nightly run wrote one: chained to the newest, whatever day that was. */
async function putChainedTo(date: string, previous: string): Promise<void> {
  const previousSha256 = createHash('sha256')
    .update(await readText(manifestKey(previous)))
    .digest('hex');
  const chain = { previousManifest: manifestKey(previous), previousSha256 };
  await stack.archive.store.putDocument(
    manifestKey(date),
    `${JSON.stringify(chain)}\n`,
    'application/x-ndjson',
  );
}

const AUDIO = '0123456789';
const archived = (id: string, archivedAt: string): IndexEntry => ({
  id,
  accountId: 'vb',
  provider: 'voipbin',
  providerRecordingId: id,
  status: 'archived',
  startedAt: archivedAt,
  bytes: AUDIO.length,
  sha256: createHash('sha256').update(AUDIO).digest('hex'),
  key: `recordings/vb/${id}.wav`,
  archivedAt,
  updatedAt: archivedAt,
});

describe('a day that has not ended', () => {
  it('is refused, today or later, with a UsageError naming the day; nothing is written', async () => {
    const today = day(5);
    const now = at(today);
    expect(parseManifestDate(day(4), now)).toBe(day(4));
    expect(() => parseManifestDate(today, now)).toThrow(UsageError);
    expect(() => parseManifestDate(today, now)).toThrow(`${today} has not ended yet (UTC)`);
    expect(() => parseManifestDate('2099-01-01', now)).toThrow(/2099-01-01 is in the future/);

    await expect(writeThrough(today, depsAt(today))).rejects.toThrow(/has not ended yet/);
    await expect(writeThrough('2099-01-01', depsAt(today))).rejects.toBeInstanceOf(UsageError);
    const { run } = handlerAt(today);
    await expect(run({ date: today })).rejects.toThrow(`${today} has not ended yet`);
    await expect(run({ date: '2099-01-01' })).rejects.toThrow(/is in the future/);
    expect(await verifyManifests(depsAt(today))).toMatchObject({ manifests: 0, failures: [] });

    // The day after, it has ended and is written.
    expect((await writeThrough(today, depsAt(day(6)))).date).toBe(today);
  });
});

describe('the nightly run', () => {
  it('with no manifest yet writes yesterday only, and a second run that night writes nothing', async () => {
    const { run, logged } = handlerAt(day(3));
    expect(await run()).toMatchObject({ days: [day(2)], remaining: null });
    expect(await chainOf(day(2))).toEqual({ previousManifest: null, previousSha256: null });
    expect((await run()).days).toEqual([]);
    expect(logged.map((item) => [item.event, item.fields.date])).toEqual([['manifest written', day(2)]]);
  });

  it('after missed nights writes every day since the newest manifest, oldest first, each chained to the one before', async () => {
    // Its object is stored too, so verify re-hashes it clean.
    const entry = archived('catch-up-day-2', `${day(2)}T15:00:00.000Z`);
    await stack.archive.store.putDocument(entry.key ?? '', AUDIO, 'audio/wav');
    await stack.archive.index.put(entry);
    await writeThrough(day(0), depsAt(day(1)));
    // The runs of day 2, 3 and 4 failed: the run of day 5 makes them up, through day 4.
    const { run, logged } = handlerAt(day(5));
    const result = await run();
    expect(result.days).toEqual([day(1), day(2), day(3), day(4)]);
    expect(result.written.map((written) => written.previousManifest)).toEqual(
      [day(0), day(1), day(2), day(3)].map(manifestKey),
    );
    for (const date of [day(1), day(2), day(3), day(4)])
      expect((await chainOf(date)).previousManifest).toBe(manifestKey(prior(date)));
    // Each day holds its own archives.
    expect(result.written.map((written) => written.recordings)).toEqual([0, 1, 0, 0]);
    expect(await readText(manifestKey(day(2)))).toContain('catch-up-day-2');
    // The output names each day written.
    expect(
      logged.filter((item) => item.event === 'manifest written').map((item) => item.fields.date),
    ).toEqual(result.days);
    expect(await verifyManifests(depsAt(day(5)))).toMatchObject({ manifests: 5, failures: [], warnings: [] });
  });

  it('bounds a long catch-up by maxDays and by the time box, and logs what it left to the next run', async () => {
    await writeThrough(day(0), depsAt(day(1)));
    const { run, logged } = handlerAt(day(8), { maxDays: 3 });
    const first = await run();
    expect(first.days).toEqual([day(1), day(2), day(3)]);
    expect(first.remaining).toEqual({ from: day(4), through: day(7), days: 4 });
    expect(logged.at(-1)).toMatchObject({
      level: 'warn',
      event: 'manifest written',
      fields: { date: day(3), leftToNextRun: { from: day(4), through: day(7), days: 4 } },
    });

    // Lambda's time left is all margin: the run writes its one day and leaves the rest.
    const boxed = await run({}, { getRemainingTimeInMillis: () => MANIFEST_MARGIN_MS });
    expect(boxed).toMatchObject({ days: [day(4)], remaining: { from: day(5), through: day(7), days: 3 } });

    // The next runs take what is left, and the chain has no hole.
    expect((await run()).days).toEqual([day(5), day(6), day(7)]);
    expect((await run()).days).toEqual([]);
    expect(await verifyManifests(depsAt(day(8)))).toMatchObject({ manifests: 8, failures: [], warnings: [] });
  });

  it('without a time box or bound (the CLI) writes every day, and its output names each one', async () => {
    await writeThrough(day(0), depsAt(day(1)));
    const local = { ...stack.archive, now: () => at(day(4)) };
    // What `callvault manifest` passes without --date: yesterday.
    const run = await runManifest(local, day(3));
    expect(run.written.map((written) => written.date)).toEqual([day(1), day(2), day(3)]);
    expect(formatManifest(run).split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^wrote ${manifestKey(day(1))} \\(${day(1)}\\): 0 recordings, .* after ${manifestKey(day(0))}$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(`^wrote ${manifestKey(day(2))} \\(${day(2)}\\): .* after ${manifestKey(day(1))}$`),
      ),
      expect.stringMatching(
        new RegExp(`^wrote ${manifestKey(day(3))} \\(${day(3)}\\): .* after ${manifestKey(day(2))}$`),
      ),
    ]);
    await expect(runManifest(local, day(3))).rejects.toThrow(/already exists/);
    expect(formatManifest(await runManifest(local))).toBe('the manifests are up to date: nothing to write');
    expect(formatManifest({ written: [], remaining: { from: day(5), through: day(6), days: 2 } })).toBe(
      'the manifests are up to date: nothing to write\nleft to the next run: 2 days, 2025-03-15 … 2025-03-16',
    );
  });
});

describe('an explicit date', () => {
  it('before the newest manifest, or of the newest, stays refused; a later one writes the days up to it', async () => {
    await writeThrough(day(0), depsAt(day(1)));
    await writeThrough(day(1), depsAt(day(2)));
    const { run } = handlerAt(day(6));
    await expect(run({ date: day(0) })).rejects.toThrow(`${manifestKey(day(0))} already exists`);
    await expect(run({ date: day(1) })).rejects.toThrow(`${manifestKey(day(1))} already exists`);
    expect((await run({ date: day(3) })).days).toEqual([day(2), day(3)]);
  });
});

describe('verify', () => {
  it('names the day a missed night left out, which the chain alone cannot see', async () => {
    await writeThrough(day(0), depsAt(day(1)));
    // The old nightly run after a failed one: day 2 chained to day 0, day 1 in no manifest.
    await putChainedTo(day(2), day(0));
    const result = await verifyManifests(depsAt(day(3)));
    expect(result.failures).toEqual([
      {
        manifest: manifestKey(day(1)),
        detail: `no manifest for ${day(1)}: the chain goes from ${manifestKey(day(0))} straight to ${manifestKey(day(2))}`,
      },
    ]);
    // The chain only grows forward, so the hole stays: the next run writes day 3, and verify
    // keeps naming day 1.
    expect((await handlerAt(day(4)).run()).days).toEqual([day(3)]);
    expect((await verifyManifests(depsAt(day(4)))).failures.map((failure) => failure.manifest)).toEqual([
      manifestKey(day(1)),
    ]);
  });

  it('names a long hole day by day up to a bound, then the rest in one line', async () => {
    await writeThrough(day(0), depsAt(day(1)));
    await putChainedTo(day(100), day(0));
    const { failures } = await verifyManifests(depsAt(day(101)));
    expect(failures).toHaveLength(NAMED_MISSING_DAYS + 1);
    expect(failures[0]?.manifest).toBe(manifestKey(day(1)));
    expect(failures.at(-1)).toEqual({
      manifest: manifestKey(day(NAMED_MISSING_DAYS + 1)),
      detail: `no manifest for ${day(NAMED_MISSING_DAYS + 1)} … ${day(99)} either (${99 - NAMED_MISSING_DAYS} more days)`,
    });
  });

  it('fails a manifest of a day that had not ended; the nightly run refuses to chain past it', async () => {
    await writeThrough(day(0), depsAt(day(1)));
    // Written early, as `manifest --date <today>` or `--date 2099-01-01` once could.
    await putChainedTo('2099-01-01', day(0));
    const result = await verifyManifests(depsAt(day(2)));
    // And yesterday, which the early one keeps out of the chain for good.
    expect(result.failures).toEqual([
      { manifest: manifestKey(day(1)), detail: expect.stringContaining(`no manifest for ${day(1)}`) },
      {
        manifest: 'manifests/2099/01/01.jsonl',
        detail: expect.stringContaining('is for 2099-01-01, a day that had not ended'),
      },
    ]);
    await expect(handlerAt(day(2)).run()).rejects.toThrow(
      /2099\/01\/01\.jsonl is for a day that has not ended/,
    );
  });

  it('warns, without failing, when the newest manifest is older than yesterday (a run not made yet, or a removed tail)', async () => {
    await writeThrough(day(0), depsAt(day(1)));
    await writeThrough(day(1), depsAt(day(2)));
    expect(await verifyManifests(depsAt(day(2)))).toMatchObject({ failures: [], warnings: [] });
    // The newest hidden (a delete marker), or the runs of two nights not made.
    await stack.archive.s3.send(new DeleteObjectCommand({ Bucket: LOCAL_BUCKET, Key: manifestKey(day(1)) }));
    const result = await verifyManifests(depsAt(day(3)));
    expect(result.failures).toEqual([]);
    expect(result.warnings).toEqual([
      {
        manifest: manifestKey(day(0)),
        detail: expect.stringContaining(`the newest manifest is of ${day(0)}, none of ${day(1)} … ${day(2)}`),
      },
    ]);
  });
});

/**
 * The local store keeps no versions (s3rver has none: a delete removes the object), so a delete
 * marker is played by this view of it: the key is left out of listings and named as hidden, as
 * S3's ListObjectsV2 and ListObjectVersions answer for a versioned bucket.
 */
function withDeleteMarkerOn(hiddenKey: string): ComplianceStore {
  const store = stack.archive.store;
  return new Proxy(store, {
    get(target, property) {
      if (property === 'list')
        return async function* (prefix: string) {
          for await (const object of target.list(prefix)) if (object.key !== hiddenKey) yield object;
        };
      if (property === 'hiddenKeys')
        return async function* (prefix: string) {
          if (hiddenKey.startsWith(prefix)) yield hiddenKey;
        };
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('a manifest hidden behind a delete marker', () => {
  it('stops the nightly run, naming it, instead of a second manifest of its day written over it', async () => {
    await writeThrough(day(0), depsAt(day(1)));
    await writeThrough(day(1), depsAt(day(2)));
    const hiddenKey = manifestKey(day(1));
    const original = await readText(hiddenKey);
    const deps = { ...depsAt(day(3)), store: withDeleteMarkerOn(hiddenKey) };
    const run = writeManifests(deps);
    await expect(run).rejects.toBeInstanceOf(ArchiveVerificationError);
    await expect(writeManifests(deps)).rejects.toThrow(
      `${hiddenKey} was deleted (a delete marker hides it, its version is kept)`,
    );
    // Neither the hidden day written again nor the next one chained past it.
    expect(await readText(hiddenKey)).toBe(original);
    expect(await stack.archive.store.head(manifestKey(day(2)))).toBeUndefined();
    const { failures } = await verifyManifests(deps);
    expect(failures).toEqual([{ manifest: hiddenKey, detail: expect.stringContaining('was deleted') }]);
  });

  it('in the middle of the chain fails verify as hidden, not as a day never written', async () => {
    for (const days of [0, 1, 2]) await writeThrough(day(days), depsAt(day(days + 1)));
    const hiddenKey = manifestKey(day(1));
    const deps = { ...depsAt(day(3)), store: withDeleteMarkerOn(hiddenKey) };
    const { failures } = await verifyManifests(deps);
    expect(failures).toEqual([
      {
        manifest: hiddenKey,
        detail: expect.stringContaining(`aws s3api list-object-versions --prefix ${hiddenKey}`),
      },
      {
        manifest: manifestKey(day(2)),
        detail: `chain broken: its last line names ${hiddenKey}, which was deleted`,
      },
    ]);
    // Past the newest manifest nothing is hidden: the nightly run goes on.
    expect((await writeManifests(deps)).written).toEqual([]);
  });
});

/** The day before `date`. */
function prior(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
}
