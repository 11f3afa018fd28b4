/**
 * Serve discovery: a running `callvault serve` publishes its endpoints and per-run credentials in
 * the data directory's `serve.json`; every other command reads it there and attaches instead of
 * starting servers of its own (dynalite's LevelDB lock admits one owner).
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { LocalEndpoints } from '../stack.ts';

const SERVE_FILE = 'serve.json';

/** How long the liveness probe may take; a serve that is alive answers a loopback connect at once. */
const PROBE_TIMEOUT_MS = 2_000;

type PublishedServe = LocalEndpoints & { pid: number; url: string };

/** Endpoints and credentials of a `callvault serve` that owns this data directory, if one is running. */
export async function runningServe(dataDir: string): Promise<PublishedServe | undefined> {
  const file = join(dataDir, SERVE_FILE);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const published = parsePublished(text);
  if (!published) {
    // Written whole or not at all (publishServe renames it in place): this is not ours to trust.
    rmSync(file, { force: true });
    console.error(
      `! ${file} was damaged (not a serve's endpoints): removed it; this command opens the data directory itself`,
    );
    return undefined;
  }
  try {
    process.kill(published.pid, 0);
  } catch {
    rmSync(file, { force: true }); // left behind by a serve that was killed
    return undefined;
  }
  // A live pid is not proof: after a reboot it may be another program's. A serve that no longer
  // answers on its DynamoDB port is gone (ours, in this process, needs no asking).
  if (published.pid === process.pid || !(await refusesConnections(published.dynamodb))) return published;
  // Unless a new serve has just published its own in the meantime.
  if (readFileSync(file, 'utf8') === text) rmSync(file, { force: true });
  console.error(
    `! ${file} named a serve (pid ${published.pid}) that no longer answers at ${published.url}: removed it; this command opens the data directory itself`,
  );
  return undefined;
}

function parsePublished(text: string): PublishedServe | undefined {
  try {
    const published = JSON.parse(text) as Partial<PublishedServe> | null;
    return Number.isInteger(published?.pid) && typeof published?.dynamodb === 'string'
      ? (published as PublishedServe)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a TCP connect to `endpoint` is refused. No answer in time counts as answering: the serve is left alone. */
function refusesConnections(endpoint: string): Promise<boolean> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const settle = (refused: boolean) => {
      socket.destroy();
      resolve(refused);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => settle(false));
    socket.once('connect', () => settle(false));
    socket.once('error', (error: NodeJS.ErrnoException) => settle(error.code === 'ECONNREFUSED'));
  });
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
