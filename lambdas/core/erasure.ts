/**
 * Legal hold and erasure. A hold is set on the object (S3 legal hold deployed; the local store
 * keeps its own) and on the index entry (who, when, why). An erasure deletes every stored version
 * of the audio and the raw provider record, and leaves a tombstone: `status: "erased"`,
 * `erasedAt`, the reason, the SHA-256 kept as evidence. It refuses a held recording and one inside
 * a compliance-mode retention; governance-mode retention is bypassed, as it allows.
 */
import { ObjectLockedError, UsageError } from './errors.ts';
import { firstRound } from './hand-over.ts';
import { executionName, isObjectAt, objectKeyPrefix } from './ids.ts';
import type { ComplianceIndex, ComplianceStore, IndexEntry, WorkflowStarter } from './ports.ts';

export interface ErasureDeps {
  index: ComplianceIndex;
  store: ComplianceStore;
  /**
   * The ingest workflow, asked whether the recording's execution is running: erasing a recording
   * not archived yet while its Archive step downloads would leave an unindexed object behind.
   */
  ingest?: Pick<WorkflowStarter, 'status'>;
  now?: () => Date;
}

async function requireEntry(index: ComplianceIndex, id: string): Promise<IndexEntry> {
  const entry = await index.get(id);
  if (!entry) throw new UsageError(`no recording with id ${id}`);
  if (entry.status === 'erased') throw new UsageError(`recording ${id} was erased at ${entry.erasedAt}`);
  return entry;
}

export async function holdRecording(
  id: string,
  hold: { by: string; reason?: string },
  deps: ErasureDeps,
): Promise<IndexEntry> {
  const entry = await requireEntry(deps.index, id);
  if (entry.status !== 'archived' || !entry.key) {
    throw new UsageError(`recording ${id} is ${entry.status}: there is no archived audio to hold`);
  }
  await deps.store.setLegalHold(entry.key, true);
  const legalHold = { by: hold.by, at: (deps.now?.() ?? new Date()).toISOString(), reason: hold.reason };
  await deps.index.patch(id, { legalHold, updatedAt: legalHold.at });
  return { ...entry, legalHold };
}

export async function releaseRecording(id: string, deps: ErasureDeps): Promise<IndexEntry> {
  const entry = await requireEntry(deps.index, id);
  // A hold sets the object's hold before the entry's: one stopped in between left the object
  // held, and releasing clears it.
  const objectHeld = entry.key !== undefined && (await deps.store.head(entry.key))?.legalHold === true;
  if (!entry.legalHold && !objectHeld) throw new UsageError(`recording ${id} is not under legal hold`);
  if (entry.key) await deps.store.setLegalHold(entry.key, false);
  await deps.index.patch(
    id,
    { updatedAt: (deps.now?.() ?? new Date()).toISOString() },
    { remove: ['legalHold'] },
  );
  const { legalHold: _released, ...released } = entry;
  return released;
}

export async function eraseRecording(
  id: string,
  reason: string,
  deps: ErasureDeps,
): Promise<{ entry: IndexEntry; versionsDeleted: number }> {
  if (!reason.trim()) throw new UsageError('an erasure needs a --reason');
  const entry = await deps.index.get(id);
  if (!entry) throw new UsageError(`no recording with id ${id}`);
  const now = deps.now?.() ?? new Date();
  if (entry.legalHold) {
    throw new ObjectLockedError(
      `recording ${id} is under legal hold (set by ${entry.legalHold.by} at ${entry.legalHold.at}${entry.legalHold.reason ? `: ${entry.legalHold.reason}` : ''}); release it first`,
    );
  }
  if (entry.status !== 'archived' && entry.status !== 'erased' && deps.ingest)
    await refuseWhileArchiving(entry, deps.ingest);
  const keys = await storedKeysOf(entry, deps.store);
  // Erased already: done, unless an erasure stopped between its tombstone and its deletes.
  if (entry.status === 'erased' && keys.length === 0)
    throw new UsageError(`recording ${id} was erased at ${entry.erasedAt}`);
  // Every object is checked before anything changes: a refusal leaves the recording whole.
  for (const key of keys) {
    const state = await deps.store.head(key);
    if (state?.legalHold)
      throw new ObjectLockedError(`recording ${id}: its object ${key} is under legal hold`);
    if (state?.retention?.mode === 'compliance' && Date.parse(state.retention.until) > now.getTime()) {
      throw new ObjectLockedError(
        `recording ${id} is inside its compliance-mode retention until ${state.retention.until}: it cannot be erased before`,
      );
    }
  }
  // The tombstone first: an erasure stopped after it leaves audio that nothing archives or
  // repairs again (erased is final) and that the same command, run again, deletes. The other way
  // round, a stop in between left an archived entry with no object, which repair downloads again.
  let erased = entry;
  if (entry.status !== 'erased') {
    const erasedAt = now.toISOString();
    const tombstone = { status: 'erased' as const, erasedAt, reason, updatedAt: erasedAt };
    // The raw provider record and the phone numbers go with the audio; id, key and SHA-256 stay.
    const written = await deps.index.patch(id, tombstone, {
      remove: ['raw', 'from', 'to', 'errorName'],
      expectStatus: entry.status,
    });
    if (!written)
      throw new UsageError(`recording ${id} changed while it was being erased; run the erasure again`);
    const { raw: _raw, from: _from, to: _to, errorName: _errorName, ...kept } = entry;
    erased = { ...kept, ...tombstone };
  }
  let versionsDeleted = 0;
  for (const key of keys) {
    for (const versionId of await deps.store.versions(key)) {
      await deps.store.deleteVersion(key, versionId, { bypassGovernance: true });
      versionsDeleted += 1;
    }
  }
  return { entry: erased, versionsDeleted };
}

/**
 * The recording's objects still stored. An archived entry (and its tombstone) names its own. One
 * that is not archived may still have one: stored by an Archive step whose outcome was never written (its record step failed,
 * the execution timed out), then indexed as failed or, the provider's copy gone since, skipped.
 * Such an object sits under the key the workflow gives it: the start date's folder, or
 * `undated/`. (One stored under a date the entry does not know is reconcile's orphan-object.)
 */
async function storedKeysOf(entry: IndexEntry, store: ComplianceStore): Promise<string[]> {
  // By its versions: where the current one is a delete marker, older ones still hold the audio.
  if (entry.key) return (await store.versions(entry.key)).length > 0 ? [entry.key] : [];
  const keys: string[] = [];
  for (const prefix of new Set([
    objectKeyPrefix(entry, entry.startedAt),
    objectKeyPrefix(entry, undefined),
  ])) {
    for await (const object of store.list(prefix)) if (isObjectAt(prefix, object.key)) keys.push(object.key);
  }
  return keys;
}

/**
 * An entry that is not archived may have an execution under way: its round's (still running
 * after a crash of its record step) or the next one's (a retry, a sweep). Its Archive step reads
 * the entry just before downloading, but one already downloading would still write the object.
 */
async function refuseWhileArchiving(
  entry: IndexEntry,
  ingest: Pick<WorkflowStarter, 'status'>,
): Promise<void> {
  const rounds = new Set([entry.round ?? 0, firstRound(entry) ?? 0]);
  for (const round of rounds) {
    const name = executionName(entry, round);
    if ((await ingest.status(name)) === 'running') {
      throw new UsageError(
        `recording ${entry.id} is being archived right now (execution ${name}); erase it once that execution has ended`,
      );
    }
  }
}
