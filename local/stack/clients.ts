/**
 * Client configuration: the SDK's S3 and DynamoDB clients as the local servers need them (path
 * style, the run's credentials, the checksums s3rver can store).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { LocalEndpoints } from '../stack.ts';
import { LOCAL_REGION } from '../template.ts';

export function clients(endpoints: Omit<LocalEndpoints, 'stepFunctions'>) {
  const credentials = endpoints.credentials;
  const s3 = new S3Client({
    // Failures reach callvault as rejected calls; the SDK's own console notes would only clutter.
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    endpoint: endpoints.s3,
    region: LOCAL_REGION,
    credentials,
    forcePathStyle: true,
    // s3rver stores aws-chunked framing inside objects when the SDK checksums streamed bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const dynamo = new DynamoDBClient({
    endpoint: endpoints.dynamodb,
    region: LOCAL_REGION,
    credentials,
  });
  return { s3, dynamo };
}
