import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from './context.ts';

export function registerManifest(program: Command): void {
  program
    .command('manifest')
    .description("write the day's manifest (manifests/yyyy/mm/dd.jsonl), chained to the one before")
    .option('--date <yyyy-mm-dd>', 'the UTC day (default: yesterday)')
    .option('--data-dir <dir>', 'where the local archive lives', DEFAULT_DATA_DIR)
    .action(async (options: { date?: string; dataDir: string }) => {
      const { parseManifestDate, previousUtcDay } = await import('../../lambdas/core/manifest.ts');
      const { runManifest } = await import('../../local/compliance.ts');
      const { openLocalArchive } = await import('../../local/stack.ts');
      const date = options.date ? parseManifestDate(options.date) : previousUtcDay(new Date());
      const archive = await openLocalArchive(resolve(options.dataDir));
      try {
        const written = await runManifest(archive, date);
        console.log(
          `wrote ${written.key}: ${written.recordings} recordings, sha256 ${written.sha256}, after ${written.previousManifest ?? 'no earlier manifest'}`,
        );
      } finally {
        await archive.close();
      }
    });
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('recompute the manifest hash chain and re-hash every object the manifests name')
    .option('--data-dir <dir>', 'where the local archive lives', DEFAULT_DATA_DIR)
    .action(async (options: { dataDir: string }) => {
      const { formatVerify, runVerify } = await import('../../local/compliance.ts');
      const { openLocalArchive } = await import('../../local/stack.ts');
      const archive = await openLocalArchive(resolve(options.dataDir));
      try {
        const { result, exitCode } = await runVerify(archive);
        console.log(formatVerify(result));
        process.exitCode = exitCode;
      } finally {
        await archive.close();
      }
    });
}
