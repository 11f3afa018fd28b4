/**
 * The search API (IAM-authorized): `GET /recordings` with the filters of `recordings list`,
 * `GET /recordings/{id}` with the whole entry (the provider's raw record included, which listings
 * leave out), and `GET /recordings/{id}/audio` answering with a short-lived presigned URL (302).
 * Bad parameters are a 400 naming the parameter; an id that is not a recording id, or one no
 * recording has, a 404 saying which of the two it is.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3AudioUrlSigner } from '../aws/s3-presigner.ts';
import { UsageError } from '../core/errors.ts';
import type { RecordingIndex } from '../core/ports.ts';
import { type AudioUrlSigner, audioLink, isRecordingId, quoted, searchRecordings } from '../core/query.ts';
import { environmentIndex } from './environment.ts';
import { type HttpEvent, type HttpResult, jsonResult } from './http.ts';
import { lambdaHandler } from './observability.ts';
import { builtOnce } from './runtime.ts';

export interface QueryDeps {
  index: RecordingIndex;
  signer: AudioUrlSigner;
}

export const createQueryHandler =
  (deps: QueryDeps) =>
  async (event: HttpEvent): Promise<HttpResult> => {
    try {
      const id = event.pathParameters?.id;
      // Not a recording id at all: it names no recording (404, like an unknown one), and is
      // never looked up (DynamoDB refuses a key over 2,048 bytes with a ValidationException).
      if (id !== undefined && !isRecordingId(id) && event.routeKey.startsWith('GET /recordings/{id}')) {
        return jsonResult(404, {
          message: `${quoted(id)} is not a recording id (32 lowercase hex characters)`,
        });
      }
      if (event.routeKey === 'GET /recordings/{id}/audio' && id) {
        const link = await audioLink(id, deps);
        if (!link) return jsonResult(404, { message: `no recording with id ${id}` });
        return jsonResult(302, link, { location: link.url, 'cache-control': 'no-store' });
      }
      if (event.routeKey === 'GET /recordings/{id}' && id) {
        const entry = await deps.index.get(id);
        if (!entry) return jsonResult(404, { message: `no recording with id ${id}` });
        return jsonResult(200, entry);
      }
      if (event.routeKey === 'GET /recordings') {
        const page = await searchRecordings(event.queryStringParameters ?? {}, deps.index);
        return jsonResult(200, { items: page.items, cursor: page.cursor ?? null });
      }
      return jsonResult(404, { message: `no route ${event.routeKey}` });
    } catch (error) {
      if (error instanceof UsageError) return jsonResult(400, { message: error.message });
      throw error;
    }
  };

export const handler = lambdaHandler(
  'query',
  builtOnce(() =>
    createQueryHandler({ index: environmentIndex(), signer: new S3AudioUrlSigner(new S3Client({})) }),
  ),
);
