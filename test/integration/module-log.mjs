/**
 * `node --import ./module-log.mjs …` with MODULE_LOG=<file>: appends the URL of every module the
 * process loads through the ESM loader (every import of callvault's, and each package entry) to
 * the file. The CLI start-up tests read it to prove a command loads only what it uses.
 */
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

let log;

export function initialize(data) {
  log = data.log;
}

export async function load(url, context, nextLoad) {
  appendFileSync(log, `${url}\n`);
  return nextLoad(url, context);
}

if (isMainThread && process.env.MODULE_LOG)
  register(import.meta.url, { data: { log: process.env.MODULE_LOG } });
