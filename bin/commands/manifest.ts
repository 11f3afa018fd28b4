import type { Command } from 'commander';
import { dataDirOption, withLocalArchive } from './common.ts';

export function registerManifest(program: Command): void {
  program
    .command('manifest')
    .description("write the day's manifest (manifests/yyyy/mm/dd.jsonl), chained to the one before")
    .option(
      '--date <yyyy-mm-dd>',
      'the last UTC day to write (default: yesterday); the days before it since the newest manifest are written first',
    )
    .addOption(dataDirOption())
    .action(async (options: { date?: string; dataDir: string }) => {
      const { parseManifestDate } = await import('../../lambdas/core/manifest.ts');
      const { formatManifest, runManifest } = await import('../../local/compliance.ts');
      // Without --date: every day since the newest manifest, through yesterday (UTC).
      const date = options.date ? parseManifestDate(options.date) : undefined;
      const run = await withLocalArchive(options.dataDir, (archive) => runManifest(archive, date));
      console.log(formatManifest(run));
    });
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('recompute the manifest hash chain and re-hash every object the manifests name')
    .addOption(dataDirOption())
    .action(async (options: { dataDir: string }) => {
      const { formatVerify, runVerify } = await import('../../local/compliance.ts');
      const { result, exitCode } = await withLocalArchive(options.dataDir, runVerify);
      console.log(formatVerify(result));
      process.exitCode = exitCode;
    });
}
