/**
 * Serve discovery: a running `callvault serve` publishes its endpoints and per-run credentials in
 * the data directory's `serve.json`; every other command reads it there and attaches instead of
 * starting servers of its own (dynalite's LevelDB lock admits one owner).
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalEndpoints } from '../stack.ts';

const SERVE_FILE = 'serve.json';

/** Endpoints and credentials of a `callvault serve` that owns this data directory, if one is running. */
export function runningServe(dataDir: string): (LocalEndpoints & { pid: number; url: string }) | undefined {
  const file = join(dataDir, SERVE_FILE);
  if (!existsSync(file)) return undefined;
  const published = JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints & { pid: number; url: string };
  try {
    process.kill(published.pid, 0);
    return published;
  } catch {
    rmSync(file, { force: true }); // left behind by a serve that was killed
    return undefined;
  }
}

/** Writes serve.json, owner read/write only (it holds the credentials), complete or not at all. */
export function publishServe(dataDir: string, endpoints: LocalEndpoints, url: string): () => void {
  const file = join(dataDir, SERVE_FILE);
  const staged = `${file}.${process.pid}.tmp`;
  writeFileSync(staged, JSON.stringify({ ...endpoints, url, pid: process.pid }), { mode: 0o600 });
  chmodSync(staged, 0o600); // the mode above is subject to the umask; this is not
  renameSync(staged, file);
  return () => rmSync(file, { force: true });
}
