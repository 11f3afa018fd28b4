/**
 * `callvault recordings retry [--account <id>] [--id <id>]`: runs the retry job for failed
 * recordings now, on the local stack, and waits for what it started. The backoff is not waited
 * for; the attempt limit holds, except for one recording named with `--id`.
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
      const [{ loadConfigFile }, { openLocalStack }, { silentLogger }] = await Promise.all([
        import('../../lambdas/core/config.ts'),
        import('../../local/stack.ts'),
        import('../../lambdas/core/log.ts'),
      ]);
      const config = await loadConfigFile(options.config);
      const stack = await openLocalStack({ config, dataDir: resolve(options.dataDir), logger: silentLogger });
      try {
        const result = await stack.retry({ accountId: options.account, id: options.id, ignoreBackoff: true });
        const outcomes = { archived: 0, skipped: 0, failed: 0 };
        for (const execution of await stack.waitFor(result.started)) {
          const indexed = (execution.output as { indexed?: { status?: keyof typeof outcomes } } | undefined)
            ?.indexed?.status;
          outcomes[execution.status === 'SUCCEEDED' && indexed ? indexed : 'failed'] += 1;
        }
        const lines = [
          `failed recordings: ${result.failed}; retried: ${result.started.length} ` +
            `(archived ${outcomes.archived}, gone ${outcomes.skipped}, failed again ${outcomes.failed})`,
        ];
        if (result.running > 0) lines.push(`already being retried: ${result.running}`);
        if (result.exhausted.length > 0) {
          lines.push(
            `at the retry limit (${config.retry.maxAttempts} attempts), left failed: ${result.exhausted.length}` +
              ' (retry one with --id <id>)',
          );
        }
        for (const failure of result.errors) lines.push(`could not retry ${failure.id}: ${failure.reason}`);
        if (options.id && result.failed === 0) lines.push(`no failed recording with id ${options.id}`);
        console.log(lines.join('\n'));
        process.exitCode = outcomes.failed + result.exhausted.length + result.errors.length > 0 ? 1 : 0;
      } finally {
        await stack.close();
      }
    });
}
