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
import { recordingId } from './ids.ts';
import { type ArchiveDeps, downloadToStore, hashStream } from './ingest.ts';
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
import type { Recording, RecordingRef } from './recording.ts';

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
  verification?: { progress: VerificationProgressStore; deadline: number; clock?: () => number };
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

/** Where the deployed daily reconcile writes its report: `reports/reconcile/{yyyy}/{mm}/{dd}.json` (UTC). */
export function reconcileReportKey(now: Date): string {
  const [year, month, day] = now.toISOString().slice(0, 10).split('-');
  return `reports/reconcile/${year}/${month}/${day}.json`;
}

/** Every entry of the index, or of one account, across pages. */
export async function indexEntries(index: RecordingIndex, accountId?: string): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await index.query({ accountId, cursor, limit: 500 });
    entries.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return entries;
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

export async function reconcileAccount(
  deps: ReconcileDeps,
): Promise<{ report: AccountReconcile; gaps: FoundGap[] }> {
  const { account, index, store } = deps;
  const now = (deps.now?.() ?? new Date()).getTime();
  const listed: Recording[] = [];
  for await (const recording of deps.source.list({})) listed.push(recording);
  const entries = await indexEntries(index, account.id);
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const gaps: FoundGap[] = [];

  const retentionDays = providerRetentionDays(account);
  const warningDays = account.expiryWarningDays ?? 7;
  for (const recording of listed) {
    const id = recordingId(recording);
    const entry = byId.get(id);
    if (entry?.status === 'archived' || entry?.status === 'erased' || recording.readiness === 'gone')
      continue;
    const ref: RecordingRef = {
      accountId: account.id,
      provider: recording.provider,
      providerRecordingId: recording.providerRecordingId,
      callId: recording.callId,
    };
    const base = { id, providerRecordingId: recording.providerRecordingId, ref, entry };
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

  const archived = entries.filter((entry) => entry.status === 'archived');
  const { verifications, report: verification } = await verifyArchived(archived, deps, new Date(now));
  for (const { entry, verified } of verifications) {
    if (verified.ok) continue;
    gaps.push({
      kind: verified.kind,
      id: entry.id,
      providerRecordingId: entry.providerRecordingId,
      key: entry.key,
      detail: verified.detail,
      entry,
      ref: {
        accountId: entry.accountId,
        provider: entry.provider,
        providerRecordingId: entry.providerRecordingId,
        callId: entry.callId,
      },
    });
  }

  const knownKeys = new Set(entries.map((entry) => entry.key).filter(Boolean));
  for await (const object of store.list(`recordings/${encodeURIComponent(account.id)}/`)) {
    if (knownKeys.has(object.key)) continue;
    const name = object.key.slice(object.key.lastIndexOf('/') + 1);
    const dot = name.lastIndexOf('.');
    gaps.push({
      kind: 'orphan-object',
      providerRecordingId: safeDecode(dot > 0 ? name.slice(0, dot) : name),
      key: object.key,
      detail: `${object.bytes} bytes with no index entry (an archive step whose record step has not run yet looks the same)`,
    });
  }

  return {
    report: {
      accountId: account.id,
      provider: account.provider,
      listed: listed.length,
      archived: archived.length,
      ...(verification ? { verification } : {}),
      gaps: gaps.map(printable),
    },
    gaps,
  };
}

/**
 * Re-reads and hashes archived objects, 16 at a time: against S3 each read first waits out its
 * own latency (one at a time, ~12,000 objects filled the Lambda's 15 minutes; bench/reconcile.ts).
 * A time-boxed run goes in id order from where the account's last run stopped, until its
 * deadline, and saves where it stopped; the pass wraps round once every object was re-read.
 */
async function verifyArchived(
  archived: IndexEntry[],
  deps: ReconcileDeps,
  now: Date,
): Promise<{
  verifications: { entry: IndexEntry; verified: Awaited<ReturnType<typeof verifyObject>> }[];
  report?: VerificationReport;
}> {
  const budget = deps.verification;
  // Code-unit order, the order the resume's `>` compares ids in.
  const ordered = budget ? [...archived].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) : archived;
  const saved = budget ? await budget.progress.getVerification(deps.account.id) : undefined;
  const resuming = saved?.after !== undefined && saved.passStartedAt !== undefined;
  const passStartedAt = resuming ? (saved.passStartedAt as string) : now.toISOString();
  let next = resuming ? ordered.findIndex((entry) => entry.id > (saved.after as string)) : 0;
  if (next < 0) next = ordered.length;
  const clock = budget?.clock ?? Date.now;
  const verifications = [];
  while (next < ordered.length && !(budget && clock() >= budget.deadline)) {
    const slice = ordered.slice(next, next + VERIFY_SLICE);
    verifications.push(
      ...(await pMap(slice, async (entry) => ({ entry, verified: await verifyObject(deps.store, entry) }), {
        concurrency: VERIFY_CONCURRENCY,
      })),
    );
    next += slice.length;
  }
  if (!budget) return { verifications };
  const remaining = ordered.length - next;
  const lastPass: CompletePass | undefined =
    remaining === 0 ? { startedAt: passStartedAt, completedAt: now.toISOString() } : saved?.lastPass;
  const kept = lastPass ? { lastPass } : {};
  const progress: VerificationProgress =
    remaining === 0 ? kept : { after: ordered[next - 1]?.id ?? saved?.after, passStartedAt, ...kept };
  await budget.progress.setVerification(deps.account.id, progress);
  return { verifications, report: { objects: verifications.length, remaining, passStartedAt, ...kept } };
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
 * the bucket is versioned) and the entry updated. `orphan-object` and `expiring` need a person.
 */
export async function repairGaps(gaps: readonly FoundGap[], deps: RepairDeps): Promise<RepairResult> {
  const result: RepairResult = { started: [], rearchived: [], failed: [] };
  for (const gap of gaps) {
    if (!gap.ref) continue;
    try {
      if (gap.kind === 'missing') {
        const handed = await handOver({ ref: gap.ref }, gap.entry, deps.starter);
        if (handed.outcome === 'started') result.started.push(handed.name);
      } else if (gap.kind === 'object-missing' || gap.kind === 'hash-mismatch') {
        const entry = gap.entry as IndexEntry;
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
        );
        const now = (deps.now?.() ?? new Date()).toISOString();
        const updated = await deps.index.patch(
          entry.id,
          {
            key: archive.key,
            bytes: archive.bytes,
            sha256: archive.sha256,
            contentType: archive.contentType,
            archivedAt: now,
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
