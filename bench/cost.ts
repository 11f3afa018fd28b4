/**
 * Request counting on the local stack's SDK clients, and AWS list prices to turn counts into $.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

/**
 * us-east-1 list prices, checked on 2026-11-25 against the public pricing pages (they have not
 * changed since 2023): Step Functions Standard, Lambda arm64, S3 Standard requests, DynamoDB
 * on-demand (the November 2024 price cut).
 */
export const PRICES = {
  stateTransition: 0.025 / 1000,
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecondArm: 0.0000133334,
  s3PutClass: 0.005 / 1000, // PUT, COPY, POST, LIST (CreateMultipartUpload, UploadPart, Complete…)
  s3GetClass: 0.0004 / 1000, // GET, HEAD and the rest
  dynamoWriteUnit: 0.625 / 1_000_000,
  dynamoReadUnit: 0.125 / 1_000_000,
};

const S3_PUT_CLASS = new Set([
  'PutObjectCommand',
  'CopyObjectCommand',
  'CreateMultipartUploadCommand',
  'UploadPartCommand',
  'CompleteMultipartUploadCommand',
  'ListObjectsV2Command',
]);

export interface RequestCounts {
  s3: Record<string, number>;
  dynamo: Record<string, number>;
  dynamoReadUnits: number;
  dynamoWriteUnits: number;
}

export function emptyCounts(): RequestCounts {
  return { s3: {}, dynamo: {}, dynamoReadUnits: 0, dynamoWriteUnits: 0 };
}

/** Counts every request the S3 client sends, by command. */
export function countS3(client: S3Client, counts: RequestCounts): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      counts.s3[context.commandName ?? '?'] = (counts.s3[context.commandName ?? '?'] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCountS3' },
  );
}

/**
 * Counts every DynamoDB request, and asks DynamoDB (dynalite) for the capacity each one consumed,
 * so read and write units are measured from the real item sizes rather than assumed.
 */
export function countDynamo(client: DynamoDBClient, counts: RequestCounts): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '?';
      counts.dynamo[name] = (counts.dynamo[name] ?? 0) + 1;
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
      const units = consumed?.CapacityUnits ?? 0;
      if (/Put|Update|Delete|Write/.test(name)) counts.dynamoWriteUnits += units;
      else counts.dynamoReadUnits += units;
      return result;
    },
    { step: 'initialize', name: 'benchCountDynamo' },
  );
}

export interface LambdaUse {
  invocations: number;
  totalMs: number;
  memoryMiB: number;
}

export interface CostModel {
  perRecording: {
    transitions: number;
    lambdaInvocations: number;
    lambdaGbSeconds: number;
    s3PutClass: number;
    s3GetClass: number;
    dynamoRequests: number;
    dynamoWriteUnits: number;
    dynamoReadUnits: number;
  };
  per1000Usd: { stepFunctions: number; lambda: number; s3: number; dynamo: number; total: number };
}

export function costModel(
  recordings: number,
  transitions: number,
  lambdas: Record<string, LambdaUse>,
  counts: RequestCounts,
): CostModel {
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const uses = Object.values(lambdas);
  const s3Put = sum(Object.entries(counts.s3).flatMap(([name, n]) => (S3_PUT_CLASS.has(name) ? [n] : [])));
  const s3Get = sum(Object.values(counts.s3)) - s3Put;
  const perRecording = {
    transitions: transitions / recordings,
    lambdaInvocations: sum(uses.map((use) => use.invocations)) / recordings,
    // Lambda bills each invocation's duration rounded up to the millisecond, at its memory size.
    lambdaGbSeconds:
      sum(uses.map((use) => (use.totalMs + use.invocations / 2) / 1000 / (1024 / use.memoryMiB))) /
      recordings,
    s3PutClass: s3Put / recordings,
    s3GetClass: s3Get / recordings,
    dynamoRequests: sum(Object.values(counts.dynamo)) / recordings,
    dynamoWriteUnits: counts.dynamoWriteUnits / recordings,
    dynamoReadUnits: counts.dynamoReadUnits / recordings,
  };
  const thousand = {
    stepFunctions: 1000 * perRecording.transitions * PRICES.stateTransition,
    lambda:
      1000 *
      (perRecording.lambdaInvocations * PRICES.lambdaRequest +
        perRecording.lambdaGbSeconds * PRICES.lambdaGbSecondArm),
    s3: 1000 * (perRecording.s3PutClass * PRICES.s3PutClass + perRecording.s3GetClass * PRICES.s3GetClass),
    dynamo:
      1000 *
      (perRecording.dynamoWriteUnits * PRICES.dynamoWriteUnit +
        perRecording.dynamoReadUnits * PRICES.dynamoReadUnit),
  };
  return {
    perRecording,
    per1000Usd: {
      ...thousand,
      total: thousand.stepFunctions + thousand.lambda + thousand.s3 + thousand.dynamo,
    },
  };
}
