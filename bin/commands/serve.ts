import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { dataDirOption, terminalLogger, untilInterrupted } from './common.ts';
import { usageExitsTwo } from './context.ts';

/** `--port`: refused while parsing, before the stack opens the data directory. */
function portOption(value: string): number {
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (Number.isNaN(port) || port > 65_535)
    throw new InvalidArgumentError(`--port must be a whole number from 0 to 65535, got "${value}"`);
  return port;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the local stack as a service: webhooks, scheduled sweeps and the search API on one port',
    )
    .requiredOption('--config <file>', 'callvault config file (JSON)')
    .addOption(dataDirOption())
    .option('--port <n>', 'port to listen on (0: any free one)', portOption, 8080)
    .exitOverride(usageExitsTwo)
    .action(async (options: { config: string; dataDir: string; port: number }) => {
      const [{ loadConfigFile }, { serve }] = await Promise.all([
        import('../../lambdas/core/config.ts'),
        import('../../local/serve.ts'),
      ]);
      const config = await loadConfigFile(options.config);
      const dataDir = resolve(options.dataDir);
      const running = await serve({
        config,
        dataDir,
        port: options.port,
        logger: terminalLogger(console.error, true),
      });
      console.log(`callvault serving ${dataDir} on ${running.url}`);
      console.log(`  POST ${running.url}/webhooks/{accountId}    provider callbacks`);
      console.log(
        `  GET  ${running.url}/recordings              search (account, provider, number, status, since, until)`,
      );
      console.log(`  GET  ${running.url}/recordings/{id}/audio   302 to the audio`);
      for (const account of config.accounts) console.log(`  sweep ${account.id}: ${account.schedule}`);
      await untilInterrupted();
      console.log('stopping: finishing running executions (the rest resume on the next start)…');
      await running.close();
    });
}
