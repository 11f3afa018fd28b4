import type { Command } from 'commander';
import { dataDirOption, withLocalArchive } from './common.ts';

export function registerManifest(program: Command): void {
  program
    .command('manifest')
    .description("write the day's manifest (manifests/yyyy/mm/dd.jsonl), chained to the one before")
    .option('--date <yyyy-mm-dd>', 'the UTC day (default: yesterday)')
    .addOption(dataDirOption())
    .action(async (options: { date?: string; dataDir: string }) => {
      const { parseManifestDate, previousUtcDay } = await import('../../lambdas/core/manifest.ts');
      const { runManifest } = await import('../../local/compliance.ts');
      const date = options.date ? parseManifestDate(options.date) : previousUtcDay(new Date());
      const written = await withLocalArchive(options.dataDir, (archive) => runManifest(archive, date));
      console.log(
        `wrote ${written.key}: ${written.recordings} recordings, sha256 ${written.sha256}, after ${written.previousManifest ?? 'no earlier manifest'}`,
      );
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
