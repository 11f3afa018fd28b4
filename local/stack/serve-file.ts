/**
 * Serve discovery: a running `callvault serve` publishes its endpoints and per-run credentials in
 * the data directory's `serve.json`; every other command reads it there and attaches instead of
 * starting servers of its own (dynalite's LevelDB lock admits one owner).
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LocalEndpoints } from '../stack.ts';

const SERVE_FILE = 'serve.json';

/** How long the liveness probe may take; a serve that is alive answers a loopback connect at once. */
const PROBE_TIMEOUT_MS = 2_000;

type PublishedServe = LocalEndpoints & { pid: number; url: string };

/** Endpoints and credentials of a `callvault serve` that owns this data directory, if one is running. */
export function runningServe(dataDir: string): PublishedServe | undefined {
  const file = join(dataDir, SERVE_FILE);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const published = JSON.parse(text) as PublishedServe;
  try {
    process.kill(published.pid, 0);
  } catch {
    rmSync(file, { force: true }); // left behind by a serve that was killed
    return undefined;
  }
  // A live pid is not proof: after a reboot it may be another program's. A serve that no longer
  // answers on its DynamoDB port is gone (ours, in this process, needs no asking).
  if (published.pid === process.pid || !refusesConnections(published.dynamodb)) return published;
  // Unless a new serve has just published its own in the meantime.
  if (readFileSync(file, 'utf8') === text) rmSync(file, { force: true });
  console.error(
    `! ${file} named a serve (pid ${published.pid}) that no longer answers at ${published.url}: removed it; this command opens the data directory itself`,
  );
  return undefined;
}

/**
 * Whether a TCP connect to `endpoint` is refused. Its callers decide synchronously whether to
 * attach, so the connect runs in a worker thread this one waits for. Not knowing in time (a
 * probe that could not run) counts as answering: the serve is left alone.
 */
function refusesConnections(endpoint: string): boolean {
  const { hostname, port } = new URL(endpoint);
  const state = new Int32Array(new SharedArrayBuffer(4)); // 0 unknown, 1 not refused, 2 refused
  const worker = new Worker(
    `const { workerData: { state, host, port } } = require('node:worker_threads');
     const settle = (value) => { Atomics.store(state, 0, value); Atomics.notify(state, 0); process.exit(0); };
     require('node:net').connect(port, host)
       .once('connect', () => settle(1))
       .once('error', (error) => settle(error.code === 'ECONNREFUSED' ? 2 : 1));`,
    { eval: true, execArgv: [], workerData: { state, host: hostname, port: Number(port) } },
  );
  worker.on('error', () => undefined); // a probe that failed to run is a probe that did not answer
  worker.unref();
  Atomics.wait(state, 0, 0, PROBE_TIMEOUT_MS);
  void worker.terminate();
  return Atomics.load(state, 0) === 2;
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
