import type { Command } from 'commander';
import { dataDirOption } from './common.ts';
import { openCompliance, usageExitsTwo } from './context.ts';

export function registerDeleteAtSource(program: Command): void {
  program
    .command('delete-at-source')
    .description('delete at the provider recordings archived long enough ago whose archive verifies now')
    .requiredOption('--config <file>', 'callvault config file (JSON)')
    .addOption(dataDirOption())
    .option('--dry-run', 'list what would be deleted; delete nothing')
    .option('--json', 'print the result as JSON')
    .exitOverride(usageExitsTwo)
    .action(async (options: { config: string; dataDir: string; dryRun?: boolean; json?: boolean }) => {
      const { loadConfigFile } = await import('../../lambdas/core/config.ts');
      const { formatDeleteAtSource, runDeleteAtSource } = await import('../../local/compliance.ts');
      const config = await loadConfigFile(options.config);
      const context = await openCompliance(config, options.dataDir);
      try {
        const { result, exitCode } = await runDeleteAtSource(context, config, { dryRun: options.dryRun });
        console.log(options.json ? JSON.stringify(result, null, 2) : formatDeleteAtSource(result));
        process.exitCode = exitCode;
      } finally {
        await context.close();
      }
    });
}
