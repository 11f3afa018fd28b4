/**
 * Reconcile: prove nothing is missing. Lists an account at the provider (the same adapters the
 * sweeps use) and the archive side (index entries and objects), and reports every gap:
 * a ready recording never archived, an archived object that is gone or whose bytes no longer
 * hash to the index, an object no entry knows, a recording about to expire at the provider.
 * Repair hands `missing` recordings to the workflow and re-archives broken objects from the
 * provider. Erased recordings and ones deleted at source by callvault are accounted for.
 */
import pMap from 'p-map';
import type { AccountConfig } from './config.ts';
import { providerRetentionDays } from './config.ts';
import { handOver } from './hand-over.ts';
import { listingOrder, recordingId } from './ids.ts';
import { eachIndexEntry } from './index-walk.ts';
import { type ArchiveDeps, downloadToStore, hashStream, readText } from './ingest.ts';
import type {
  CompletePass,
  ComplianceIndex,
  ComplianceStore,
  IndexEntry,
  RecordingIndex,
  VerificationProgress,
  VerificationProgressStore,
  WorkflowStarter,
} from './ports.ts';
import { type Recording, type RecordingRef, refOf } from './recording.ts';
import { retryInput } from './retry.ts';
import { isSpent, type TimeBox } from './time-box.ts';

export const GAP_KINDS = ['missing', 'object-missing', 'hash-mismatch', 'orphan-object', 'expiring'] as const;
export type GapKind = (typeof GAP_KINDS)[number];

export interface Gap {
  kind: GapKind;
  id?: string;
  providerRecordingId?: string;
  key?: string;
  detail: string;
}

export interface AccountReconcile {
  accountId: string;
  provider: string;
  /** Recordings the provider listed. */
  listed: number;
  /** Index entries of the account with status `archived`. */
  archived: number;
  /** Only for a time-boxed read-back (the deployed job): how far its rotating pass is. */
  verification?: VerificationReport;
  gaps: Gap[];
}

export interface VerificationReport {
  /** Archived objects re-read and hashed by this run. */
  objects: number;
  /** Archived objects the pass under way has still to re-read (0: this run completed it). */
  remaining: number;
  passStartedAt: string;
  lastPass?: CompletePass;
}

export interface ReconcileReport {
  accounts: AccountReconcile[];
}

/** What reconcile needs of an adapter: its listing. */
export interface RecordingSource {
  list(window: { since?: string; until?: string }): AsyncIterable<Recording>;
}

export interface ReconcileDeps {
  account: Pick<AccountConfig, 'id' | 'provider' | 'retentionDays' | 'expiryWarningDays'>;
  source: RecordingSource;
  index: RecordingIndex;
  store: ComplianceStore;
  now?: () => Date;
  /**
   * Re-read only until `deadline` (epoch ms, read from `clock`), resuming where the account's
   * last run stopped: an archive too large to re-read in one run is re-read over several.
   * Without it every archived object is re-read.
   */
  verification?: { progress: VerificationProgressStore } & TimeBox;
}

/** A gap plus what repair needs to act on it (kept out of the printed report). */
export interface FoundGap extends Gap {
  ref?: RecordingRef;
  entry?: IndexEntry;
}

const DAY_MS = 86_400_000;
/** Objects read back at once; each holds only its stream's buffers. */
export const VERIFY_CONCURRENCY = 16;
/** Objects read between two looks at a time-boxed run's deadline. */
const VERIFY_SLICE = VERIFY_CONCURRENCY * 4;
/** Recordings or objects looked up in the index at once (BatchGetItem takes 100 keys). */
const LOOKUP_BATCH = 100;

/** Where the deployed daily reconcile writes its report: `reports/reconcile/{yyyy}/{mm}/{dd}.json` (UTC). */
export function reconcileReportKey(now: Date): string {
  const [year, month, day] = now.toISOString().slice(0, 10).split('-');
  return `reports/reconcile/${year}/${month}/${day}.json`;
}

/**
 * The report the daily run wrote the day before, to tell new gaps from lasting ones; undefined
 * when that run wrote none.
 */
export async function previousReconcileReport(
  store: Pick<ComplianceStore, 'head' | 'read'>,
  now: Date,
): Promise<ReconcileReport | undefined> {
  const key = reconcileReportKey(new Date(now.getTime() - DAY_MS));
  if (!(await store.head(key))) return undefined;
  return JSON.parse(await readText(store, key)) as ReconcileReport;
}

/**
 * How many of an account's gaps its previous report did not have. A gap lasts until someone acts
 * on it, and an alarm notifies only when its state changes: counted every day, a lasting gap
 * would hold the alarm in ALARM and hide every later one.
 */
export function countNewGaps(gaps: readonly Gap[], previous: AccountReconcile | undefined): number {
  const identity = (gap: Gap) => JSON.stringify([gap.kind, gap.id, gap.providerRecordingId, gap.key]);
  const known = new Set((previous?.gaps ?? []).map(identity));
  return gaps.filter((gap) => !known.has(identity(gap))).length;
}

/** Whether the stored object matches the entry's size and SHA-256, re-read from the store. */
export async function verifyObject(
  store: ComplianceStore,
  entry: Pick<IndexEntry, 'key' | 'bytes' | 'sha256'>,
  versionId?: string,
): Promise<{ ok: true } | { ok: false; kind: 'object-missing' | 'hash-mismatch'; detail: string }> {
  const key = entry.key;
  if (!key) return { ok: false, kind: 'object-missing', detail: 'the index names no object key' };
  const head = await store.head(key);
  if (!head) return { ok: false, kind: 'object-missing', detail: `no object ${key} in the store` };
  const { bytes, sha256 } = await hashStream(await store.readVersion(key, versionId));
  if (bytes !== entry.bytes || sha256 !== entry.sha256) {
    return {
      ok: false,
      kind: 'hash-mismatch',
      detail: `stored ${bytes} bytes with SHA-256 ${sha256}; the index says ${entry.bytes} bytes, ${entry.sha256}`,
    };
  }
  return { ok: true };
}

async function* inBatches<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Neither side is held whole: the provider's listing, the index and the store are each streamed
 * and looked up in batches, so an account of millions of recordings takes the memory of a batch.
 */
export async function reconcileAccount(
  deps: ReconcileDeps,
): Promise<{ report: AccountReconcile; gaps: FoundGap[] }> {
  const { account } = deps;
  const now = deps.now?.() ?? new Date();
  const gaps: FoundGap[] = [];
  const listed = await checkListing(deps, now.getTime(), gaps);
  const { archived, report: verification } = await verifyArchived(deps, now, gaps);
  await findOrphans(deps, gaps);
  return {
    report: {
      accountId: account.id,
      provider: account.provider,
      listed,
      archived,
      ...(verification ? { verification } : {}),
      gaps: gaps.map(printable),
    },
    gaps,
  };
}

/** The provider's side: every recording it lists that is ready but not archived, or about to expire. */
async function checkListing(deps: ReconcileDeps, now: number, gaps: FoundGap[]): Promise<number> {
  const { account, index } = deps;
  const retentionDays = providerRetentionDays(account);
  const warningDays = account.expiryWarningDays ?? 7;
  let listed = 0;
  for await (const batch of inBatches(deps.source.list({}), LOOKUP_BATCH)) {
    listed += batch.length;
    const entries = await index.getMany(batch.map((recording) => recordingId(recording)));
    for (const recording of batch) {
      const id = recordingId(recording);
      const entry = entries.get(id);
      if (entry?.status === 'archived' || entry?.status === 'erased' || recording.readiness === 'gone')
        continue;
      const base = { id, providerRecordingId: recording.providerRecordingId, ref: refOf(recording), entry };
      if (recording.readiness === 'ready') {
        gaps.push({
          ...base,
          kind: 'missing',
          detail: entry
            ? `ready at the provider, index entry is ${entry.status}${entry.reason ? `: ${entry.reason}` : ''}`
            : 'ready at the provider, never archived',
        });
      }
      if (retentionDays !== undefined && recording.startedAt) {
        const expiresAt = Date.parse(recording.startedAt) + retentionDays * DAY_MS;
        if (expiresAt - now <= warningDays * DAY_MS) {
          const daysLeft = Math.max(0, Math.floor((expiresAt - now) / DAY_MS));
          gaps.push({
            ...base,
            kind: 'expiring',
            detail: `not archived; the provider deletes it at ${new Date(expiresAt).toISOString()} (${daysLeft} days left, retention ${retentionDays} days)`,
          });
        }
      }
    }
  }
  return listed;
}

/**
 * Re-reads and hashes archived objects, 16 at a time: against S3 each read first waits out its
 * own latency (one at a time, ~12,000 objects filled the Lambda's 15 minutes; bench/reconcile.ts).
 * A time-boxed run goes in listing order from where the account's last run stopped, until its
 * deadline, and saves where it stopped; the pass wraps round once every object was re-read.
 * An entry listed behind that position after the pass started waits for the next pass.
 */
async function verifyArchived(
  deps: ReconcileDeps,
  now: Date,
  gaps: FoundGap[],
): Promise<{ archived: number; report?: VerificationReport }> {
  const budget = deps.verification;
  const saved = budget ? await budget.progress.getVerification(deps.account.id) : undefined;
  const passStartedAt = saved?.passStartedAt ?? now.toISOString();
  const after = saved?.passStartedAt !== undefined ? saved.position : undefined;
  let archived = 0;
  let objects = 0;
  let remaining = 0;
  let position = after;
  let stopped = isSpent(budget);
  let slice: IndexEntry[] = [];
  const verifySlice = async () => {
    const verified = await pMap(slice, (entry) => verifyObject(deps.store, entry), {
      concurrency: VERIFY_CONCURRENCY,
    });
    slice.forEach((entry, at) => {
      const outcome = verified[at];
      if (outcome && !outcome.ok) gaps.push(objectGap(entry, outcome));
    });
    objects += slice.length;
    position = listingOrder(slice[slice.length - 1] as IndexEntry);
    slice = [];
    stopped = isSpent(budget);
  };
  for await (const entry of eachIndexEntry(deps.index, { accountId: deps.account.id })) {
    if (entry.status !== 'archived') continue;
    archived += 1;
    if (after !== undefined && listingOrder(entry) <= after) continue;
    if (stopped) {
      remaining += 1;
      continue;
    }
    slice.push(entry);
    if (slice.length === VERIFY_SLICE) await verifySlice();
  }
  if (slice.length > 0) await verifySlice();
  if (!budget) return { archived };
  const lastPass: CompletePass | undefined =
    remaining === 0 ? { startedAt: passStartedAt, completedAt: now.toISOString() } : saved?.lastPass;
  const kept = lastPass ? { lastPass } : {};
  const progress: VerificationProgress =
    remaining === 0 ? kept : { ...(position !== undefined ? { position } : {}), passStartedAt, ...kept };
  await budget.progress.setVerification(deps.account.id, progress);
  return { archived, report: { objects, remaining, passStartedAt, ...kept } };
}

function objectGap(
  entry: IndexEntry,
  verified: { kind: 'object-missing' | 'hash-mismatch'; detail: string },
): FoundGap {
  return {
    kind: verified.kind,
    id: entry.id,
    providerRecordingId: entry.providerRecordingId,
    key: entry.key,
    detail: verified.detail,
    entry,
    ref: refOf(entry),
  };
}

/**
 * The store's side: objects under the account's prefix that no entry names. The entry an object
 * belongs to is found from its key (`{prefix}/{yyyy}/{mm}/{dd}/{providerRecordingId}.{ext}`).
 */
async function findOrphans(deps: ReconcileDeps, gaps: FoundGap[]): Promise<void> {
  const { account } = deps;
  for await (const batch of inBatches(
    deps.store.list(`recordings/${encodeURIComponent(account.id)}/`),
    LOOKUP_BATCH,
  )) {
    const named = batch.map((object) => {
      const name = object.key.slice(object.key.lastIndexOf('/') + 1);
      const dot = name.lastIndexOf('.');
      const providerRecordingId = safeDecode(dot > 0 ? name.slice(0, dot) : name);
      return { object, providerRecordingId, id: recordingId({ accountId: account.id, providerRecordingId }) };
    });
    const entries = await deps.index.getMany(named.map(({ id }) => id));
    for (const { object, providerRecordingId, id } of named) {
      if (entries.get(id)?.key === object.key) continue;
      gaps.push({
        kind: 'orphan-object',
        providerRecordingId,
        key: object.key,
        detail: `${object.bytes} bytes with no index entry (an archive step whose record step has not run yet looks the same)`,
      });
    }
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Exactly `{ kind, id, providerRecordingId, key, detail }`, the ones not known left out. */
export function printable(gap: Gap): Gap {
  const out = { kind: gap.kind } as Gap;
  if (gap.id !== undefined) out.id = gap.id;
  if (gap.providerRecordingId !== undefined) out.providerRecordingId = gap.providerRecordingId;
  if (gap.key !== undefined) out.key = gap.key;
  out.detail = gap.detail;
  return out;
}

export interface RepairDeps extends ArchiveDeps {
  index: ComplianceIndex;
  starter: WorkflowStarter;
  now?: () => Date;
}

export interface RepairResult {
  /** Executions started for `missing` recordings (the caller waits for them). */
  started: string[];
  /** Objects written again from the provider. */
  rearchived: string[];
  /** Gaps that could not be repaired, and why. */
  failed: { gap: Gap; reason: string }[];
}

/**
 * `missing`: handed to the ingest workflow like a sweep would (an erased one never is).
 * `object-missing` / `hash-mismatch`: downloaded again into the same key (a new version where
 * the bucket is versioned); repaired only if the provider's bytes are the indexed ones. `orphan-object` and `expiring` need a person.
 */
export async function repairGaps(gaps: readonly FoundGap[], deps: RepairDeps): Promise<RepairResult> {
  const result: RepairResult = { started: [], rearchived: [], failed: [] };
  for (const gap of gaps) {
    if (!gap.ref) continue;
    try {
      if (gap.kind === 'missing') {
        // What the index knows of the call goes along: the round stores the audio under the
        // key an earlier round of it may have stored it under already.
        const input = gap.entry ? { ...retryInput(gap.entry), ref: gap.ref } : { ref: gap.ref };
        const handed = await handOver(input, gap.entry, deps.starter);
        if (handed.outcome === 'started') result.started.push(handed.name);
      } else if (gap.kind === 'object-missing' || gap.kind === 'hash-mismatch') {
        const entry = gap.entry as IndexEntry;
        // Into the entry's own key, whichever date folder it is in (stored undated, the date
        // may be known since); a new key only where the index names none.
        const keyPrefix = entry.key?.slice(0, entry.key.lastIndexOf('.') + 1) || undefined;
        const archive = await downloadToStore(
          {
            ref: gap.ref,
            recording: {
              ...gap.ref,
              direction: entry.direction ?? 'unknown',
              readiness: 'ready',
              startedAt: entry.startedAt,
            },
          },
          deps,
          keyPrefix,
        );
        // The indexed hash is the evidence of what was archived: a provider's copy that differs
        // (re-encoded, altered) does not replace it, and the gap stays for a person to judge.
        if (entry.sha256 && (archive.sha256 !== entry.sha256 || archive.bytes !== entry.bytes)) {
          throw new Error(
            `the provider's copy is not what was archived: ${archive.bytes} bytes with SHA-256 ${archive.sha256}, the index says ${entry.bytes} bytes, ${entry.sha256}; the index keeps the archived hash`,
          );
        }
        const now = (deps.now?.() ?? new Date()).toISOString();
        // archivedAt stays: the recording stays in its day's manifest and its delete-at-source
        // clock does not start again.
        const updated = await deps.index.patch(
          entry.id,
          {
            key: archive.key,
            bytes: archive.bytes,
            sha256: archive.sha256,
            contentType: archive.contentType,
            repairedAt: now,
            updatedAt: now,
          },
          { expectStatus: 'archived' },
        );
        if (!updated) throw new Error('the entry is no longer archived (erased meanwhile?)');
        result.rearchived.push(entry.id);
      }
    } catch (error) {
      result.failed.push({
        gap: printable(gap),
        reason: `${(error as Error).name}: ${(error as Error).message}`,
      });
    }
  }
  return result;
}
