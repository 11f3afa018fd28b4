/** The S3- and DynamoDB-compatible servers of the local stack, in-process on loopback. */
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { patchS3rver } from './s3rver-patches.ts';

export interface LocalServers {
  s3Endpoint: string;
  dynamoEndpoint: string;
  close(): Promise<void>;
}

/** Starts both servers with their data under `dataDir` (`s3/`, `dynamodb/`). */
export async function startLocalServers(dataDir: string, buckets: string[]): Promise<LocalServers> {
  const s3Directory = join(dataDir, 's3');
  const dynamoDirectory = join(dataDir, 'dynamodb');
  mkdirSync(s3Directory, { recursive: true });
  mkdirSync(dynamoDirectory, { recursive: true });

  patchS3rver();
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
