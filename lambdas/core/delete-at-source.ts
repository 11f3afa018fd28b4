/**
 * Verified delete-at-source: free the provider's storage only once the copy is proven. A
 * recording archived at least `deleteAtSource.afterDays` ago is deleted at its provider only if
 * its object exists now and its bytes, re-read from the store, match the indexed size and
 * SHA-256. One that fails is never deleted, only reported. Each deletion is written to the
 * entry (`deletedAtSourceAt`, the provider's answer), so it is done once, and a run that runs out
 * of time leaves the rest to the next: nothing is lost by stopping anywhere. Each deletion holds
 * one of the account's provider slots, the limit ingest shares, so the daily job never pushes a
 * provider past `maxConcurrency`; a provider too busy for it leaves the deletion to the next run.
 * A recording under legal hold is never deleted, at the provider either: the hold is read again
 * just before the deletion.
 */
import pMap from 'p-map';
import { type AccountConfig, maxConcurrencyOf } from './config.ts';
import { ProviderBusyError } from './errors.ts';
import { eachIndexEntry } from './index-walk.ts';
import type { ComplianceIndex, ComplianceStore, IndexEntry, ProviderSlots } from './ports.ts';
import { withProviderSlot } from './provider-slots.ts';
import { verifyObject } from './reconcile.ts';
import { type RecordingRef, refOf } from './recording.ts';
import { isSpent, type TimeBox } from './time-box.ts';

/** What delete-at-source needs of an adapter. */
export interface SourceDeleter {
  /** Whether the provider's API can delete this one (Bandwidth: not a conference recording). */
  canDelete(ref: RecordingRef): boolean;
  delete(ref: RecordingRef): Promise<{ status: number; alreadyGone: boolean }>;
}

export interface DeleteAtSourceDeps {
  accounts: readonly Pick<AccountConfig, 'id' | 'provider' | 'deleteAtSource' | 'maxConcurrency'>[];
  deleterFor(accountId: string): Promise<SourceDeleter>;
  index: ComplianceIndex;
  store: ComplianceStore;
  /** The account's provider slots, shared with ingest; without them, `maxConcurrency` per run. */
  slots?: ProviderSlots;
  dryRun?: boolean;
  now?: () => Date;
  /** Start no recording once it is spent: the deployed job's time box. */
  timeBox?: TimeBox;
}

export interface DeleteAtSourceItem {
  accountId: string;
  id: string;
  providerRecordingId: string;
  key?: string;
  archivedAt?: string;
  detail?: string;
}

export interface DeleteAtSourceResult {
  /** Deleted at the provider now (with `--dry-run`: would be). */
  deleted: DeleteAtSourceItem[];
  /** The archive did not verify: not deleted. */
  unverified: DeleteAtSourceItem[];
  /** Verified, but the provider refused or failed the deletion. */
  failed: DeleteAtSourceItem[];
  /** Due, but not reached before the deadline, or the provider was busy: the next run takes them. */
  remaining: number;
  /** Due, but the provider's API cannot delete them: they stay until the provider expires them. */
  notDeletable: number;
  /** Due, but under legal hold: a hold stops every deletion, the provider's copy included. */
  held: number;
  dryRun: boolean;
}

const DAY_MS = 86_400_000;

export async function deleteAtSource(deps: DeleteAtSourceDeps): Promise<DeleteAtSourceResult> {
  const now = deps.now?.() ?? new Date();
  const result: DeleteAtSourceResult = {
    deleted: [],
    unverified: [],
    failed: [],
    remaining: 0,
    notDeletable: 0,
    held: 0,
    dryRun: deps.dryRun ?? false,
  };
  for (const account of deps.accounts) {
    if (!account.deleteAtSource) continue;
    const cutoff = now.getTime() - account.deleteAtSource.afterDays * DAY_MS;
    // The account's entries are walked page by page (patching one does not move it in the
    // listing), so an account of millions takes a page of memory. Each recording is re-read and
    // deleted as the account's provider allows at once (its maxConcurrency); the deleter is made
    // at the first one due.
    let deleter: Promise<SourceDeleter> | undefined;
    await pMap(
      eachIndexEntry(deps.index, { accountId: account.id }),
      async (entry) => {
        const due =
          entry.status === 'archived' &&
          !entry.deletedAtSourceAt &&
          entry.archivedAt !== undefined &&
          Date.parse(entry.archivedAt) <= cutoff;
        if (!due) return;
        if (entry.legalHold) {
          result.held += 1;
          return;
        }
        if (isSpent(deps.timeBox)) {
          result.remaining += 1;
          return;
        }
        deleter ??= deps.deleterFor(account.id);
        const source = await deleter;
        const ref = refOf(entry);
        // Checked first: such a recording is never read back from the store for nothing.
        if (!source.canDelete(ref)) {
          result.notDeletable += 1;
          return;
        }
        const item = itemOf(entry);
        const verified = await verifyObject(deps.store, entry);
        if (!verified.ok) {
          result.unverified.push({ ...item, detail: `${verified.kind}: ${verified.detail}` });
          return;
        }
        // Re-read after the read-back, which takes a while for a large object: a hold set since
        // the page was listed stops the deletion.
        if ((await deps.index.get(entry.id))?.legalHold) {
          result.held += 1;
          return;
        }
        if (deps.dryRun) {
          result.deleted.push(item);
          return;
        }
        try {
          const answer = await withProviderSlot(deps.slots, account, () => source.delete(ref));
          const at = (deps.now?.() ?? new Date()).toISOString();
          await deps.index.patch(
            entry.id,
            {
              deletedAtSourceAt: at,
              deleteAtSourceAnswer: `HTTP ${answer.status}${answer.alreadyGone ? ', already gone' : ', deleted'}`,
              updatedAt: at,
            },
            { expectStatus: 'archived' },
          );
          result.deleted.push(item);
        } catch (error) {
          // No slot free, or a 429 the transport's retries did not outlast: not a refusal.
          if (error instanceof ProviderBusyError) {
            result.remaining += 1;
            return;
          }
          result.failed.push({ ...item, detail: `${(error as Error).name}: ${(error as Error).message}` });
        }
      },
      { concurrency: maxConcurrencyOf(account) },
    );
  }
  // By account and id: the same report whatever order the concurrent ones finished in.
  for (const items of [result.deleted, result.unverified, result.failed])
    items.sort((a, b) => a.accountId.localeCompare(b.accountId) || a.id.localeCompare(b.id));
  return result;
}

function itemOf(entry: IndexEntry): DeleteAtSourceItem {
  return {
    accountId: entry.accountId,
    id: entry.id,
    providerRecordingId: entry.providerRecordingId,
    key: entry.key,
    archivedAt: entry.archivedAt,
  };
}
