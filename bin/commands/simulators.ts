import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { untilInterrupted } from './common.ts';

export function registerSimulators(program: Command): void {
  program
    .command('simulators')
    .description('run the five provider simulators (as in the demo) until interrupted')
    .option(
      '--write-config <file>',
      'write a callvault config pointing at them',
      '.callvault/simulators.json',
    )
    .option('--faults', "inject the demo's faults (a 429, a 503, a reset, a truncated download)")
    .action(async (options: { writeConfig: string; faults?: boolean }) => {
      const { startFleet } = await import('../../local/simulators/fleet.ts');
      const fleet = await startFleet({ faults: options.faults ?? false });
      const config = {
        accounts: fleet.accounts,
        readiness: { initialDelaySeconds: 1, maxDelaySeconds: 2, deadlineSeconds: 120 },
      };
      await mkdir(dirname(resolve(options.writeConfig)), { recursive: true });
      await writeFile(options.writeConfig, `${JSON.stringify(config, null, 2)}\n`);
      for (const account of fleet.accounts)
        console.log(`${account.id.padEnd(8)} ${account.provider.padEnd(10)} ${account.baseUrl}`);
      console.log(
        `config written to ${options.writeConfig}; try: npx callvault providers check --config ${options.writeConfig}`,
      );
      console.log('Ctrl-C stops the simulators.');
      await untilInterrupted();
      await fleet.stop();
    });
}
