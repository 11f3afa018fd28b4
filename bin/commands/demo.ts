import { resolve } from 'node:path';
import type { Command } from 'commander';
import { dataDirOption, runHarvest } from './common.ts';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('start the five provider simulators and harvest them end to end on the local stack')
    .addOption(dataDirOption())
    .action(async (options: { dataDir: string }) => {
      const [{ parseConfig }, { startFleet }] = await Promise.all([
        import('../../lambdas/core/config.ts'),
        import('../../local/simulators/fleet.ts'),
      ]);
      const dataDir = resolve(options.dataDir);
      console.log('Starting the Infobip, DialogTech, VoIPBin, Restcomm and Bandwidth simulators…');
      const fleet = await startFleet();
      try {
        const config = parseConfig({
          accounts: fleet.accounts,
          readiness: { initialDelaySeconds: 1, maxDelaySeconds: 2, deadlineSeconds: 120 },
        });
        for (const account of fleet.accounts)
          console.log(`  ${account.id.padEnd(8)} ${account.provider.padEnd(10)} ${account.baseUrl}`);
        console.log(
          `Harvesting into ${dataDir} (some recordings are still processing; some requests will fail once)…\n`,
        );
        const ok = await runHarvest(config, dataDir);
        console.log('Look at what was archived:');
        console.log(`  npx callvault recordings list --data-dir ${options.dataDir}`);
        console.log(
          `  npx callvault recordings list --json --provider voipbin --data-dir ${options.dataDir}`,
        );
        console.log(
          `  npx callvault recordings get <id> --output recording.wav --data-dir ${options.dataDir}`,
        );
        console.log('Run the demo again: everything is already archived, nothing is downloaded twice.');
        process.exitCode = ok ? 0 : 1;
      } finally {
        await fleet.stop();
      }
    });
}
