/** `recordings hold|release|erase`: legal hold and erasure on the local archive. */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { dataDirOption, withLocalArchive } from './common.ts';

export function registerRecordingCompliance(recordings: Command): void {
  recordings
    .command('hold <id>')
    .description('put a recording under legal hold: no erasure, no deletion, until released')
    .option('--reason <text>', 'why (kept on the index entry)')
    .addOption(dataDirOption())
    .action(async (id: string, options: { reason?: string; dataDir: string }) => {
      const { holdRecording } = await import('../../lambdas/core/erasure.ts');
      const entry = await withLocalArchive(options.dataDir, (archive) =>
        holdRecording(id, { by: userInfo().username, reason: options.reason }, archive),
      );
      console.log(
        `recording ${id} is under legal hold (by ${entry.legalHold?.by} at ${entry.legalHold?.at})`,
      );
    });

  recordings
    .command('release <id>')
    .description('release a legal hold')
    .addOption(dataDirOption())
    .action(async (id: string, options: { dataDir: string }) => {
      const { releaseRecording } = await import('../../lambdas/core/erasure.ts');
      await withLocalArchive(options.dataDir, (archive) => releaseRecording(id, archive));
      console.log(`recording ${id}: legal hold released`);
    });

  recordings
    .command('erase <id>')
    .description('erase a recording (every stored version, the raw record); a tombstone stays in the index')
    .requiredOption('--reason <text>', 'why (kept on the tombstone)')
    .addOption(dataDirOption())
    .action(async (id: string, options: { reason: string; dataDir: string }) => {
      const { eraseRecording } = await import('../../lambdas/core/erasure.ts');
      const { entry, versionsDeleted } = await withLocalArchive(options.dataDir, (archive) =>
        eraseRecording(id, options.reason, archive),
      );
      console.log(
        `recording ${id} erased at ${entry.erasedAt}: ${versionsDeleted} stored versions deleted; tombstone keeps sha256 ${entry.sha256 ?? '(none)'}`,
      );
    });
}
