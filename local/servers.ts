/**
 * The S3- and DynamoDB-compatible servers of the local stack, on loopback, answering only
 * requests signed with this run's credentials. For the local stack's workflows they run in a
 * worker thread of their own: the servers' work (s3rver's writes and MD5s, dynalite's LevelDB)
 * then uses the second core instead of taking turns with the pipeline on one event loop.
 */
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DataDirectoryError } from '../lambdas/core/errors.ts';
import type { LocalCredentials } from './sigv4.ts';

export interface LocalServers {
  s3Endpoint: string;
  dynamoEndpoint: string;
  close(): Promise<void>;
}

export interface ServersRequest {
  dataDir: string;
  buckets: string[];
  credentials: LocalCredentials;
}

/**
 * Starts both servers with their data under `dataDir` (`s3/`, `dynamodb/`). With `worker` (what
 * a harvest wants: its pipeline keeps one core busy), in a worker thread when this module is the
 * build's JavaScript; otherwise in this thread, which starts sooner (what a command that reads a
 * few items wants). From the TypeScript sources (tests, tsx) always in this thread: a worker
 * could not load them without a loader of its own. The same servers either way.
 */
export async function startLocalServers(
  dataDir: string,
  buckets: string[],
  credentials: LocalCredentials,
  options: { worker?: boolean } = {},
): Promise<LocalServers> {
  if (!options.worker || import.meta.url.endsWith('.ts'))
    return startServersHere(dataDir, buckets, credentials);
  const worker = new Worker(new URL('./servers-worker.js', import.meta.url), {
    workerData: { dataDir, buckets, credentials } satisfies ServersRequest,
  });
  const failed = once(worker, 'error').then(([error]) => {
    throw error;
  });
  const [started] = (await Promise.race([once(worker, 'message'), failed])) as [
    { s3Endpoint: string; dynamoEndpoint: string } | { error: string; name: string },
  ];
  if ('error' in started) {
    await worker.terminate();
    // Only a message crosses the thread: the class is what the CLI tells expected errors by.
    throw started.name === 'DataDirectoryError'
      ? new DataDirectoryError(started.error)
      : new Error(started.error);
  }
  // A server failing later ends the process, as it would in this thread.
  failed.catch((error) =>
    process.nextTick(() => {
      throw error;
    }),
  );
  return {
    ...started,
    async close() {
      worker.postMessage('close');
      await once(worker, 'exit');
    },
  };
}

/** Starts both servers in this thread. */
export async function startServersHere(
  dataDir: string,
  buckets: string[],
  credentials: LocalCredentials,
): Promise<LocalServers> {
  const [dynamoStarted, s3Started] = await Promise.allSettled([
    startIndexServer(dataDir, credentials),
    startS3Here(dataDir, buckets, credentials),
  ]);
  if (dynamoStarted.status === 'rejected' || s3Started.status === 'rejected') {
    // The one that did start would keep the process (or the worker) running after the error.
    await Promise.all(
      [dynamoStarted, s3Started].map((started) =>
        started.status === 'fulfilled' ? started.value.close().catch(() => undefined) : undefined,
      ),
    );
    throw dynamoStarted.status === 'rejected'
      ? dynamoStarted.reason
      : (s3Started as PromiseRejectedResult).reason;
  }
  const [dynamo, s3] = [dynamoStarted.value, s3Started.value];
  return {
    s3Endpoint: s3.endpoint,
    dynamoEndpoint: dynamo.endpoint,
    async close() {
      await Promise.all([s3.close(), dynamo.close()]);
    },
  };
}

interface Server {
  endpoint: string;
  close(): Promise<void>;
}

async function startS3Here(
  dataDir: string,
  buckets: string[],
  credentials: LocalCredentials,
): Promise<Server> {
  const directory = join(dataDir, 's3');
  mkdirSync(directory, { recursive: true });
  // Loaded here: a process whose servers run in a worker never loads them itself.
  const [{ default: S3rver }, { default: s3rverAccount }, { patchS3rver }, { guardServer, refuseS3 }] =
    await Promise.all([
      import('s3rver'),
      import('s3rver/lib/models/account.js'),
      import('./s3rver-patches.ts'),
      import('./sigv4.ts'),
    ]);
  patchS3rver();
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const address = await s3.run();
  // Checked before s3rver, which does not verify v4 signatures and serves unsigned requests; it
  // still looks the key up in its own registry.
  s3rverAccount.DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  const guard = guardServer(s3.httpServer, credentials, refuseS3);
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    async close() {
      await guard.drain();
      await s3.close();
    },
  };
}

/**
 * The DynamoDB server alone, in this thread: what reading the index needs (`recordings list`,
 * `status`), without loading s3rver and its web framework.
 */
export async function startIndexServer(dataDir: string, credentials: LocalCredentials): Promise<Server> {
  const directory = join(dataDir, 'dynamodb');
  mkdirSync(directory, { recursive: true });
  const [{ default: dynalite }, { guardServer, refuseJson }] = await Promise.all([
    import('dynalite'),
    import('./sigv4.ts'),
  ]);
  await checkUnlocked(dataDir, directory);
  const dynamo = dynalite({ path: directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const guard = guardServer(dynamo, credentials, refuseJson, { readBody: true });
  dynamo.listen(0, '127.0.0.1');
  await once(dynamo, 'listening');
  const address = dynamo.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    async close() {
      await guard.drain();
      dynamo.closeAllConnections();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}

/** The LevelDB constructor dynalite opens its data with (a dependency of dynalite, not of callvault). */
type LevelDatabase = new (location: string) => { open(): Promise<void>; close(): Promise<void> };

/**
 * Throws a DataDirectoryError when another process (or another stack in this one) holds the
 * LevelDB lock of `directory`. dynalite opens its database in the background and, when that
 * fails, answers every request by throwing where nothing can catch it: so the lock is taken here
 * first, and let go at once for dynalite to take.
 */
async function checkUnlocked(dataDir: string, directory: string): Promise<void> {
  // Resolved from dynalite at run time: the very module it uses, and a native one no bundle can hold.
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = fromDynalite('level') as { Level: LevelDatabase };
  const db = new Level(directory);
  try {
    await db.open();
  } catch (error) {
    if (!isLocked(error)) throw error;
    throw new DataDirectoryError(
      `data directory ${dataDir} is in use by another callvault process (a harvest, backfill or another command); wait for it, or run \`callvault serve\` there and the other commands attach to it`,
      { cause: error },
    );
  }
  await db.close();
}

/** LevelDB's lock error, which abstract-level wraps as the cause of "Database failed to open". */
function isLocked(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as Error & { code?: string }).code === 'LEVEL_LOCKED') return true;
  }
  return false;
}
