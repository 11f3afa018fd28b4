/**
 * Two fixes to s3rver 3.7.1 so the local S3 behaves like S3 where callvault depends on it:
 * a PutObject whose body did not fully arrive stores nothing, and a prefixed listing does not
 * stat every object of the directories it passes.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | IncomingMessage;
}

interface S3rverFilesystemStore {
  getBucketPath(bucket: string): string;
  getResourcePath(bucket: string, key: string, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<unknown>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  listObjects(bucket: string, options: S3rverListOptions): Promise<unknown>;
}

interface S3rverListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}

/**
 * s3rver's own directory walk, except that an entry whose path can hold no key under the prefix
 * is skipped before it is stat'ed (s3rver stats every file of every directory it enters, then
 * drops the keys outside the prefix). Same entries, same order: only the useless stats go.
 */
function* walkPrefix(
  directory: string,
  prefixPath: string,
  recurseFilter: (path: string) => boolean,
): Generator<string> {
  for (const name of readdirSync(directory)) {
    const path = `${directory}/${name}`;
    if (!path.startsWith(prefixPath) && !prefixPath.startsWith(path)) continue;
    if (!statSync(path).isDirectory()) yield path;
    else if (recurseFilter(path)) yield* walkPrefix(path, prefixPath, recurseFilter);
  }
}

/**
 * ListObjects with a prefix (the archive's crash-recovery probe, once per recording) made s3rver
 * stat every object of the day's directory: quadratic in the recordings of a day, and synchronous
 * on the event loop the whole local stack shares. Patched to s3rver 3.7.1's listObjects with
 * the pruned walk above; answers are unchanged (POSIX paths: s3rver encodes keys only on Windows).
 */
function makeS3rverListingPruned(): void {
  const require = createRequire(import.meta.url);
  const store = require('s3rver/lib/stores/filesystem.js') as {
    prototype: S3rverFilesystemStore;
  };
  const S3Object = require('s3rver/lib/models/object.js') as new (
    bucket: string,
    key: string,
    content: null,
    metadata: unknown,
  ) => unknown;
  const original = store.prototype.listObjects as S3rverFilesystemStore['listObjects'] & { pruned?: true };
  if (original.pruned || process.platform === 'win32') return;
  const objectSuffix = '._S3rver_object';
  const pruned = async function (this: S3rverFilesystemStore, bucket: string, options: S3rverListOptions) {
    const { delimiter = '', startAfter = '', prefix = '', maxKeys = Number.POSITIVE_INFINITY } = options;
    const bucketPath = this.getBucketPath(bucket);
    const startAfterPath = `${bucketPath}/${startAfter}`;
    const prefixPath = `${bucketPath}/${prefix}`;
    const recurseFilter = (dirPath: string) => {
      if (dirPath < startAfterPath && startAfterPath.indexOf(dirPath) === -1) return false;
      if (dirPath.startsWith(prefixPath)) {
        return !(delimiter && dirPath.slice(prefixPath.length).indexOf(delimiter) !== -1);
      }
      return prefixPath.startsWith(dirPath);
    };
    const commonPrefixes = new Set<string>();
    const keys: string[] = [];
    let isTruncated = false;
    for (const keyPath of walkPrefix(bucketPath, prefixPath, recurseFilter)) {
      if (!keyPath.endsWith(objectSuffix)) continue;
      const key = keyPath.slice(bucketPath.length + 1, -objectSuffix.length);
      if (key <= startAfter || !key.startsWith(prefix)) continue;
      if (delimiter) {
        const index = key.slice(prefix.length).indexOf(delimiter);
        if (index !== -1) {
          commonPrefixes.add(key.slice(0, prefix.length + index + 1));
          continue;
        }
      }
      if (keys.length < maxKeys) keys.push(key);
      else {
        isTruncated = true;
        break;
      }
    }
    const metadata = await Promise.all(
      keys.map((key) =>
        this.getMetadata(bucket, key).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return undefined;
          throw error;
        }),
      ),
    );
    return {
      objects: keys.flatMap((key, index) =>
        metadata[index] === undefined ? [] : [new S3Object(bucket, key, null, metadata[index])],
      ),
      commonPrefixes: [...commonPrefixes].sort(),
      isTruncated,
    };
  };
  store.prototype.listObjects = Object.assign(pruned, { pruned: true as const });
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

/** Applies both fixes (once per process). */
export function patchS3rver(): void {
  makeS3rverPutAtomic();
  makeS3rverListingPruned();
}
