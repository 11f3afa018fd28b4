/**
 * The ways of moving the same recordings that the pipeline is measured against. Each one lists
 * the account with the same adapter, then moves every recording at the same concurrency into the
 * same local S3 server, under its own key prefix.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import pMap from 'p-map';
import { request } from 'undici';
import { S3ArchiveStore } from '../lambdas/aws/s3-store.ts';
import type { AccountConfig } from '../lambdas/core/config.ts';
import { basicAuth } from '../lambdas/providers/http.ts';
import { createAdapter } from '../lambdas/providers/index.ts';

export interface Target {
  /** A client of its own, so the pipeline's request counters see only the pipeline. */
  s3: S3Client;
  s3Endpoint: string;
  /** The local stack's credentials for this run. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
  concurrency: number;
}

/** Moves every recording of the account; resolves when all are stored. */
export type Contender = (account: AccountConfig, target: Target) => Promise<void>;

export interface Download {
  key: string;
  url: URL;
}

export async function listDownloads(account: AccountConfig, prefix: string): Promise<Download[]> {
  if (account.provider !== 'bandwidth') throw new Error('the benchmark accounts are Bandwidth simulators');
  const adapter = createAdapter(account);
  const downloads: Download[] = [];
  for await (const recording of adapter.list({})) {
    const path = `/api/v2/accounts/${account.auth.accountId}/calls/${recording.callId}/recordings/${recording.providerRecordingId}/media`;
    downloads.push({
      key: `${prefix}/${recording.providerRecordingId}.wav`,
      url: new URL(path, account.baseUrl),
    });
  }
  return downloads;
}

export function get(account: AccountConfig, url: URL) {
  const auth = account.auth as { username: string; password: string };
  return request(url, { headers: { authorization: basicAuth(auth.username, auth.password) } });
}

function forEach(target: Target, downloads: Download[], move: (download: Download) => Promise<void>) {
  return pMap(downloads, move, { concurrency: target.concurrency }).then(() => undefined);
}

/** The plain way: the whole file into memory, then one PutObject. */
export const baseline: Contender = async (account, target) => {
  await forEach(target, await listDownloads(account, 'baseline'), async ({ key, url }) => {
    const body = Buffer.from(await (await get(account, url)).body.arrayBuffer());
    await target.s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body }));
  });
};

/** The storage limit: each download piped into the archive store's upload, nothing else. */
export const storageLimit: Contender = async (account, target) => {
  const store = new S3ArchiveStore(target.s3, target.bucket);
  await forEach(target, await listDownloads(account, 'limit'), async ({ key, url }) => {
    await store.write(key, (await get(account, url)).body, 'audio/wav', {});
  });
};

/** lib-storage with the SDK's own defaults (5 MiB parts, 4 at a time), for the rclone comparison. */
export const sdkDefaultMultipart: Contender = async (account, target) => {
  await forEach(target, await listDownloads(account, 'sdk-default'), async ({ key, url }) => {
    const body = (await get(account, url)).body;
    await new Upload({ client: target.s3, params: { Bucket: target.bucket, Key: key, Body: body } }).done();
  });
};

/** One streamed PutObject with the provider's Content-Length: what rclone does below 200 MiB. */
export const streamedPut: Contender = async (account, target) => {
  await forEach(target, await listDownloads(account, 'streamed-put'), async ({ key, url }) => {
    const response = await get(account, url);
    const length = Number(response.headers['content-length']);
    await target.s3.send(
      new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: response.body, ContentLength: length }),
    );
  });
};

/** The raw copy: every byte downloaded and dropped. */
export const rawCopy: Contender = async (account, target) => {
  await forEach(target, await listDownloads(account, 'raw'), async ({ url }) => {
    for await (const _chunk of (await get(account, url)).body) {
      // Dropped: only the transfer is timed.
    }
  });
};

/** `rclone version`'s first line, or undefined when rclone is not installed. */
export async function rcloneVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('rclone', ['version']);
    return stdout.split('\n')[0];
  } catch {
    return undefined;
  }
}

/** `rclone copyurl` per recording, the remote configured from the environment (no config file). */
export const rclone: Contender = async (account, target) => {
  const auth = account.auth as { username: string; password: string };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RCLONE_CONFIG_LOCALS3_TYPE: 's3',
    RCLONE_CONFIG_LOCALS3_PROVIDER: 'Other',
    RCLONE_CONFIG_LOCALS3_ENDPOINT: target.s3Endpoint,
    RCLONE_CONFIG_LOCALS3_ACCESS_KEY_ID: target.credentials.accessKeyId,
    RCLONE_CONFIG_LOCALS3_SECRET_ACCESS_KEY: target.credentials.secretAccessKey,
    RCLONE_CONFIG_LOCALS3_FORCE_PATH_STYLE: 'true',
    RCLONE_CONFIG_LOCALS3_REGION: 'us-east-1',
  };
  // rclone's S3 client refuses a custom CA bundle on a plain-http endpoint.
  delete env.AWS_CA_BUNDLE;
  await forEach(target, await listDownloads(account, 'rclone'), async ({ key, url }) => {
    // Credentials as userinfo: `--header` would be sent to the S3 side too.
    const withAuth = new URL(url);
    withAuth.username = encodeURIComponent(auth.username);
    withAuth.password = encodeURIComponent(auth.password);
    await promisify(execFile)('rclone', ['copyurl', withAuth.href, `localS3:${target.bucket}/${key}`], {
      env,
    });
  });
};
