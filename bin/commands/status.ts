/**
 * `callvault status`: per account, the last sweep and its outcome, the cursor, archived / failed /
 * skipped counts and the oldest unarchived recording's age. Locally from the data directory;
 * with `--deployed`, from the deployed stack's table (found through its outputs) and its
 * CloudWatch metrics of the last 24 hours, with the user's AWS credentials. Read-only.
 */
import type { Command } from 'commander';
import type { RecordingIndex } from '../../lambdas/core/ports.ts';
import type { AccountStatus, SweepJournal } from '../../lambdas/core/status.ts';
import type { AccountMetrics, StatusFigure } from '../../lambdas/core/status-metrics.ts';
import { dataDirOption } from './common.ts';

export interface StatusOptions {
  config?: string;
  dataDir: string;
  deployed?: boolean;
  stack: string;
  json?: boolean;
}

export async function collectStatus(
  accounts: readonly { id: string; provider: string }[],
  deps: { index: RecordingIndex; sweeps: SweepJournal; now?: () => Date },
): Promise<AccountStatus[]> {
  const { accountStatus } = await import('../../lambdas/core/status.ts');
  const statuses: AccountStatus[] = [];
  for (const account of accounts) statuses.push(await accountStatus(account, deps));
  return statuses;
}

function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

function byteSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const FIGURE_HEADERS: Record<StatusFigure, string> = {
  recordingsArchived: 'archived 24h',
  bytesArchived: 'bytes 24h',
  archiveFailures: 'failures 24h',
  archiveLatencyP50Seconds: 'latency p50',
  archiveLatencyP99Seconds: 'latency p99',
  sweepListed: 'listed 24h',
  reconcileGaps: 'gaps',
  verifiedPassAgeSeconds: 'verified pass age',
  deleteAtSourceRemaining: 'delete backlog',
};

/** The metric columns (`--deployed`), each figure shown in its metric's unit. */
async function metricColumns(
  statuses: readonly AccountStatus[],
): Promise<{ headers: string[]; rows: string[][] }> {
  const { STATUS_FIGURES, unitOf } = await import('../../lambdas/core/status-metrics.ts');
  const figures = Object.keys(STATUS_FIGURES) as StatusFigure[];
  const shown = (figure: StatusFigure, value: number | undefined): string => {
    if (value === undefined) return '';
    const unit = unitOf(figure);
    if (unit === 'Bytes') return byteSize(value);
    if (unit === 'Seconds') return duration(Math.round(value));
    return String(value);
  };
  return {
    headers: figures.map((figure) => FIGURE_HEADERS[figure]),
    rows: statuses.map((status) => figures.map((figure) => shown(figure, status.metrics?.[figure]))),
  };
}

/** The table, then a line per failed sweep, then the notes (what could not be read). */
export async function formatStatus(
  statuses: readonly AccountStatus[],
  notes: readonly string[] = [],
): Promise<string> {
  if (statuses.length === 0) return 'no accounts: give --config, or sweep first';
  const { table } = await import('../../local/report.ts');
  const metrics = statuses.some((status) => status.metrics)
    ? await metricColumns(statuses)
    : { headers: [], rows: [] };
  const rows = statuses.map((status, position) => [
    status.accountId,
    status.provider,
    status.lastSweep?.at ?? 'never',
    status.lastSweep?.outcome ?? '',
    status.cursor ?? '',
    String(status.archived),
    String(status.failed),
    String(status.skipped),
    duration(status.oldestUnarchivedAgeSeconds),
    ...(metrics.rows[position] ?? []),
  ]);
  const lines = [
    table(
      [
        'account',
        'provider',
        'last sweep (UTC)',
        'outcome',
        'cursor',
        'archived',
        'failed',
        'skipped',
        'oldest failed',
        ...metrics.headers,
      ],
      rows,
    ),
  ];
  for (const status of statuses) {
    if (status.lastSweep?.outcome === 'failed') {
      lines.push(
        `${status.accountId}: last sweep failed: ${status.lastSweep.error ?? 'unknown error'}` +
          (status.lastSweep.lastSucceededAt ? ` (last success ${status.lastSweep.lastSucceededAt})` : ''),
      );
    }
  }
  lines.push(...notes);
  return lines.join('\n');
}

/**
 * Accounts from the config file if given, else those the archive knows (every sweep, done or
 * failed, leaves a record): an account that never swept shows only with `--config`.
 */
async function accountsFor(
  options: StatusOptions,
  sweeps: SweepJournal,
): Promise<{ id: string; provider: string }[]> {
  if (options.config) {
    const { readFile } = await import('node:fs/promises');
    const { parseDeployConfig } = await import('../../lambdas/core/config.ts');
    const { ConfigError } = await import('../../lambdas/core/errors.ts');
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(options.config, 'utf8'));
    } catch (error) {
      throw new ConfigError(`cannot read config file ${options.config}: ${(error as Error).message}`);
    }
    return parseDeployConfig(raw, `config file ${options.config}`).accounts;
  }
  return sweeps.accounts();
}

/**
 * Per account id, the deployed stack's metric figures, and a one-line note on what CloudWatch
 * did not answer; where it denied the read, only the note (the rest of the status stands).
 */
async function deployedMetrics(
  accounts: readonly { id: string; provider: string }[],
): Promise<{ byAccount?: Map<string, AccountMetrics>; note?: string }> {
  const [
    { CloudWatchClient },
    { CloudWatchMetricReader, isAccessDenied },
    { readStatusMetrics, STATUS_METRIC_NAMES, unreadNote },
  ] = await Promise.all([
    import('@aws-sdk/client-cloudwatch'),
    import('../../lambdas/aws/cloudwatch-metrics.ts'),
    import('../../lambdas/core/status-metrics.ts'),
  ]);
  const cloudwatch = new CloudWatchClient({});
  try {
    const { byAccount, unread } = await readStatusMetrics(accounts, new CloudWatchMetricReader(cloudwatch));
    return { byAccount, note: unreadNote(unread) };
  } catch (error) {
    if (!isAccessDenied(error)) throw error;
    const names = STATUS_METRIC_NAMES.join(', ');
    return { note: `metrics not read: ${names} (cloudwatch:GetMetricData denied: ${(error as Error).name})` };
  } finally {
    cloudwatch.destroy();
  }
}

/**
 * The status as text or JSON. A note on what could not be read ends the text; with `--json` it
 * goes to `printNote` (stderr), so the output stays JSON.
 */
export async function runStatus(
  options: StatusOptions,
  printNote: (note: string) => void = (note) => console.error(note),
): Promise<string> {
  const { resolve } = await import('node:path');
  if (options.deployed) {
    const [{ DynamoDBClient }, { DynamoRecordingIndex }, { DynamoSweepJournal }] = await Promise.all([
      import('@aws-sdk/client-dynamodb'),
      import('../../lambdas/aws/dynamo-index.ts'),
      import('../../lambdas/aws/dynamo-sweep-journal.ts'),
    ]);
    const { stackOutputs, requireOutput } = await import('./deployed.ts');
    const tableName = await requireOutput(await stackOutputs(options.stack), options.stack, 'TableName');
    const dynamo = new DynamoDBClient({});
    try {
      const index = new DynamoRecordingIndex(dynamo, tableName);
      const sweeps = new DynamoSweepJournal(dynamo, tableName);
      const accounts = await accountsFor(options, sweeps);
      const [counted, metrics] = await Promise.all([
        collectStatus(accounts, { index, sweeps }),
        deployedMetrics(accounts),
      ]);
      const { byAccount, note } = metrics;
      const statuses = byAccount
        ? counted.map((status) => ({ ...status, metrics: byAccount.get(status.accountId) }))
        : counted;
      const notes = note ? [note] : [];
      if (!options.json) return formatStatus(statuses, notes);
      for (const note of notes) printNote(note);
      return JSON.stringify(statuses, null, 2);
    } finally {
      dynamo.destroy();
    }
  }
  const { openLocalIndex } = await import('../../local/stack/local-index.ts');
  const local = await openLocalIndex(resolve(options.dataDir));
  try {
    const accounts = await accountsFor(options, local.sweeps);
    const statuses = await collectStatus(accounts, local);
    return options.json ? JSON.stringify(statuses, null, 2) : formatStatus(statuses);
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    const { UsageError } = await import('../../lambdas/core/errors.ts');
    throw new UsageError(
      `no archive in ${resolve(options.dataDir)}: run "callvault harvest" or "callvault demo" first`,
    );
  } finally {
    await local.close();
  }
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'per account: last sweep and outcome, cursor, archived / failed / skipped, oldest failed recording',
    )
    .option('--config <file>', 'the accounts to show (default: every account that has swept)')
    .addOption(dataDirOption())
    .option(
      '--deployed',
      "read the deployed stack's table and its last 24 h of metrics (your AWS credentials) instead of the local archive",
    )
    .option('--stack <name>', 'the deployed stack, with --deployed', 'Callvault')
    .option('--json', 'print JSON')
    .action(async (options: StatusOptions) => {
      console.log(await runStatus(options));
    });
}
