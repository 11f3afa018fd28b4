/**
 * Client configuration: the SDK's S3 and DynamoDB clients as the local servers need them (path
 * style, the run's credentials, the checksums s3rver can store). S3's client is loaded only by
 * what opens the store: reading the index loads the DynamoDB client alone.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LocalEndpoints } from '../stack.ts';
import { LOCAL_REGION } from '../template.ts';

type Endpoints = Omit<LocalEndpoints, 'stepFunctions'>;

export function dynamoClient(endpoints: Pick<Endpoints, 'dynamodb' | 'credentials'>): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: endpoints.dynamodb,
    region: LOCAL_REGION,
    credentials: endpoints.credentials,
  });
}

export async function clients(endpoints: Endpoints): Promise<{ s3: S3Client; dynamo: DynamoDBClient }> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client({
    // Failures reach callvault as rejected calls; the SDK's own console notes would only clutter.
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    endpoint: endpoints.s3,
    region: LOCAL_REGION,
    credentials: endpoints.credentials,
    forcePathStyle: true,
    // s3rver stores aws-chunked framing inside objects when the SDK checksums streamed bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { s3, dynamo: dynamoClient(endpoints) };
}
