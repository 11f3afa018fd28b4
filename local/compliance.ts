/**
 * The compliance commands on the local stack: the same core as the deployed schedules, with the
 * local store enforcing Object Lock's rules itself. Each returns what the CLI prints and its exit
 * status, so tests drive them in-process.
 */

import type { CallvaultConfig } from '../lambdas/core/config.ts';
import { type DeleteAtSourceResult, deleteAtSource } from '../lambdas/core/delete-at-source.ts';
import { ConfigError } from '../lambdas/core/errors.ts';
import {
  type ManifestRun,
  type VerifyResult,
  verifyManifests,
  writeManifests,
} from '../lambdas/core/manifest.ts';
import type { ProviderAdapter, ProviderSlots, WorkflowStarter } from '../lambdas/core/ports.ts';
import {
  type FoundGap,
  type ReconcileReport,
  type RepairResult,
  reconcileAccount,
  repairGaps,
} from '../lambdas/core/reconcile.ts';
import type { LocalArchive } from './stack.ts';

/**
 * What the commands use of the local stack. Only `reconcile --repair` needs the workflow
 * (`starter`, `waitFor`); the others run on the archive and the adapters alone.
 */
export interface ComplianceContext {
  archive: LocalArchive;
  adapterFor(accountId: string): Promise<ProviderAdapter>;
  /** The accounts' provider slots, shared with a harvest running beside (delete-at-source). */
  slots?: ProviderSlots;
  starter?: WorkflowStarter;
  waitFor?(names: readonly string[]): Promise<unknown>;
}

export interface ReconcileRun {
  report: ReconcileReport;
  /** Set with `repair`: what was done before the second report. */
  repair?: RepairResult;
  exitCode: 0 | 1;
}

function accountsOf(config: CallvaultConfig, accountId?: string) {
  if (!accountId) return config.accounts;
  const account = config.accounts.find((candidate) => candidate.id === accountId);
  if (!account) throw new ConfigError(`--account: no account "${accountId}" in the config`);
  return [account];
}

async function reconcileOnce(stack: ComplianceContext, config: CallvaultConfig, accountId?: string) {
  const report: ReconcileReport = { accounts: [] };
  const found: FoundGap[] = [];
  for (const account of accountsOf(config, accountId)) {
    const { report: accountReport, gaps } = await reconcileAccount({
      account,
      source: await stack.adapterFor(account.id),
      index: stack.archive.index,
      store: stack.archive.store,
    });
    report.accounts.push(accountReport);
    found.push(...gaps);
  }
  return { report, found };
}

export async function runReconcile(
  stack: ComplianceContext,
  config: CallvaultConfig,
  options: { accountId?: string; repair?: boolean } = {},
): Promise<ReconcileRun> {
  let { report, found } = await reconcileOnce(stack, config, options.accountId);
  let repair: RepairResult | undefined;
  if (options.repair && found.length > 0) {
    const { starter, waitFor } = stack;
    if (!starter || !waitFor) throw new Error('reconcile --repair needs the local workflow');
    repair = await repairGaps(found, {
      adapterFor: stack.adapterFor,
      store: stack.archive.store,
      index: stack.archive.index,
      starter,
    });
    await waitFor(repair.started);
    ({ report, found } = await reconcileOnce(stack, config, options.accountId));
  }
  const gaps = report.accounts.reduce((sum, account) => sum + account.gaps.length, 0);
  return { report, repair, exitCode: gaps > 0 ? 1 : 0 };
}

export function formatReconcile(run: ReconcileRun): string {
  const lines: string[] = [];
  if (run.repair) {
    lines.push(
      `repair: ${run.repair.started.length} ingest executions started, ${run.repair.rearchived.length} objects archived again, ${run.repair.failed.length} not repaired`,
    );
    for (const failure of run.repair.failed) {
      lines.push(
        `  not repaired: ${failure.gap.kind} ${failure.gap.providerRecordingId ?? failure.gap.key}: ${failure.reason}`,
      );
    }
  }
  for (const account of run.report.accounts) {
    lines.push(
      `${account.accountId} (${account.provider}): ${account.listed} listed, ${account.archived} archived, ${account.gaps.length} gaps`,
    );
    for (const gap of account.gaps) {
      lines.push(`  ${gap.kind.padEnd(14)} ${(gap.providerRecordingId ?? '').padEnd(40)} ${gap.key ?? ''}`);
      lines.push(`  ${''.padEnd(14)} ${gap.detail}`);
    }
  }
  return lines.join('\n');
}

export async function runDeleteAtSource(
  stack: ComplianceContext,
  config: CallvaultConfig,
  options: { dryRun?: boolean } = {},
): Promise<{ result: DeleteAtSourceResult; exitCode: 0 | 1 }> {
  const result = await deleteAtSource({
    accounts: config.accounts,
    deleterFor: stack.adapterFor,
    index: stack.archive.index,
    store: stack.archive.store,
    slots: stack.slots,
    dryRun: options.dryRun,
  });
  return { result, exitCode: result.unverified.length + result.failed.length > 0 ? 1 : 0 };
}

export function formatDeleteAtSource(result: DeleteAtSourceResult): string {
  const lines = [
    `${result.dryRun ? 'would delete' : 'deleted'} at the provider: ${result.deleted.length}; not deleted, archive does not verify: ${result.unverified.length}; deletion failed: ${result.failed.length}`,
  ];
  for (const item of result.deleted)
    lines.push(
      `  ${result.dryRun ? 'would delete' : 'deleted'} ${item.accountId} ${item.providerRecordingId} (${item.id})`,
    );
  for (const item of result.unverified)
    lines.push(`  NOT deleted ${item.accountId} ${item.providerRecordingId} (${item.id}): ${item.detail}`);
  for (const item of result.failed)
    lines.push(`  failed ${item.accountId} ${item.providerRecordingId} (${item.id}): ${item.detail}`);
  if (result.notDeletable > 0)
    lines.push(
      `  kept at the provider: ${result.notDeletable} its API cannot delete (Bandwidth conference recordings); the provider expires them`,
    );
  if (result.held > 0)
    lines.push(
      `  kept at the provider: ${result.held} under legal hold (released, the next run deletes them)`,
    );
  if (result.remaining > 0)
    lines.push(
      `  left to the next run: ${result.remaining} (the provider was busy: all its slots taken, or 429)`,
    );
  return lines.join('\n');
}

/**
 * Writes the manifests through `date` (default: yesterday, UTC): every day after the newest one,
 * oldest first, or only `date` when there is none yet. Locally there is no time limit, so no day
 * is left to a next run.
 */
export function runManifest(archive: LocalArchive, date?: string): Promise<ManifestRun> {
  return writeManifests(archive, { through: date });
}

/** One line per day written, oldest first, then the days left to a next run, if any. */
export function formatManifest(run: ManifestRun): string {
  const lines = run.written.map(
    (day) =>
      `wrote ${day.key} (${day.date}): ${day.recordings} recordings, sha256 ${day.sha256}, after ${day.previousManifest ?? 'no earlier manifest'}`,
  );
  if (run.written.length === 0) lines.push('the manifests are up to date: nothing to write');
  if (run.remaining)
    lines.push(
      `left to the next run: ${run.remaining.days} days, ${run.remaining.from} … ${run.remaining.through}`,
    );
  return lines.join('\n');
}

export async function runVerify(archive: LocalArchive): Promise<{ result: VerifyResult; exitCode: 0 | 1 }> {
  const result = await verifyManifests(archive);
  return { result, exitCode: result.failures.length > 0 ? 1 : 0 };
}

export function formatVerify(result: VerifyResult): string {
  const lines = [
    `${result.manifests} manifests, ${result.recordings} recordings checked, ${result.failures.length} failures`,
  ];
  for (const failure of result.failures) {
    lines.push(`  ${failure.manifest}${failure.id ? ` recording ${failure.id}` : ''}: ${failure.detail}`);
  }
  // Warnings do not change the exit status (see verifyManifests).
  for (const warning of result.warnings) lines.push(`  warning: ${warning.manifest}: ${warning.detail}`);
  return lines.join('\n');
}
