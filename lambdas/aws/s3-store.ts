/**
 * The archive store on S3. Objects are complete or absent, never half-written: a body of known
 * length is streamed as one PutObject (S3 stores nothing unless every announced byte arrived),
 * anything else goes up as a multipart upload, which only becomes an object on completion.
 */
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ArchiveStore, StoredObject } from '../core/ports.ts';
import { translateThrottling } from './throttling.ts';

/** S3's limit for a single PutObject. */
const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

export interface S3ArchiveStoreOptions {
  /** Multipart part size in bytes (bodies of unknown length). Default 8 MiB. */
  partSize?: number;
  /** Parts uploaded in parallel; memory is about partSize × (queueSize + 1). Default 2. */
  queueSize?: number;
}

export class S3ArchiveStore implements ArchiveStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly options: S3ArchiveStoreOptions = {},
  ) {
    translateThrottling(s3, 'S3');
  }

  async find(keyPrefix: string): Promise<StoredObject | undefined> {
    // `X.` is also the start of `X.1.wav`, recording `X.1`'s object: only an extension may follow.
    let token: string | undefined;
    do {
      const listing = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: keyPrefix, ContinuationToken: token }),
      );
      const key = listing.Contents?.find(
        (object) => object.Key && /^[A-Za-z0-9]+$/.test(object.Key.slice(keyPrefix.length)),
      )?.Key;
      if (key) {
        const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
        return {
          bucket: this.bucket,
          key,
          bytes: head.ContentLength ?? 0,
          contentType: head.ContentType,
          metadata: head.Metadata,
        };
      }
      token = listing.IsTruncated ? listing.NextContinuationToken : undefined;
    } while (token);
    return undefined;
  }

  async write(
    key: string,
    body: Readable,
    contentType: string,
    metadata: Record<string, string>,
    contentLength?: number,
  ): Promise<void> {
    const params = { Bucket: this.bucket, Key: key, ContentType: contentType, Metadata: metadata };
    if (contentLength !== undefined && contentLength <= MAX_SINGLE_PUT_BYTES) {
      await this.putStreamed(params, body, contentLength);
      return;
    }
    const upload = new Upload({
      client: this.s3,
      params: { ...params, Body: body },
      partSize: this.options.partSize ?? 8 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 2,
      // A failed body aborts the multipart upload: no half-written object, no orphaned parts.
      leavePartsOnError: false,
    });
    let bodyError: unknown;
    body.once('error', (error) => {
      bodyError = error;
    });
    try {
      await upload.done();
    } catch (error) {
      body.destroy();
      // The broken download is the cause; a failure while aborting the upload is its echo.
      throw bodyError ?? error;
    }
  }

  /**
   * One PutObject whose body flows straight from the download: no buffering, each byte written
   * once. If the download breaks, the request is cancelled and the download's error is thrown.
   */
  private async putStreamed(
    params: { Bucket: string; Key: string; ContentType: string; Metadata: Record<string, string> },
    body: Readable,
    contentLength: number,
  ): Promise<void> {
    const cancel = new AbortController();
    const requestBody = new PassThrough();
    const piped = pipeline(body, requestBody).catch((error: unknown) => {
      cancel.abort();
      throw error;
    });
    const put = this.s3.send(
      new PutObjectCommand({ ...params, Body: requestBody, ContentLength: contentLength }),
      {
        abortSignal: cancel.signal,
      },
    );
    const [pipedResult, putResult] = await Promise.allSettled([piped, put]);
    if (pipedResult.status === 'rejected') throw pipedResult.reason;
    if (putResult.status === 'rejected') throw putResult.reason;
  }

  async read(key: string): Promise<Readable> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return object.Body as Readable;
  }
}
