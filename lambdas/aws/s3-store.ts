/**
 * The archive store on S3. Objects are complete or absent, never half-written: a body of known
 * length is streamed as one PutObject (S3 stores nothing unless every announced byte arrived),
 * anything else goes up as a multipart upload, which only becomes an object on completion.
 */
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectLockedError } from '../core/errors.ts';
import { isObjectAt } from '../core/ids.ts';
import type {
  ArchiveStore,
  ComplianceStore,
  ObjectState,
  RetentionMode,
  StoredObject,
} from '../core/ports.ts';
import { translateThrottling } from './throttling.ts';

/** S3's limit for a single PutObject. */
const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

export interface S3ArchiveStoreOptions {
  /** Multipart part size in bytes (bodies of unknown length). Default 8 MiB. */
  partSize?: number;
  /** Parts uploaded in parallel; memory is about partSize × (queueSize + 1). Default 2. */
  queueSize?: number;
}

/** The arguments of the port's `write`, named once there. */
export type ArchiveWrite = Parameters<ArchiveStore['write']>;

export class S3ArchiveStore implements ComplianceStore {
  constructor(
    protected readonly s3: S3Client,
    readonly bucket: string,
    private readonly options: S3ArchiveStoreOptions = {},
  ) {
    translateThrottling(s3, 'S3');
  }

  async find(keyPrefix: string): Promise<StoredObject | undefined> {
    let token: string | undefined;
    do {
      const listing = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: keyPrefix, ContinuationToken: token }),
      );
      const key = listing.Contents?.find((object) => object.Key && isObjectAt(keyPrefix, object.Key))?.Key;
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

  async write(...[key, body, contentType, metadata, contentLength]: ArchiveWrite): Promise<void> {
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

  async readVersion(key: string, versionId?: string): Promise<Readable> {
    const object = await this.s3.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }),
    );
    return object.Body as Readable;
  }

  /** Object Lock state comes with HeadObject (s3:GetObject; lock fields need the read permissions). */
  async head(key: string): Promise<ObjectState | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const mode = head.ObjectLockMode?.toLowerCase() as RetentionMode | undefined;
      return {
        key,
        bytes: head.ContentLength ?? 0,
        versionId: head.VersionId && head.VersionId !== 'null' ? head.VersionId : undefined,
        lastModified: head.LastModified?.toISOString(),
        legalHold: head.ObjectLockLegalHoldStatus === 'ON',
        retention:
          mode && head.ObjectLockRetainUntilDate
            ? { mode, until: head.ObjectLockRetainUntilDate.toISOString() }
            : undefined,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; bytes: number }> {
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { key: object.Key, bytes: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async versions(key: string): Promise<(string | null)[]> {
    const found: (string | null)[] = [];
    for await (const page of this.versionPages(key)) {
      for (const version of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
        if (version.Key !== key) continue;
        found.push(version.VersionId && version.VersionId !== 'null' ? version.VersionId : null);
      }
    }
    return found;
  }

  async *hiddenKeys(prefix: string): AsyncIterable<string> {
    for await (const page of this.versionPages(prefix)) {
      for (const marker of page.DeleteMarkers ?? []) {
        if (marker.IsLatest && marker.Key) yield marker.Key;
      }
    }
  }

  private async *versionPages(prefix: string): AsyncIterable<ListObjectVersionsCommandOutput> {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page: ListObjectVersionsCommandOutput = await this.s3.send(
        new ListObjectVersionsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          VersionIdMarker: versionMarker,
        }),
      );
      yield page;
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
  }

  async deleteVersion(
    key: string,
    versionId: string | null,
    options: { bypassGovernance?: boolean } = {},
  ): Promise<void> {
    try {
      await this.s3.send(
        new DeleteObjectCommand({
          Bucket: this.bucket,
          Key: key,
          VersionId: versionId ?? 'null',
          BypassGovernanceRetention: options.bypassGovernance || undefined,
        }),
      );
    } catch (error) {
      // S3 answers 403 AccessDenied for a version protected by Object Lock (and for a caller
      // without the permission: the message says both).
      if ((error as Error).name === 'AccessDenied') {
        throw new ObjectLockedError(
          `${key}: S3 refused the deletion (Object Lock, or no s3:DeleteObjectVersion)`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  async setLegalHold(key: string, on: boolean): Promise<void> {
    await this.s3.send(
      new PutObjectLegalHoldCommand({
        Bucket: this.bucket,
        Key: key,
        LegalHold: { Status: on ? 'ON' : 'OFF' },
      }),
    );
  }

  async putDocument(key: string, body: string, contentType: string): Promise<{ versionId?: string }> {
    const result = await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
    return { versionId: result.VersionId && result.VersionId !== 'null' ? result.VersionId : undefined };
  }
}

function isNotFound(error: unknown): boolean {
  const name = (error as Error).name;
  return (
    name === 'NotFound' ||
    name === 'NoSuchKey' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
  );
}
