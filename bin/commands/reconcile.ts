import type { Command } from 'commander';
import { dataDirOption } from './common.ts';
import { openCompliance, usageExitsTwo } from './context.ts';

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description('prove the archive is complete: compare each provider with the index and the objects')
    .requiredOption('--config <file>', 'callvault config file (JSON)')
    .addOption(dataDirOption())
    .option('--account <id>', 'only this account')
    .option('--json', 'print the report as JSON')
    .option('--repair', 'ingest missing recordings, archive broken objects again, then report again')
    .exitOverride(usageExitsTwo)
    .action(
      async (options: {
        config: string;
        dataDir: string;
        account?: string;
        json?: boolean;
        repair?: boolean;
      }) => {
        const { loadConfigFile } = await import('../../lambdas/core/config.ts');
        const { formatReconcile, runReconcile } = await import('../../local/compliance.ts');
        const config = await loadConfigFile(options.config);
        const context = await openCompliance(config, options.dataDir, { workflow: options.repair });
        try {
          const run = await runReconcile(context, config, {
            accountId: options.account,
            repair: options.repair,
          });
          console.log(options.json ? JSON.stringify(run.report, null, 2) : formatReconcile(run));
          process.exitCode = run.exitCode;
        } finally {
          await context.close();
        }
      },
    );
}
