#!/usr/bin/env node
// The `callvault` command: runs the JavaScript build (`npm run build`, which `npm ci` runs).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/bin/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('callvault: no build in dist/; run "npm ci" or "npm run build" first');
  process.exit(2);
}
await import(cli.href);
