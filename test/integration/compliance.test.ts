/**
 * The compliance archive on the local stack against simulators over HTTP: reconcile (with
 * tampering and repair), verified delete-at-source, legal hold and erasure, manifests and
 * verify. s3rver has no Object Lock and no versioning: the local store enforces hold and
 * retention itself, which these tests exercise.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoProviderSlots } from '../../lambdas/aws/dynamo-slots.ts';
import { type CallvaultConfig, maxConcurrencyOf, parseConfig } from '../../lambdas/core/config.ts';
import { deleteAtSource } from '../../lambdas/core/delete-at-source.ts';
import { eraseRecording, holdRecording, releaseRecording } from '../../lambdas/core/erasure.ts';
import { ObjectLockedError } from '../../lambdas/core/errors.ts';
import { objectKeyPrefix, recordingId } from '../../lambdas/core/ids.ts';
import { manifestKey, verifyManifests } from '../../lambdas/core/manifest.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { reconcileAccount, VERIFY_CONCURRENCY } from '../../lambdas/core/reconcile.ts';
import { createDeleteAtSourceHandler, DELETE_MARGIN_MS } from '../../lambdas/handlers/delete-at-source.ts';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile.ts';
import {
  type ComplianceContext,
  formatDeleteAtSource,
  runDeleteAtSource,
  runReconcile,
} from '../../local/compliance.ts';
import { harvest, harvestSucceeded } from '../../local/harvest.ts';
import { LocalArchiveStore } from '../../local/locked-store.ts';
import { BandwidthSimulator, bandwidthSimulatorAccount } from '../../local/simulators/bandwidth.ts';
import { sampleRecordings } from '../../local/simulators/base.ts';
import {
  RestcommSimulator,
  restcommRecordings,
  restcommSid,
  restcommSimulatorAccount,
} from '../../local/simulators/restcomm.ts';
import { LOCAL_BUCKET, LOCAL_TABLE } from '../../local/stack.ts';
import { writeThrough } from '../helpers/manifests.ts';
import { failedEntry, jobDepsOf, startTestStack, type TestStack } from '../helpers/stack.ts';

const DAY = 86_400_000;

describe('compliance archive on the local stack', () => {
  let restcomm: RestcommSimulator;
  let bandwidth: BandwidthSimulator;
  let stack: TestStack;
  let config: CallvaultConfig;
  let context: ComplianceContext;

  const entryOf = async (accountId: string, providerRecordingId: string): Promise<IndexEntry> => {
    const entry = await stack.archive.index.get(recordingId({ accountId, providerRecordingId }));
    if (!entry) throw new Error(`no entry for ${providerRecordingId}`);
    return entry;
  };
  const putBytes = (key: string, body: string) =>
    stack.archive.s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKET, Key: key, Body: body }));
  const reconcile = (repair = false) => runReconcile(context, config, { repair });

  beforeAll(async () => {
    restcomm = new RestcommSimulator({ recordings: restcommRecordings(4, { prefix: 'rc' }) });
    const recent = Date.now() - 2 * DAY;
    bandwidth = new BandwidthSimulator({
      recordings: sampleRecordings(2, { start: new Date(recent), makeId: (index) => `r-bw-${index}` }).map(
        (recording, index) => ({ ...recording, callId: `c-bw-${index}` }),
      ),
    });
    await Promise.all([restcomm.start(), bandwidth.start()]);
    const accounts = [
      { ...restcommSimulatorAccount(restcomm, 'rc'), deleteAtSource: { afterDays: 0 } },
      bandwidthSimulatorAccount(bandwidth, 'bw'),
    ];
    config = parseConfig({ accounts });
    stack = await startTestStack(config.accounts);
    context = {
      archive: stack.archive,
      adapterFor: stack.runtime.adapterFor,
      slots: stack.runtime.slots,
      starter: stack.runtime.starter,
      waitFor: (names) => stack.waitFor(names),
    };
    expect(harvestSucceeded(await harvest(stack))).toBe(true);
    // Listed after the harvest, still processing 25 days after the call: Bandwidth deletes it at 30.
    const [late] = sampleRecordings(1, { start: new Date(Date.now() - 25 * DAY), makeId: () => 'r-bw-late' });
    if (late) bandwidth.add({ ...late, callId: 'c-bw-late', readyAt: Number.POSITIVE_INFINITY });
  }, 120_000);

  afterAll(async () => {
    await stack?.dispose();
    await Promise.all([restcomm?.stop(), bandwidth?.stop()]);
  });

  it('reports only the recording about to expire after a clean harvest, in the exact JSON shape', async () => {
    const run = await reconcile();
    expect(run.exitCode).toBe(1);
    expect(JSON.parse(JSON.stringify(run.report))).toEqual({
      accounts: [
        { accountId: 'rc', provider: 'restcomm', listed: 4, archived: 4, gaps: [] },
        {
          accountId: 'bw',
          provider: 'bandwidth',
          listed: 3,
          archived: 2,
          gaps: [
            {
              kind: 'expiring',
              id: recordingId({ accountId: 'bw', providerRecordingId: 'r-bw-late' }),
              providerRecordingId: 'r-bw-late',
              detail: expect.stringMatching(
                /^not archived; the provider deletes it at .* \(4 days left, retention 30 days\)$/,
              ),
            },
          ],
        },
      ],
    });
    bandwidth.markDeleted('r-bw-late');
    expect((await reconcile()).exitCode).toBe(0);
  });

  it('reads the archived objects back several at a time, and reports what one at a time would', async () => {
    const store = stack.archive.store;
    let reading = 0;
    let mostAtOnce = 0;
    // The real store, counting the reads under way (from the request to the end of the body).
    const counting: LocalArchiveStore = Object.assign(Object.create(store), {
      async readVersion(key: string, versionId?: string) {
        reading += 1;
        mostAtOnce = Math.max(mostAtOnce, reading);
        const body = await store.readVersion(key, versionId);
        body.once('close', () => {
          reading -= 1;
        });
        return body;
      },
    });
    const account = config.accounts.find((candidate) => candidate.id === 'rc');
    if (!account) throw new Error('no account rc');
    const check = async (withStore: LocalArchiveStore) =>
      (
        await reconcileAccount({
          account,
          source: await stack.runtime.adapterFor('rc'),
          index: stack.archive.index,
          store: withStore,
        })
      ).report;

    expect(await check(counting)).toEqual(await check(store));
    expect((await check(counting)).archived).toBe(4);
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(VERIFY_CONCURRENCY);
  });

  it('finds a recording that appeared after the harvest, a deleted object, altered bytes and an orphan; repair fixes all but the orphan', async () => {
    const late = restcommRecordings(5, { prefix: 'rc' })[4];
    if (!late) throw new Error('no fifth recording');
    restcomm.add(late);
    const [first, second] = [
      await entryOf('rc', restcommSid('RE', 'rc-0')),
      await entryOf('rc', restcommSid('RE', 'rc-1')),
    ];
    await stack.archive.s3.send(new DeleteObjectCommand({ Bucket: LOCAL_BUCKET, Key: first.key }));
    await putBytes(second.key as string, 'not the audio any more');
    const stray = 'recordings/rc/2026/11/01/stray.wav';
    await putBytes(stray, 'orphan');
    // Beside an archived recording's object, one its entry does not name: an orphan too.
    const sibling = (second.key as string).replace(/\.[^./]+$/, '.mp3');
    await putBytes(sibling, 'a second copy');

    const before = await reconcile();
    expect(before.exitCode).toBe(1);
    const kinds = (before.report.accounts[0]?.gaps ?? []).map((gap) => [gap.kind, gap.providerRecordingId]);
    const orphans = [
      [sibling, second.providerRecordingId],
      [stray, 'stray'],
    ].sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1));
    expect(kinds).toEqual([
      ['missing', late.id],
      ['object-missing', first.providerRecordingId],
      ['hash-mismatch', second.providerRecordingId],
      ...orphans.map(([, name]) => ['orphan-object', name]),
    ]);

    const after = await reconcile(true);
    expect(after.repair).toMatchObject({ rearchived: [first.id, second.id], failed: [] });
    expect(after.repair?.started).toHaveLength(1);
    expect(after.report.accounts[0]?.gaps.map((gap) => gap.key)).toEqual(orphans.map(([key]) => key));
    expect(after.report.accounts[0]).toMatchObject({ listed: 5, archived: 5 });
    // The bytes archived again are the provider's, as first indexed; the archive date stays.
    const repaired = await entryOf('rc', first.providerRecordingId);
    expect(repaired).toMatchObject({ sha256: first.sha256, archivedAt: first.archivedAt });
    expect(repaired.repairedAt).toBeDefined();

    // A provider's copy that is not what was archived repairs nothing: the indexed hash stays.
    const third = await entryOf('rc', restcommSid('RE', 'rc-3'));
    const archivedHash = 'f'.repeat(64);
    await stack.archive.index.patch(third.id, { sha256: archivedHash });
    const refused = await reconcile(true);
    expect(refused.repair?.rearchived).toEqual([]);
    expect(refused.repair?.failed.map((failure) => [failure.gap.id, failure.reason])).toEqual([
      [third.id, expect.stringContaining("the provider's copy is not what was archived")],
    ]);
    expect(await entryOf('rc', third.providerRecordingId)).toMatchObject({
      sha256: archivedHash,
      archivedAt: third.archivedAt,
    });
    await stack.archive.index.patch(third.id, { sha256: third.sha256 });
    for (const [key] of orphans)
      await stack.archive.s3.send(new DeleteObjectCommand({ Bucket: LOCAL_BUCKET, Key: key }));
  });

  it('dry-run deletes nothing; a recording whose archive fails verification is never deleted at source', async () => {
    const tampered = await entryOf('rc', restcommSid('RE', 'rc-2'));
    await putBytes(tampered.key as string, 'tampered');

    const dry = await runDeleteAtSource(context, config, { dryRun: true });
    expect(dry.result.deleted).toHaveLength(4);
    expect(dry.result.unverified.map((item) => item.id)).toEqual([tampered.id]);
    expect(restcomm.count('delete')).toBe(0);

    // The deployed job with no time left beyond its margin: everything due is left to the next run.
    const lines: string[] = [];
    const boxed = createDeleteAtSourceHandler(jobDepsOf(stack, (line) => lines.push(line)));
    expect(await boxed(undefined, { getRemainingTimeInMillis: () => DELETE_MARGIN_MS })).toEqual({
      deleted: 0,
      unverified: 0,
      failed: 0,
      remaining: 5,
      notDeletable: 0,
      held: 0,
    });
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      stage: 'delete-at-source',
      DeleteAtSourceRemaining: 5,
    });
    expect(restcomm.count('delete')).toBe(0);

    // Every provider slot of the account held (by a harvest elsewhere): the deletions wait for
    // one, then are left to the next run, neither pushing the provider past its limit nor failing.
    const rc = config.accounts.find((account) => account.id === 'rc');
    if (!rc) throw new Error('no account rc');
    const holder = new DynamoProviderSlots(stack.archive.dynamo, LOCAL_TABLE);
    const leases = await Promise.all(
      Array.from({ length: maxConcurrencyOf(rc) }, () => holder.acquire('rc', maxConcurrencyOf(rc))),
    );
    const busy = createDeleteAtSourceHandler({
      ...jobDepsOf(stack, () => undefined),
      slots: new DynamoProviderSlots(stack.archive.dynamo, LOCAL_TABLE, { waitMs: 200 }),
    });
    expect(await busy()).toEqual({
      deleted: 0,
      unverified: 1,
      failed: 0,
      remaining: 4,
      notDeletable: 0,
      held: 0,
    });
    expect(restcomm.count('delete')).toBe(0);
    await Promise.all(leases.map((lease) => lease.release()));

    // A legal hold keeps the provider's copy too: one held before the run, one held while the
    // run reads its object back (after the page was listed).
    const heldBefore = await entryOf('rc', restcommSid('RE', 'rc-1'));
    const heldDuring = await entryOf('rc', restcommSid('RE', 'rc-3'));
    await holdRecording(heldBefore.id, { by: 'legal', reason: 'case 7' }, stack.archive);
    const store = stack.archive.store;
    const holdingWhileRead: typeof store = Object.assign(Object.create(store), {
      readVersion: async (key: string, versionId?: string) => {
        if (key === heldDuring.key) await holdRecording(heldDuring.id, { by: 'legal' }, stack.archive);
        return store.readVersion(key, versionId);
      },
    });
    const whileHeld = await deleteAtSource({
      accounts: config.accounts,
      deleterFor: context.adapterFor,
      index: stack.archive.index,
      store: holdingWhileRead,
    });
    expect(whileHeld).toMatchObject({ held: 2, unverified: [{ id: tampered.id }], failed: [] });
    expect(whileHeld.deleted).toHaveLength(2);
    expect(formatDeleteAtSource(whileHeld)).toContain('2 under legal hold');
    expect(restcomm.count('delete')).toBe(2);
    for (const held of [heldBefore, heldDuring]) {
      expect(restcomm.recordings.get(held.providerRecordingId)?.deleted).toBeFalsy();
      expect((await entryOf('rc', held.providerRecordingId)).deletedAtSourceAt).toBeUndefined();
      await releaseRecording(held.id, stack.archive);
    }

    // Released: the next run deletes them.
    const real = await runDeleteAtSource(context, config);
    expect(real.exitCode).toBe(1);
    expect(real.result.deleted.map((item) => item.id).sort()).toEqual([heldBefore.id, heldDuring.id].sort());
    expect(real.result.unverified[0]?.detail).toContain('hash-mismatch');
    expect(restcomm.count('delete')).toBe(4);
    expect(restcomm.recordings.get(tampered.providerRecordingId)?.deleted).toBeFalsy();
    const deleted = await entryOf('rc', restcommSid('RE', 'rc-0'));
    expect(deleted.deletedAtSourceAt).toBeDefined();
    expect(deleted.deleteAtSourceAnswer).toMatch(/^HTTP 2\d\d, deleted$/);
    // Bandwidth is not configured to delete at source: untouched.
    expect(bandwidth.count('delete')).toBe(0);

    // A later sweep is no failure, and reconcile sees no gap for what callvault deleted.
    expect(harvestSucceeded(await harvest(stack))).toBe(true);
    const gaps = (await reconcile()).report.accounts[0]?.gaps ?? [];
    expect(gaps.map((gap) => [gap.kind, gap.id])).toEqual([['hash-mismatch', tampered.id]]);
    // Repaired from the provider, which still has it; then it verifies and is deleted.
    expect((await reconcile(true)).exitCode).toBe(0);
    // A 429 that outlasts the transport's retries leaves it to the next run, and slows the account.
    restcomm.inject({ kind: 'rate-limit', on: 'delete', times: 5, retryAfterSeconds: 0 });
    const throttled = await runDeleteAtSource(context, config);
    expect(throttled).toMatchObject({ exitCode: 0, result: { deleted: [], failed: [], remaining: 1 } });
    expect(formatDeleteAtSource(throttled.result)).toContain('left to the next run: 1');
    const again = await runDeleteAtSource(context, config);
    expect(again).toMatchObject({ exitCode: 0, result: { deleted: [{ id: tampered.id }], unverified: [] } });
  });

  it('a legal hold blocks erasure (the local store refuses too); released, erasure leaves a tombstone', async () => {
    const target = await entryOf('bw', 'r-bw-0');
    const key = target.key as string;
    await holdRecording(target.id, { by: 'legal', reason: 'case 42' }, stack.archive);
    expect((await entryOf('bw', 'r-bw-0')).legalHold).toMatchObject({ by: 'legal', reason: 'case 42' });
    await expect(eraseRecording(target.id, 'GDPR art. 17', stack.archive)).rejects.toThrow(/legal hold/);
    // s3rver has no Object Lock: the store itself refuses to delete or overwrite a held object.
    await expect(stack.archive.store.deleteVersion(key, null)).rejects.toBeInstanceOf(ObjectLockedError);
    await expect(stack.archive.store.putDocument(key, 'x', 'text/plain')).rejects.toBeInstanceOf(
      ObjectLockedError,
    );
    expect((await stack.archive.store.head(key))?.legalHold).toBe(true);

    await releaseRecording(target.id, stack.archive);
    const { entry, versionsDeleted } = await eraseRecording(target.id, 'GDPR art. 17', stack.archive);
    expect(versionsDeleted).toBe(1);
    expect(await stack.archive.store.head(key)).toBeUndefined();
    const tombstone = await entryOf('bw', 'r-bw-0');
    expect(tombstone).toMatchObject({ status: 'erased', reason: 'GDPR art. 17', sha256: target.sha256 });
    expect(tombstone.erasedAt).toBe(entry.erasedAt);
    expect(tombstone.raw).toBeUndefined();
    expect(tombstone.from).toBeUndefined();
    expect(tombstone.legalHold).toBeUndefined();
    const listed = await stack.archive.index.query({ status: 'erased' });
    expect(listed.items.map((item) => item.id)).toEqual([target.id]);
  });

  it('an erased recording is never archived again: not by a sweep, a webhook-started execution or repair', async () => {
    const id = recordingId({ accountId: 'bw', providerRecordingId: 'r-bw-0' });
    const downloads = bandwidth.count('audio');
    expect(harvestSucceeded(await harvest(stack))).toBe(true);
    // What a webhook or a backfill does: start the workflow for the recording directly.
    await stack.runtime.starter.start('bw-erased-direct', {
      ref: { accountId: 'bw', provider: 'bandwidth', providerRecordingId: 'r-bw-0', callId: 'c-bw-0' },
    });
    const [direct] = await stack.waitFor(['bw-erased-direct']);
    expect(direct?.output).toMatchObject({ decision: 'done', reason: 'erased' });
    const run = await reconcile(true);
    expect(run.report.accounts[1]?.gaps).toEqual([]);
    expect(bandwidth.count('audio')).toBe(downloads);
    expect((await stack.archive.index.get(id))?.status).toBe('erased');
  });

  it('refuses to erase inside a compliance-mode retention; governance-mode retention is bypassed', async () => {
    const compliance = new LocalArchiveStore(stack.archive.s3, LOCAL_BUCKET, {
      mode: 'compliance',
      days: 30,
    });
    const governance = new LocalArchiveStore(stack.archive.s3, LOCAL_BUCKET, {
      mode: 'governance',
      days: 30,
    });
    const index = stack.archive.index;
    const locked = await entryOf('bw', 'r-bw-1');
    await compliance.putDocument('recordings/bw/retained.txt', 'kept', 'text/plain');
    await index.patch(locked.id, { key: 'recordings/bw/retained.txt' });
    await expect(eraseRecording(locked.id, 'request', { index, store: compliance })).rejects.toThrow(
      /compliance-mode retention until/,
    );
    await expect(
      compliance.deleteVersion('recordings/bw/retained.txt', null, { bypassGovernance: true }),
    ).rejects.toBeInstanceOf(ObjectLockedError);
    await governance.putDocument('recordings/bw/governed.txt', 'kept', 'text/plain');
    await expect(governance.deleteVersion('recordings/bw/governed.txt', null)).rejects.toBeInstanceOf(
      ObjectLockedError,
    );
    await index.patch(locked.id, { key: 'recordings/bw/governed.txt' });
    await expect(eraseRecording(locked.id, 'request', { index, store: governance })).resolves.toMatchObject({
      versionsDeleted: 1,
    });
  });

  it('an object whose lock write was lost (a crash between the two) is locked when the archive step finds it again', async () => {
    const prefix = objectKeyPrefix(
      { accountId: 'bw', provider: 'bandwidth', providerRecordingId: 'r-unlocked' },
      undefined,
    );
    // What the crash leaves: the object, no lock document.
    await new LocalArchiveStore(stack.archive.s3, LOCAL_BUCKET).putDocument(
      `${prefix}wav`,
      'audio',
      'audio/wav',
    );
    const store = new LocalArchiveStore(stack.archive.s3, LOCAL_BUCKET, { mode: 'compliance', days: 30 });
    expect((await store.head(`${prefix}wav`))?.retention).toBeUndefined();
    // The retried round's recovery: findStored → find.
    expect((await store.find(prefix))?.key).toBe(`${prefix}wav`);
    expect((await store.head(`${prefix}wav`))?.retention).toMatchObject({ mode: 'compliance' });
    await expect(store.deleteVersion(`${prefix}wav`, null)).rejects.toBeInstanceOf(ObjectLockedError);
  });

  it('an erasure or a hold stopped halfway is finished by the same command, and nothing downloads the audio again', async () => {
    const target = await entryOf('rc', restcommSid('RE', 'rc-3'));
    const key = target.key as string;
    // The hold reached the object, then the process died before the entry's hold was written.
    await stack.archive.store.setLegalHold(key, true);
    await expect(eraseRecording(target.id, 'request', stack.archive)).rejects.toThrow(/under legal hold/);
    await releaseRecording(target.id, stack.archive);
    expect((await stack.archive.store.head(key))?.legalHold).toBe(false);

    // The tombstone was written, then the deletes failed (a crash, an S3 error).
    const store = stack.archive.store;
    const failingDeletes: typeof store = Object.assign(Object.create(store), {
      deleteVersion: async () => {
        throw new Error('the process died');
      },
    });
    await expect(
      eraseRecording(target.id, 'request', { index: stack.archive.index, store: failingDeletes }),
    ).rejects.toThrow('the process died');
    expect(await entryOf('rc', target.providerRecordingId)).toMatchObject({
      status: 'erased',
      reason: 'request',
    });
    const downloads = restcomm.count('audio');
    expect((await reconcile(true)).repair?.rearchived).toEqual([]);
    expect(restcomm.count('audio')).toBe(downloads);
    // Run again, the erasure deletes what is left; a third run has nothing left to do.
    expect((await eraseRecording(target.id, 'request', stack.archive)).versionsDeleted).toBe(1);
    expect(await store.head(key)).toBeUndefined();
    await expect(eraseRecording(target.id, 'request', stack.archive)).rejects.toThrow(/was erased at/);
  });

  it('erasing a failed or skipped entry deletes the object an Archive step stored without its outcome', async () => {
    const index = stack.archive.index;
    const ref = {
      accountId: 'bw',
      provider: 'bandwidth' as const,
      providerRecordingId: 'r-lost',
      callId: 'c-lost',
    };
    const startedAt = '2026-11-02T10:00:00.000Z';
    // Stored, then the record step failed for good: the execution was indexed as failed, keyless.
    const dated = `${objectKeyPrefix(ref, startedAt)}wav`;
    const undated = `${objectKeyPrefix(ref, undefined)}mp3`;
    // Recording `r-lost.1`'s object starts with `r-lost.` too: it is not this one's.
    const neighbour = `${objectKeyPrefix({ ...ref, providerRecordingId: 'r-lost.1' }, startedAt)}wav`;
    for (const key of [dated, undated, neighbour]) await putBytes(key, 'audio');
    await index.put({ ...failedEntry(ref), startedAt, from: '+15550100', raw: '{"from":"+15550100"}' });

    const { entry, versionsDeleted } = await eraseRecording(
      recordingId(ref),
      'subject request',
      stack.archive,
    );
    expect(versionsDeleted).toBe(2);
    expect(entry).toMatchObject({ status: 'erased' });
    expect(await stack.archive.store.head(dated)).toBeUndefined();
    expect(await stack.archive.store.head(undated)).toBeUndefined();
    expect(await stack.archive.store.head(neighbour)).toBeDefined();
    const tombstone = await index.get(recordingId(ref));
    expect(tombstone).toMatchObject({ status: 'erased', reason: 'subject request' });
    expect(tombstone?.from).toBeUndefined();
    expect(tombstone?.raw).toBeUndefined();

    // Inside a compliance-mode retention, such an object stops the erasure as an indexed one does.
    const compliance = new LocalArchiveStore(stack.archive.s3, LOCAL_BUCKET, {
      mode: 'compliance',
      days: 30,
    });
    const kept = { ...ref, providerRecordingId: 'r-kept' };
    await compliance.putDocument(`${objectKeyPrefix(kept, undefined)}wav`, 'audio', 'audio/wav');
    await index.put({ ...failedEntry(kept), status: 'skipped', reason: 'gone at the provider' });
    await expect(eraseRecording(recordingId(kept), 'request', { index, store: compliance })).rejects.toThrow(
      /compliance-mode retention until/,
    );
    expect((await index.get(recordingId(kept)))?.status).toBe('skipped');
    await stack.archive.s3.send(new DeleteObjectCommand({ Bucket: LOCAL_BUCKET, Key: neighbour }));
  });

  it('the deployed daily jobs run the same core: a report in the bucket, one metric line per account', async () => {
    const lines: string[] = [];
    const now = new Date();
    // What the deployed jobs get: the archive's index and store, metric lines on stdout.
    const jobDeps = jobDepsOf(stack, (line) => lines.push(line));
    const reconcileJob = createReconcileHandler({ ...jobDeps, now: () => now });
    const { key, gaps } = await reconcileJob();
    expect(key).toBe(
      `reports/reconcile/${now.toISOString().slice(0, 4)}/${now.toISOString().slice(5, 7)}/${now.toISOString().slice(8, 10)}.json`,
    );
    const stored = JSON.parse(await readText(key)) as { accounts: { accountId: string; gaps: unknown[] }[] };
    expect(stored.accounts.map((account) => account.accountId)).toEqual(['rc', 'bw']);
    expect(gaps).toBe(stored.accounts.reduce((sum, account) => sum + account.gaps.length, 0));
    const metrics = lines.map((line) => JSON.parse(line));
    expect(metrics).toEqual([
      expect.objectContaining({
        account: 'rc',
        stage: 'reconcile',
        ReconcileGaps: stored.accounts[0]?.gaps.length,
        // No report the day before: every gap is new.
        NewReconcileGaps: stored.accounts[0]?.gaps.length,
        ExpiringRecordings: 0,
      }),
      expect.objectContaining({
        account: 'bw',
        stage: 'reconcile',
        ReconcileGaps: stored.accounts[1]?.gaps.length,
        NewReconcileGaps: stored.accounts[1]?.gaps.length,
        ExpiringRecordings: 0,
      }),
    ]);
    expect(metrics[0]._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'callvault',
      Dimensions: [['stage'], ['account']],
      Metrics: [
        { Name: 'ReconcileGaps', Unit: 'Count' },
        { Name: 'NewReconcileGaps', Unit: 'Count' },
        { Name: 'ExpiringRecordings', Unit: 'Count' },
      ],
    });
    // The orphan an earlier test left lasts: the next day it is a gap again, but not a new one.
    expect(stored.accounts.some((account) => account.gaps.length > 0)).toBe(true);
    lines.length = 0;
    const nextDay = new Date(now.getTime() + 86_400_000);
    await createReconcileHandler({ ...jobDeps, now: () => nextDay })();
    expect(lines.map((line) => JSON.parse(line))).toEqual(
      stored.accounts.map((account) =>
        expect.objectContaining({
          account: account.accountId,
          ReconcileGaps: account.gaps.length,
          NewReconcileGaps: 0,
        }),
      ),
    );

    const deleteJob = createDeleteAtSourceHandler(jobDeps);
    // Everything due was deleted at source already: nothing is asked of the provider again.
    const deletesBefore = restcomm.count('delete');
    expect(await deleteJob()).toEqual({
      deleted: 0,
      unverified: 0,
      failed: 0,
      remaining: 0,
      notDeletable: 0,
      held: 0,
    });
    expect(restcomm.count('delete')).toBe(deletesBefore);
  });

  it('manifests form a hash chain; verify names an altered object, a deleted object and an altered manifest', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
    // Today's archives are the ones under test, and a day is written once it has ended: tomorrow.
    const tomorrow = { ...stack.archive, now: () => new Date(Date.now() + DAY) };
    const first = await writeThrough(yesterday, stack.archive);
    expect(first).toMatchObject({ recordings: 0, previousManifest: null });
    const second = await writeThrough(today, tomorrow);
    expect(second.previousManifest).toBe(manifestKey(yesterday));
    await expect(writeThrough(today, tomorrow)).rejects.toThrow(/already exists/);

    const text = await readText(manifestKey(today));
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.at(-1)).toEqual({
      previousManifest: manifestKey(yesterday),
      previousSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const erased = lines.filter((line) => line.erasedAt);
    expect(erased.map((line) => line.id).sort()).toEqual(
      [
        recordingId({ accountId: 'bw', providerRecordingId: 'r-bw-0' }),
        recordingId({ accountId: 'bw', providerRecordingId: 'r-bw-1' }),
        // Failed, then erased by the test of failed entries: an erasure of the day all the same.
        recordingId({ accountId: 'bw', providerRecordingId: 'r-lost' }),
        // Erased by the test of an erasure stopped halfway.
        recordingId({ accountId: 'rc', providerRecordingId: restcommSid('RE', 'rc-3') }),
      ].sort(),
    );
    expect(Object.keys(lines[0])).toEqual(
      expect.arrayContaining(['id', 'key', 'versionId', 'bytes', 'sha256', 'archivedAt']),
    );
    expect(await verifyManifests(tomorrow)).toMatchObject({ manifests: 2, failures: [] });

    const altered = lines.find((line) => !line.erasedAt && line.key?.startsWith('recordings/rc/'));
    const removed = lines.find(
      (line) => !line.erasedAt && line.key?.startsWith('recordings/rc/') && line.id !== altered.id,
    );
    await putBytes(altered.key, 'altered');
    await stack.archive.s3.send(new DeleteObjectCommand({ Bucket: LOCAL_BUCKET, Key: removed.key }));
    await putBytes(manifestKey(yesterday), `${await readText(manifestKey(yesterday))}{"id":"forged"}\n`);
    const broken = await verifyManifests(tomorrow);
    expect(broken.failures).toEqual(
      expect.arrayContaining([
        { manifest: manifestKey(today), id: undefined, detail: expect.stringContaining('chain broken') },
        { manifest: manifestKey(today), id: altered.id, detail: expect.stringContaining('holds 7 bytes') },
        { manifest: manifestKey(today), id: removed.id, detail: expect.stringContaining('is missing') },
      ]),
    );
  });

  async function readText(key: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await stack.archive.store.read(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
});
