#!/usr/bin/env node
// The `callvault` command: runs the JavaScript build (`npm run build`, which `npm ci` runs).
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22.1+ keeps compiled modules on disk between runs, which shortens every later start;
// older Node has no such cache and goes on without it.
module.enableCompileCache?.();

const cli = new URL('../dist/cli/callvault.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('callvault: no build in dist/; run "npm ci" or "npm run build" first');
  process.exit(2);
}
await import(cli.href);
