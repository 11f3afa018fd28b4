/**
 * Three fixes to s3rver 3.7.1 so the local S3 behaves like S3 where callvault depends on it:
 * a PutObject whose body did not fully arrive stores nothing, a prefixed listing costs what it
 * returns, not what the bucket holds, and a listing of more than one page works.
 */
import { type BinaryLike, type CipherKey, randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
// s3rver's own modules, imported (not required) so that a bundle patches the copy it holds.
import s3rverObject from 's3rver/lib/models/object.js';
import filesystemStore from 's3rver/lib/stores/filesystem.js';

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
  copyObject(
    sourceBucket: string,
    sourceKey: string,
    bucket: string,
    key: string,
    metadata?: unknown,
  ): Promise<unknown>;
  deleteObject(bucket: string, key: string): Promise<void>;
  deleteBucket(bucket: string): Promise<void>;
  listObjects(bucket: string, options: S3rverListOptions): Promise<unknown>;
}

interface S3rverListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}

/** Where a store keeps its key index: per bucket, every key in order. */
const KEY_INDEX = Symbol('callvault key index');
const OBJECT_SUFFIX = '._S3rver_object';

type IndexedStore = S3rverFilesystemStore & { [KEY_INDEX]?: Map<string, string[]> };

/** Every key stored under `directory`, found by walking it (once per bucket and store). */
function* keysOnDisk(directory: string, bucketPath: string): Generator<string> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = `${directory}/${entry.name}`;
    if (entry.isDirectory()) yield* keysOnDisk(path, bucketPath);
    else if (entry.name.endsWith(OBJECT_SUFFIX))
      yield path.slice(bucketPath.length + 1, -OBJECT_SUFFIX.length);
  }
}

/** The first position in the sorted keys whose key is not below `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The bucket's keys in order: read from disk on first use, then kept by this store's writes. */
function keysOf(store: IndexedStore, bucket: string): string[] {
  store[KEY_INDEX] ??= new Map();
  let keys = store[KEY_INDEX].get(bucket);
  if (!keys) {
    const bucketPath = store.getBucketPath(bucket);
    keys = existsSync(bucketPath) ? [...keysOnDisk(bucketPath, bucketPath)].sort() : [];
    store[KEY_INDEX].set(bucket, keys);
  }
  return keys;
}

/** Records in the bucket's key index (once read) that the key now exists, or no longer does. */
function updateKeyIndex(store: IndexedStore, bucket: string, key: string, present: boolean): void {
  const keys = store[KEY_INDEX]?.get(bucket);
  if (!keys) return; // not read yet: the first listing reads the disk
  const at = lowerBound(keys, key);
  const found = keys[at] === key;
  if (present && !found) keys.splice(at, 0, key);
  if (!present && found) keys.splice(at, 1);
}

/**
 * ListObjects with a prefix (the archive's crash-recovery probe, once per recording) made s3rver
 * walk, read and stat the whole directory of the day's recordings: quadratic in the recordings of
 * a day (at 10,000 a day most of the local stack's time), and synchronous on the event loop the
 * whole local stack shares. Patched: each store keeps its buckets' keys in order, read from disk
 * once and kept by its own puts, copies and deletes (this process owns its data directory), and a
 * listing is a binary search. Answers are unchanged (POSIX paths: s3rver encodes keys only on
 * Windows), in S3's order.
 */
function makeS3rverListingIndexed(): void {
  const store = filesystemStore as { prototype: IndexedStore };
  const S3Object = s3rverObject as new (
    bucket: string,
    key: string,
    content: null,
    metadata: unknown,
  ) => unknown;
  const prototype = store.prototype;
  const original = prototype.listObjects as S3rverFilesystemStore['listObjects'] & { indexed?: true };
  if (original.indexed || process.platform === 'win32') return;

  const { putObject, copyObject, deleteObject, deleteBucket } = prototype;
  prototype.putObject = async function (this: IndexedStore, object: S3rverObject) {
    const stored = await putObject.call(this, object);
    updateKeyIndex(this, object.bucket, object.key, true);
    return stored;
  };
  prototype.copyObject = async function (this: IndexedStore, ...args: Parameters<typeof copyObject>) {
    const copied = await copyObject.apply(this, args);
    updateKeyIndex(this, args[2], args[3], true);
    return copied;
  };
  prototype.deleteObject = async function (this: IndexedStore, bucket: string, key: string) {
    await deleteObject.call(this, bucket, key);
    updateKeyIndex(this, bucket, key, false);
  };
  prototype.deleteBucket = async function (this: IndexedStore, bucket: string) {
    await deleteBucket.call(this, bucket);
    this[KEY_INDEX]?.delete(bucket);
  };

  const listed = async function (this: IndexedStore, bucket: string, options: S3rverListOptions) {
    const { delimiter = '', startAfter = '', prefix = '', maxKeys = Number.POSITIVE_INFINITY } = options;
    const all = keysOf(this, bucket);
    const commonPrefixes = new Set<string>();
    const keys: string[] = [];
    let isTruncated = false;
    const from = lowerBound(all, prefix > startAfter ? prefix : `${startAfter}\0`);
    for (let at = from; at < all.length; at += 1) {
      const key = all[at] as string;
      if (!key.startsWith(prefix)) break;
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
  prototype.listObjects = Object.assign(listed, { indexed: true as const });
}

/**
 * S3 stores nothing from a PutObject whose body did not fully arrive; s3rver writes the body
 * straight into the object's file, so a broken upload would leave half an object that listings
 * show. Patched: the body goes to a temporary file, renamed into place only once complete.
 */
function makeS3rverPutAtomic(): void {
  const store = filesystemStore as { prototype: S3rverFilesystemStore };
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

/**
 * s3rver seals its ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node 17+)
 * refuses: every truncated listing (over 1,000 keys, or MaxKeys) answered 500, so a local
 * reconcile or manifest of more than 1,000 recordings failed. Single DES with key K is
 * triple DES (EDE) with K, K, K: the same cipher under a name OpenSSL 3 still has. Only the `des`
 * calls, which throw otherwise, are changed.
 */
function makeS3rverTokensWork(): void {
  const require = createRequire(import.meta.url);
  const crypto = require('node:crypto') as typeof import('node:crypto') & { desMapped?: true };
  if (crypto.desMapped) return;
  const { createCipheriv, createDecipheriv } = crypto;
  const tripled = (key: CipherKey) => Buffer.concat([key, key, key] as Uint8Array[]);
  crypto.createCipheriv = ((algorithm: string, key: CipherKey, iv: BinaryLike | null, options?: never) =>
    algorithm === 'des'
      ? createCipheriv('des-ede3-cbc', tripled(key), iv, options)
      : createCipheriv(algorithm, key, iv, options)) as typeof createCipheriv;
  crypto.createDecipheriv = ((algorithm: string, key: CipherKey, iv: BinaryLike | null, options?: never) =>
    algorithm === 'des'
      ? createDecipheriv('des-ede3-cbc', tripled(key), iv, options)
      : createDecipheriv(algorithm, key, iv, options)) as typeof createDecipheriv;
  crypto.desMapped = true;
}

/** Applies the fixes (once per process). */
export function patchS3rver(): void {
  makeS3rverPutAtomic();
  makeS3rverListingIndexed();
  makeS3rverTokensWork();
}
