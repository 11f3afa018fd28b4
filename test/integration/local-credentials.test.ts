/**
 * The local S3, DynamoDB and Step Functions endpoints take only this run's random credentials
 * (issue 8, item 15): a wrong key id, a wrong secret, an unsigned request or an altered presigned
 * URL is refused; the right credentials work (the rest of the suite runs on them).
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BUCKET, LOCAL_TABLE } from '../../local/stack.ts';
import { localExecutionArn } from '../../local/step-functions.ts';
import { OFFLINE_ACCOUNT, startTestStack, type TestStack } from '../helpers/stack.ts';

describe('local endpoints refuse other credentials', () => {
  let stack: TestStack;
  let right: { accessKeyId: string; secretAccessKey: string };
  const wrongKey = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const wrongSecret = () => ({ accessKeyId: right.accessKeyId, secretAccessKey: 'not-the-secret' });
  const s3 = (credentials: typeof right) =>
    new S3Client({
      endpoint: stack.endpoints.s3,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: Error) => error.name,
    );

  beforeAll(async () => {
    stack = await startTestStack([OFFLINE_ACCOUNT]);
    right = stack.endpoints.credentials;
    await s3(right).send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKET, Key: 'recordings/x.wav', Body: 'phone numbers' }),
    );
  });
  afterAll(() => stack?.dispose());

  it('uses random credentials per run, not the emulators’ well-known ones', () => {
    expect(right.accessKeyId).not.toBe('S3RVER');
    expect(right.secretAccessKey.length).toBeGreaterThanOrEqual(32);
  });

  it('S3: refuses a wrong key id, a wrong secret, an unsigned request and an altered presigned URL', async () => {
    const get = new GetObjectCommand({ Bucket: LOCAL_BUCKET, Key: 'recordings/x.wav' });
    expect(await failure(s3(wrongKey).send(get))).toBe('InvalidAccessKeyId');
    expect(await failure(s3(wrongSecret()).send(get))).toBe('SignatureDoesNotMatch');
    const object = `${stack.endpoints.s3}/${LOCAL_BUCKET}/recordings/x.wav`;
    const unsigned = await fetch(object);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).not.toContain('phone numbers');

    const url = await getSignedUrl(s3(right), get, { expiresIn: 60 });
    expect(await (await fetch(url)).text()).toBe('phone numbers');
    const otherObject = url.replace('recordings/x.wav', 'recordings/y.wav');
    expect((await fetch(otherObject)).status).toBe(403);
    const forged = await getSignedUrl(s3(wrongSecret()), get, { expiresIn: 60 });
    expect((await fetch(forged)).status).toBe(403);
  });

  it('DynamoDB and Step Functions: refuse a wrong key id, a wrong secret and an unsigned request', async () => {
    const dynamo = (credentials: typeof right) =>
      new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: 'us-east-1', credentials });
    const describe = new DescribeTableCommand({ TableName: LOCAL_TABLE });
    expect(await failure(dynamo(right).send(describe))).toBe('accepted');
    expect(await failure(dynamo(wrongKey).send(describe))).toBe('UnrecognizedClientException');
    expect(await failure(dynamo(wrongSecret()).send(describe))).toBe('InvalidSignatureException');
    const unsigned = await fetch(stack.endpoints.dynamodb, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.Scan', 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({ TableName: LOCAL_TABLE }),
    });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.text()).not.toContain('Items');

    const sfn = (credentials: typeof right) =>
      new SFNClient({ endpoint: stack.endpoints.stepFunctions, region: 'us-east-1', credentials });
    const described = new DescribeExecutionCommand({ executionArn: localExecutionArn('nope') });
    expect(await failure(sfn(right).send(described))).toBe('ExecutionDoesNotExist');
    expect(await failure(sfn(wrongKey).send(described))).toBe('UnrecognizedClientException');
    expect(await failure(sfn(wrongSecret()).send(described))).toBe('InvalidSignatureException');
  });
});
