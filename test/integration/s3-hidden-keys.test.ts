/**
 * The S3 store names keys hidden behind a delete marker (what the manifest chain refuses to write
 * over), from ListObjectVersions, against a shim answering as a versioned bucket does: s3rver
 * keeps no versions.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { S3ArchiveStore } from '../../lambdas/aws/s3-store.ts';
import { type ObjectLockShim, startObjectLockShim } from './s3-object-lock-shim.ts';

const BUCKET = 'archive';
let shim: ObjectLockShim;
let client: S3Client;
beforeAll(async () => {
  shim = await startObjectLockShim(BUCKET);
  client = new S3Client({
    endpoint: shim.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
  });
});
afterAll(async () => {
  client?.destroy();
  await shim?.close();
});

it('lists the keys whose current version is a delete marker, and leaves them out of listings', async () => {
  shim.objects.set('manifests/2025/03/10.jsonl', { versions: ['v1'], legalHold: false });
  shim.objects.set('manifests/2025/03/11.jsonl', { versions: ['v2'], legalHold: false, deleteMarker: 'm1' });
  shim.objects.set('recordings/a/x.wav', { versions: ['v3'], legalHold: false, deleteMarker: 'm2' });
  const store = new S3ArchiveStore(client, BUCKET);

  const hidden: string[] = [];
  for await (const key of store.hiddenKeys('manifests/')) hidden.push(key);
  expect(hidden).toEqual(['manifests/2025/03/11.jsonl']);

  const listed: string[] = [];
  for await (const object of store.list('manifests/')) listed.push(object.key);
  expect(listed).toEqual(['manifests/2025/03/10.jsonl']);
  expect(await store.versions('manifests/2025/03/11.jsonl')).toEqual(['v2', 'm1']);
});
