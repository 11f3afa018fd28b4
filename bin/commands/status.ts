/**
 * `callvault status`: per account, the last sweep and its outcome, the cursor, archived / failed /
 * skipped counts and the oldest unarchived recording's age. Locally from the data directory;
 * with `--deployed`, from the deployed stack's table (found through its outputs), with the
 * user's AWS credentials. Read-only.
 */
import type { Command } from 'commander';
import type { RecordingIndex } from '../../lambdas/core/ports.ts';
import type { AccountStatus, SweepJournal } from '../../lambdas/core/status.ts';

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

function age(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

export async function formatStatus(statuses: readonly AccountStatus[]): Promise<string> {
  if (statuses.length === 0) return 'no accounts: give --config, or sweep first';
  const { table } = await import('../../local/report.ts');
  const rows = statuses.map((status) => [
    status.accountId,
    status.provider,
    status.lastSweep?.at ?? 'never',
    status.lastSweep?.outcome ?? '',
    status.cursor ?? '',
    String(status.archived),
    String(status.failed),
    String(status.skipped),
    age(status.oldestUnarchivedAgeSeconds),
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

export async function runStatus(options: StatusOptions): Promise<string> {
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
      const statuses = await collectStatus(accounts, { index, sweeps });
      return options.json ? JSON.stringify(statuses, null, 2) : formatStatus(statuses);
    } finally {
      dynamo.destroy();
    }
  }
  const { openLocalArchive } = await import('../../local/stack.ts');
  const archive = await openLocalArchive(resolve(options.dataDir));
  try {
    const accounts = await accountsFor(options, archive.sweeps);
    const statuses = await collectStatus(accounts, archive);
    return options.json ? JSON.stringify(statuses, null, 2) : formatStatus(statuses);
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    const { UsageError } = await import('../../lambdas/core/errors.ts');
    throw new UsageError(
      `no archive in ${resolve(options.dataDir)}: run "callvault harvest" or "callvault demo" first`,
    );
  } finally {
    await archive.close();
  }
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'per account: last sweep and outcome, cursor, archived / failed / skipped, oldest failed recording',
    )
    .option('--config <file>', 'the accounts to show (default: every account that has swept)')
    .option('--data-dir <dir>', 'where the local archive lives', '.callvault')
    .option('--deployed', 'read the deployed stack (your AWS credentials) instead of the local archive')
    .option('--stack <name>', 'the deployed stack, with --deployed', 'Callvault')
    .option('--json', 'print JSON')
    .action(async (options: StatusOptions) => {
      console.log(await runStatus(options));
    });
}
