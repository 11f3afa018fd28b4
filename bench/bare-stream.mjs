/**
 * The start-up benchmark's floor for a harvest, as a whole process in plain JavaScript (no
 * transpiler): each download streamed into one PutObject with the provider's Content-Length, at
 * the stack's concurrency. Input: one JSON argument
 * `{ s3Endpoint | dataDir, bucket, authorization, concurrency, downloads: [{ url, key }] }`; with
 * `dataDir` the process runs the local stack's s3rver itself (from the build, in a worker thread), as
 * a callvault harvest does.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pMap from 'p-map';
import { request } from 'undici';

const job = JSON.parse(process.argv[2] ?? '{}');
// The local servers take only the credentials of their run, as callvault's own stack does.
const credentials = job.dataDir
  ? (await import('../dist/local/sigv4.js')).randomCredentials()
  : { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const servers = job.dataDir
  ? await (await import('../dist/local/servers.js')).startLocalServers(
      job.dataDir,
      [job.bucket],
      credentials,
      {
        worker: true,
      },
    )
  : undefined;
const s3 = new S3Client({
  endpoint: servers?.s3Endpoint ?? job.s3Endpoint,
  region: 'us-east-1',
  credentials,
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
await pMap(
  job.downloads,
  async ({ url, key }) => {
    const response = await request(url, { headers: { authorization: job.authorization } });
    const length = Number(response.headers['content-length']);
    await s3.send(
      new PutObjectCommand({ Bucket: job.bucket, Key: key, Body: response.body, ContentLength: length }),
    );
  },
  { concurrency: job.concurrency },
);
s3.destroy();
await servers?.close();
