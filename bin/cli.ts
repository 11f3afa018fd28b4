/**
 * The callvault CLI. Everything runs on the embedded local stack in a data directory:
 *   harvest            sweep every configured account, archive, wait, summarize
 *   backfill           archive a window of history through the sweep workflow (resumable)
 *   recordings list    query the index (same query code as the deployed API)
 *   recordings get     write an archived recording's bytes to a file, verified by SHA-256
 *   providers check    list and download from each configured account, archive nothing
 *   demo               simulators + harvest, end to end (what `npm start` runs)
 *
 * Each command lives in bin/commands/<name>.ts and registers itself here in one line. Start-up
 * loads only commander and the command definitions; an action imports what it uses when it runs
 * (test/integration/cli-startup.test.ts checks that `--help` and `recordings list` stay light).
 */
import { Command } from 'commander';
import { CallvaultError } from '../lambdas/core/errors.ts';
import { registerBackfill } from './commands/backfill.ts';
import { registerDeleteAtSource } from './commands/delete-at-source.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDeployCheck } from './commands/deploy-check.ts';
import { registerHarvest } from './commands/harvest.ts';
import { registerManifest, registerVerify } from './commands/manifest.ts';
import { registerProviders } from './commands/providers.ts';
import { registerReconcile } from './commands/reconcile.ts';
import { registerRecordings } from './commands/recordings.ts';
import { registerServe } from './commands/serve.ts';
import { registerSimulators } from './commands/simulators.ts';
import { registerStatus } from './commands/status.ts';

// The SDK's Node 22 notice is for maintainers, not for someone running the demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = new Command('callvault')
  .description('Archive call recordings from telephony providers into S3 + DynamoDB, exactly once.')
  .showHelpAfterError();

registerHarvest(program);
registerBackfill(program);
registerRecordings(program);
registerServe(program);
registerProviders(program);
registerSimulators(program);
registerDemo(program);
registerStatus(program);
registerDeployCheck(program);
registerReconcile(program);
registerDeleteAtSource(program);
registerManifest(program);
registerVerify(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const known = error instanceof CallvaultError;
  console.error(known ? `callvault: ${(error as Error).message}` : error);
  process.exitCode = 2;
}
