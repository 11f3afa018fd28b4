import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR, runHarvest } from './common.ts';

export function registerHarvest(program: Command): void {
  program
    .command('harvest')
    .description('sweep every configured account on the local stack and wait until all is archived')
    .requiredOption('--config <file>', 'callvault config file (JSON)')
    .option('--data-dir <dir>', 'where the local archive lives', DEFAULT_DATA_DIR)
    .action(async (options: { config: string; dataDir: string }) => {
      const { loadConfigFile } = await import('../../lambdas/core/config.ts');
      const config = await loadConfigFile(options.config);
      process.exitCode = (await runHarvest(config, resolve(options.dataDir))) ? 0 : 1;
    });
}
