/** The S3- and DynamoDB-compatible servers of the local stack, in-process on loopback. */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import S3rver from 's3rver';

export interface LocalServers {
  s3Endpoint: string;
  dynamoEndpoint: string;
  close(): Promise<void>;
}

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | IncomingMessage;
}

interface S3rverFilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

/**
 * S3 stores nothing from a PutObject whose body did not fully arrive; s3rver writes the body
 * straight into the object's file, so a broken upload would leave half an object that listings
 * show. Patched: the body goes to a temporary file, renamed into place only once complete.
 */
function makeS3rverPutAtomic(): void {
  const require = createRequire(import.meta.url);
  const store = require('s3rver/lib/stores/filesystem.js') as { prototype: S3rverFilesystemStore };
  const original = store.prototype.putObject as S3rverFilesystemStore['putObject'] & { atomic?: true };
  if (original.atomic) return;
  const atomicPutObject = async function (this: S3rverFilesystemStore, object: S3rverObject) {
    if (Buffer.isBuffer(object.content)) return original.call(this, object);
    const request = object.content;
    const finalPath = this.getResourcePath(object.bucket, object.key, 'object');
    const temporaryPath = `${finalPath}.${randomUUID()}.partial`;
    const staging = Object.create(this, {
      getResourcePath: {
        value: (bucket: string, key: string, resource: string) =>
          resource === 'object' && bucket === object.bucket && key === object.key
            ? temporaryPath
            : this.getResourcePath(bucket, key, resource),
      },
    }) as S3rverFilesystemStore;
    const aborted = new Promise<never>((_, reject) => {
      request.once('close', () => {
        if (!request.readableEnded) reject(new Error('the upload ended before its body was complete'));
      });
    });
    try {
      const stored = await Promise.race([original.call(staging, object), aborted]);
      await rename(temporaryPath, finalPath);
      return stored;
    } catch (error) {
      await rm(temporaryPath, { force: true });
      throw error;
    }
  };
  store.prototype.putObject = Object.assign(atomicPutObject, { atomic: true as const });
}

/** Starts both servers with their data under `dataDir` (`s3/`, `dynamodb/`). */
export async function startLocalServers(dataDir: string, buckets: string[]): Promise<LocalServers> {
  const s3Directory = join(dataDir, 's3');
  const dynamoDirectory = join(dataDir, 'dynamodb');
  mkdirSync(s3Directory, { recursive: true });
  mkdirSync(dynamoDirectory, { recursive: true });

  makeS3rverPutAtomic();
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: s3Directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const s3Address = await s3.run();

  const dynamo = dynalite({ path: dynamoDirectory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  dynamo.listen(0, '127.0.0.1');
  await once(dynamo, 'listening');
  const dynamoAddress = dynamo.address() as AddressInfo;

  return {
    s3Endpoint: `http://127.0.0.1:${s3Address.port}`,
    dynamoEndpoint: `http://127.0.0.1:${dynamoAddress.port}`,
    async close() {
      await s3.close();
      dynamo.closeAllConnections();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}
