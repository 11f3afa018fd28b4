/**
 * `callvault recordings retry [--account <id>] [--id <id>]`: runs the retry job for failed
 * recordings now, on the local stack, and waits for what it started or found already running
 * (their outcomes count in the exit status). The backoff is not waited for; the attempt limit
 * holds, except for one recording named with `--id`.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { dataDirOption } from './common.ts';

interface RetryOptions {
  config: string;
  dataDir: string;
  account?: string;
  id?: string;
}

export function registerRetryCommand(recordings: Command): void {
  recordings
    .command('retry')
    .description('retry failed recordings now (those below the retry limit, or the one given by --id)')
    .requiredOption('--config <file>', 'callvault config file (JSON)')
    .addOption(dataDirOption())
    .option('--account <id>', 'only this account')
    .option('--id <id>', 'only this recording (its index id), even past the retry limit')
    .action(async (options: RetryOptions) => {
      const [{ loadConfigFile }, { openLocalStack }, { silentLogger }, { retryFailed }, { outcomeOf }] =
        await Promise.all([
          import('../../lambdas/core/config.ts'),
          import('../../local/stack.ts'),
          import('../../lambdas/core/log.ts'),
          import('../../lambdas/core/retry.ts'),
          import('../../local/harvest.ts'),
        ]);
      const config = await loadConfigFile(options.config);
      const stack = await openLocalStack({ config, dataDir: resolve(options.dataDir), logger: silentLogger });
      try {
        // The job's core, not its handler: every hand-over error is printed here, none thrown.
        const result = await retryFailed(
          { accountId: options.account, id: options.id, ignoreBackoff: true },
          { index: stack.runtime.index, starter: stack.runtime.starter, retry: config.retry },
        );
        const tally = async (names: readonly string[]) => {
          const outcomes = { archived: 0, skipped: 0, failed: 0 };
          for (const execution of await stack.waitFor(names)) {
            const { status } = outcomeOf(execution);
            // Found archived meanwhile (by another path): archived all the same.
            outcomes[status === 'done' ? 'archived' : status] += 1;
          }
          return outcomes;
        };
        const [outcomes, ofRunning] = await Promise.all([tally(result.started), tally(result.running)]);
        const lines = [
          `failed recordings: ${result.failed}; retried: ${result.started.length} ` +
            `(archived ${outcomes.archived}, gone ${outcomes.skipped}, failed again ${outcomes.failed})`,
        ];
        if (result.running.length > 0) {
          lines.push(
            `already being retried: ${result.running.length} (archived ${ofRunning.archived}, ` +
              `gone ${ofRunning.skipped}, failed again ${ofRunning.failed})`,
          );
        }
        if (result.exhausted.length > 0) {
          lines.push(
            `at the retry limit (${config.retry.maxAttempts} attempts), left failed: ${result.exhausted.length}` +
              ' (retry one with --id <id>)',
          );
        }
        for (const failure of result.errors) lines.push(`could not retry ${failure.id}: ${failure.reason}`);
        if (options.id && result.failed === 0) lines.push(`no failed recording with id ${options.id}`);
        console.log(lines.join('\n'));
        const failed = outcomes.failed + ofRunning.failed + result.exhausted.length + result.errors.length;
        process.exitCode = failed > 0 ? 1 : 0;
      } finally {
        await stack.close();
      }
    });
}
