/** The archive store on S3: multipart streaming uploads that complete only when the body is whole. */
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ArchiveStore, StoredObject } from '../core/ports.ts';

export interface S3ArchiveStoreOptions {
  /** Multipart part size in bytes; memory per upload is about partSize × queueSize. Default 8 MiB. */
  partSize?: number;
  /** Parts uploaded in parallel. Default 4. */
  queueSize?: number;
}

export class S3ArchiveStore implements ArchiveStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly options: S3ArchiveStoreOptions = {},
  ) {}

  async find(keyPrefix: string): Promise<StoredObject | undefined> {
    const listing = await this.s3.send(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: keyPrefix, MaxKeys: 10 }),
    );
    const key = listing.Contents?.find(
      (object) => object.Key && !object.Key.slice(keyPrefix.length).includes('/'),
    )?.Key;
    if (!key) return undefined;
    const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    return { bucket: this.bucket, key, bytes: head.ContentLength ?? 0, contentType: head.ContentType };
  }

  async write(
    key: string,
    body: Readable,
    contentType: string,
    metadata: Record<string, string>,
  ): Promise<void> {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, Metadata: metadata },
      partSize: this.options.partSize ?? 8 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 4,
      // A failed body aborts the multipart upload: no half-written object, no orphaned parts.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      body.destroy();
      throw error;
    }
  }

  async read(key: string): Promise<Readable> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return object.Body as Readable;
  }
}
