/**
 * `recordings hold|release|erase`: legal hold and erasure, on the local archive or, with
 * `--deployed`, on the deployed one (S3 legal hold and version deletes, with the operator's AWS
 * credentials: no function of the stack may delete an object).
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ErasureDeps } from '../../lambdas/core/erasure.ts';
import { dataDirOption, withLocalArchive } from './common.ts';

interface ArchiveOptions {
  dataDir: string;
  deployed?: boolean;
  stack: string;
}

/** The archive; with `ingest`, also where its ingest executions run (an erasure asks). */
async function withArchive<T>(
  options: ArchiveOptions,
  use: (archive: ErasureDeps) => Promise<T>,
  { ingest = false } = {},
) {
  if (options.deployed) {
    const { withDeployedArchive } = await import('./deployed.ts');
    return withDeployedArchive(options.stack, use, { ingest });
  }
  return withLocalArchive(options.dataDir, async (archive) => {
    const served = ingest ? await servedIngest(options.dataDir) : undefined;
    try {
      return await use({ ...archive, ingest: served?.starter });
    } finally {
      served?.close();
    }
  });
}

/**
 * The ingest workflow of a `serve` running on the data directory, where local executions run
 * while it does; without one, none is running (an unfinished one resumes at the next start,
 * and its Archive step then finds the recording erased).
 */
async function servedIngest(dataDir: string) {
  const { runningServe } = await import('../../local/stack.ts');
  const serving = await runningServe(resolve(dataDir));
  if (!serving) return undefined;
  const [{ SFNClient }, { SfnWorkflowStarter }, { LOCAL_STATE_MACHINE_ARN }, { LOCAL_REGION }] =
    await Promise.all([
      import('@aws-sdk/client-sfn'),
      import('../../lambdas/aws/sfn-starter.ts'),
      import('../../local/step-functions.ts'),
      import('../../local/template.ts'),
    ]);
  const sfn = new SFNClient({
    region: LOCAL_REGION,
    credentials: serving.credentials,
    endpoint: serving.stepFunctions,
  });
  return { starter: new SfnWorkflowStarter(sfn, LOCAL_STATE_MACHINE_ARN), close: () => sfn.destroy() };
}

/** Where the archive is: the local data directory, or the deployed stack. */
function archiveOptions(command: Command): Command {
  return command
    .addOption(dataDirOption())
    .option('--deployed', 'act on the deployed archive (your AWS credentials) instead of the local one')
    .option('--stack <name>', 'with --deployed: the CloudFormation stack name', 'Callvault');
}

export function registerRecordingCompliance(recordings: Command): void {
  archiveOptions(
    recordings
      .command('hold <id>')
      .description('put a recording under legal hold: no erasure, no deletion, until released')
      .option('--reason <text>', 'why (kept on the index entry)'),
  ).action(async (id: string, options: ArchiveOptions & { reason?: string }) => {
    const { holdRecording } = await import('../../lambdas/core/erasure.ts');
    const entry = await withArchive(options, (archive) =>
      holdRecording(id, { by: userInfo().username, reason: options.reason }, archive),
    );
    console.log(`recording ${id} is under legal hold (by ${entry.legalHold?.by} at ${entry.legalHold?.at})`);
  });

  archiveOptions(recordings.command('release <id>').description('release a legal hold')).action(
    async (id: string, options: ArchiveOptions) => {
      const { releaseRecording } = await import('../../lambdas/core/erasure.ts');
      await withArchive(options, (archive) => releaseRecording(id, archive));
      console.log(`recording ${id}: legal hold released`);
    },
  );

  archiveOptions(
    recordings
      .command('erase <id>')
      .description('erase a recording (every stored version, the raw record); a tombstone stays in the index')
      .requiredOption('--reason <text>', 'why (kept on the tombstone)'),
  ).action(async (id: string, options: ArchiveOptions & { reason: string }) => {
    const { eraseRecording } = await import('../../lambdas/core/erasure.ts');
    const { entry, versionsDeleted } = await withArchive(
      options,
      (archive) => eraseRecording(id, options.reason, archive),
      { ingest: true },
    );
    console.log(
      `recording ${id} erased at ${entry.erasedAt}: ${versionsDeleted} stored versions deleted; tombstone keeps sha256 ${entry.sha256 ?? '(none)'}`,
    );
  });
}
