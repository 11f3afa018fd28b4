/**
 * Reconcile's read-back at a modeled S3 latency: `npx tsx bench/reconcile.ts [objects] [latencyMs]`.
 * Every archived object is checked by a HeadObject and a GetObject whose bytes are hashed
 * (verifyObject). Against loopback that costs only CPU; against S3 each request first waits out
 * its latency, which this bench adds before every request the store's client sends. It times the
 * same check of the same objects one at a time and as reconcile runs it (VERIFY_CONCURRENCY).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pMap from 'p-map';
import { VERIFY_CONCURRENCY, verifyObject } from '../lambdas/core/reconcile.ts';
import { LocalArchiveStore } from '../local/locked-store.ts';
import { startLocalServers } from '../local/servers.ts';
import { randomCredentials } from '../local/sigv4.ts';
import { clients } from '../local/stack/clients.ts';
import { LOCAL_BUCKET } from '../local/stack.ts';

const objects = Number(process.argv[2] ?? 400);
const latencyMs = Number(process.argv[3] ?? 20);
const dataDir = mkdtempSync(join(import.meta.dirname, '.work-reconcile-'));
const credentials = randomCredentials();
const servers = await startLocalServers(dataDir, [LOCAL_BUCKET], credentials, { worker: true });
const { s3, dynamo } = await clients({
  s3: servers.s3Endpoint,
  dynamodb: servers.dynamoEndpoint,
  credentials,
});

const body = Buffer.alloc(8_000, 7); // 0.5 s of the simulators' 8 kHz 16-bit audio
const sha256 = createHash('sha256').update(body).digest('hex');
const entries = Array.from({ length: objects }, (_, index) => ({
  key: `recordings/bench/2026/12/02/r-${String(index).padStart(6, '0')}.wav`,
  bytes: body.length,
  sha256,
}));
await pMap(
  entries,
  ({ key }) => s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKET, Key: key, Body: body })),
  {
    concurrency: 16,
  },
);

// From here on every request waits `latencyMs` before it is sent, as if S3 were that far away.
s3.middlewareStack.add(
  (next) => async (args) => {
    await sleep(latencyMs);
    return next(args);
  },
  { step: 'finalizeRequest', name: 'modeledLatency' },
);
const store = new LocalArchiveStore(s3, LOCAL_BUCKET);
const timed = async (concurrency: number) => {
  const started = performance.now();
  const results = await pMap(entries, (entry) => verifyObject(store, entry), { concurrency });
  if (!results.every((result) => result.ok)) throw new Error('an object did not verify');
  return (performance.now() - started) / 1000;
};
const oneAtATime = await timed(1);
const asReconcile = await timed(VERIFY_CONCURRENCY);
console.log(
  JSON.stringify({
    objects,
    latencyMs,
    oneAtATimeSeconds: oneAtATime,
    concurrency: VERIFY_CONCURRENCY,
    seconds: asReconcile,
  }),
);
s3.destroy();
dynamo.destroy();
await servers.close();
rmSync(dataDir, { recursive: true, force: true });
