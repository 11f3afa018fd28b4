import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRecordingIndex } from '../../lambdas/aws/dynamo-index.ts';
import { S3ArchiveStore } from '../../lambdas/aws/s3-store.ts';
import { AwsThrottledError } from '../../lambdas/core/errors.ts';
import { listen, shut } from '../helpers/http-server.ts';

let server: Server;
let endpoint = '';
let conditional = false;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    const target = request.headers['x-amz-target'];
    if (target) {
      // put() of an entry without the call's start reads the stored item first: there is none.
      if (conditional && String(target).endsWith('.GetItem')) {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end('{}');
        return;
      }
      // DynamoDB: JSON 1.0; a conditional-check failure stays what it is.
      const type = conditional ? 'ConditionalCheckFailedException' : 'ProvisionedThroughputExceededException';
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'no' }));
      return;
    }
    response.writeHead(503, { 'content-type': 'application/xml' });
    response.end(
      '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>',
    );
  });
  endpoint = await listen(server);
});
afterAll(() => shut(server));

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('throttled AWS calls', () => {
  it('DynamoDB throttling is AwsThrottledError; a failed condition is still "not written"', async () => {
    const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    const index = new DynamoRecordingIndex(client, 'table');
    const error = await index.get('x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsThrottledError);
    expect((error as Error).name).toBe('AwsThrottledError');
    expect((error as Error).message).toBe(
      'DynamoDB throttled the request (ProvisionedThroughputExceededException)',
    );
    conditional = true;
    const entry = {
      id: 'x',
      accountId: 'a',
      provider: 'voipbin' as const,
      providerRecordingId: 'r',
      status: 'failed' as const,
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    expect(await index.put(entry)).toBe(false);
    conditional = false;
    client.destroy();
  });

  it('S3 SlowDown is AwsThrottledError, on reads and on writes', async () => {
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    const store = new S3ArchiveStore(client, 'bucket');
    await expect(store.find('recordings/a/')).rejects.toBeInstanceOf(AwsThrottledError);
    await expect(
      store.write('recordings/a/x.wav', Readable.from([Buffer.from('RIFF')]), 'audio/wav', {}, 4),
    ).rejects.toBeInstanceOf(AwsThrottledError);
    client.destroy();
  });
});
