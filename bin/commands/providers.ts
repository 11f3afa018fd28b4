import type { Command } from 'commander';
import { terminalLogger } from './common.ts';

export function registerProviders(program: Command): void {
  program
    .command('providers')
    .description('talk to the providers directly')
    .command('check')
    .description('list every configured account and download its first ready recording; archives nothing')
    .requiredOption('--config <file>', 'callvault config file (JSON)')
    .action(async (options: { config: string }) => {
      const [{ loadConfigFile }, { createAdapter }] = await Promise.all([
        import('../../lambdas/core/config.ts'),
        import('../../lambdas/providers/index.ts'),
      ]);
      const config = await loadConfigFile(options.config);
      let ok = true;
      for (const account of config.accounts) {
        const adapter = createAdapter(account, { logger: terminalLogger(console.error) });
        try {
          const listed = [];
          for await (const recording of adapter.list({})) listed.push(recording);
          const ready = listed.filter((recording) => recording.readiness === 'ready');
          let downloaded = 'nothing ready to download';
          const first = ready[0];
          if (first) {
            const { checkDownload } = await import('../../lambdas/providers/check.ts');
            const checked = await checkDownload(adapter, first);
            downloaded = `downloaded ${first.providerRecordingId}: ${checked.bytes} bytes of ${checked.contentType}, sha256 ${checked.sha256}`;
          }
          console.log(
            `${account.id} (${account.provider}): ${listed.length} recordings, ${ready.length} ready; ${downloaded}`,
          );
        } catch (error) {
          ok = false;
          console.log(
            `${account.id} (${account.provider}): ${(error as Error).name}: ${(error as Error).message}`,
          );
        }
      }
      process.exitCode = ok ? 0 : 1;
    });
}
