/**
 * The callvault program: every command registered on one commander Command, nothing run. bin/cli.ts
 * parses the process's arguments with it; a test parses its own, in-process.
 */
import { Command } from 'commander';
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

export function createProgram(): Command {
  const program = new Command('callvault')
    .description('Archive call recordings from telephony providers into S3 + DynamoDB, exactly once.')
    .showHelpAfterError();
  for (const register of [
    registerHarvest,
    registerBackfill,
    registerRecordings,
    registerServe,
    registerProviders,
    registerSimulators,
    registerDemo,
    registerStatus,
    registerDeployCheck,
    registerReconcile,
    registerDeleteAtSource,
    registerManifest,
    registerVerify,
  ])
    register(program);
  return program;
}
