import { resolve } from 'node:path';
import type { Command } from 'commander';
import { dataDirOption, runHarvest } from './common.ts';

export function registerHarvest(program: Command): void {
  program
    .command('harvest')
    .description('sweep every configured account on the local stack and wait until all is archived')
    .requiredOption('--config <file>', 'callvault config file (JSON)')
    .addOption(dataDirOption())
    .action(async (options: { config: string; dataDir: string }) => {
      const { loadConfigFile } = await import('../../lambdas/core/config.ts');
      const config = await loadConfigFile(options.config);
      process.exitCode = (await runHarvest(config, resolve(options.dataDir))) ? 0 : 1;
    });
}
