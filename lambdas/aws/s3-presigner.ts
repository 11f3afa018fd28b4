/** Presigned GET URLs for archived audio. */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AudioUrlSigner } from '../core/query.ts';

export class S3AudioUrlSigner implements AudioUrlSigner {
  constructor(private readonly s3: S3Client) {}

  presign(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), {
      expiresIn: expiresInSeconds,
    });
  }
}
