/**
 * The callvault CLI. Everything runs on the embedded local stack in a data directory:
 *   harvest            sweep every configured account, archive, wait, summarize
 *   backfill           archive a window of history through the sweep workflow (resumable)
 *   recordings list    query the index (same query code as the deployed API)
 *   recordings get     write an archived recording's bytes to a file, verified by SHA-256
 *   providers check    list and download from each configured account, archive nothing
 *   demo               simulators + harvest, end to end (what `npm start` runs)
 *
 * Each command lives in bin/commands/<name>.ts and is registered in bin/program.ts. Start-up loads
 * only commander and the command definitions; an action imports what it uses when it runs
 * (test/integration/cli-startup.test.ts checks that `--help` and `recordings list` stay light).
 */
import { CommanderError } from 'commander';
import { CallvaultError } from '../lambdas/core/errors.ts';
import { createProgram } from './program.ts';

// The SDK's Node 22 notice is for maintainers, not for someone running the demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  // An action's own refusal of an option (InvalidArgumentError) is as expected as ours: no stack.
  const known = error instanceof CallvaultError || error instanceof CommanderError;
  console.error(known ? `callvault: ${(error as Error).message}` : error);
  process.exitCode = 2;
}
