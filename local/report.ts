/** What the CLI prints: harvest summaries and index listings as plain-text tables. */
import type { IndexEntry } from '../lambdas/core/ports.ts';
import type { AccountSummary } from './harvest.ts';

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function formatSummary(summaries: readonly AccountSummary[]): string {
  const rows = summaries.map((summary) => [
    summary.accountId,
    summary.provider,
    String(summary.listed),
    String(summary.archived),
    String(summary.alreadyDone),
    String(summary.skipped),
    String(summary.failed),
    summary.sweepError ? 'sweep failed' : '',
  ]);
  const lines = [
    table(['account', 'provider', 'listed', 'archived', 'already', 'skipped', 'failed', ''], rows),
  ];
  for (const summary of summaries) {
    if (summary.sweepError) lines.push(`\n${summary.accountId}: sweep failed: ${summary.sweepError}`);
    for (const problem of summary.problems) {
      lines.push(`${summary.accountId}: ${problem.status} ${problem.providerRecordingId}: ${problem.reason}`);
    }
  }
  return lines.join('\n');
}

export function formatEntries(entries: readonly IndexEntry[]): string {
  if (entries.length === 0) return 'no recordings match';
  const rows = entries.map((entry) => [
    entry.id,
    entry.accountId,
    entry.status,
    entry.startedAt ?? '',
    entry.durationSec === undefined ? '' : `${Math.round(entry.durationSec * 10) / 10}s`,
    entry.from ?? '',
    entry.to ?? '',
    entry.bytes === undefined ? '' : String(entry.bytes),
    entry.reason ?? '',
  ]);
  return table(['id', 'account', 'status', 'started (UTC)', 'length', 'from', 'to', 'bytes', 'reason'], rows);
}
