/**
 * Every Lambda function (the eleven of lib/constructs/app-function.ts) through its entry point
 * (`handler`), as Lambda runs it: dependencies built from the environment
 * (lambdas/handlers/environment.ts) inside lambdaHandler, against the local stack's servers and an
 * AWS shim (Secrets Manager) and a proxy that answers ListObjectVersions for s3rver, reached
 * through the SDK's AWS_ENDPOINT_URL_* variables. The local
 * stack itself runs the handlers' factories with its own clients, so only this runs the deployed
 * wiring. Retry, ended, manifest, reconcile and delete-at-source once threw on every invocation:
 * they built their SDK clients before lambdaHandler had loaded Powertools.
 */
import { createHash, createHmac } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretsAccountDirectory } from '../../lambdas/aws/accounts.ts';
import { executionName, recordingId } from '../../lambdas/core/ids.ts';
import { ENV_VARS } from '../../lambdas/core/names.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { RETRIES_EXHAUSTED_MESSAGE } from '../../lambdas/core/retry.ts';
import { harvest } from '../../local/harvest.ts';
import { type SimRecording, sampleRecordings } from '../../local/simulators/base.ts';
import type { VoipbinSimulator } from '../../local/simulators/voipbin.ts';
import { LOCAL_BUCKET, LOCAL_TABLE } from '../../local/stack.ts';
import { LOCAL_REGION } from '../../local/template.ts';
import { accountOf, simulatorOf } from '../helpers/simulators.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { type AwsShims, startAwsShims } from './aws-shims.ts';
import { type S3VersionsProxy, startS3VersionsProxy } from './s3-versions-proxy.ts';

const REF = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-00000' };
const ACCOUNTS_KEY = 'config/accounts.json';
const SECRET = 'callvault/accounts/vb';
const WEBHOOK_SECRET = 'hook-secret-vb';

describe('the Lambda entry points', { timeout: 120_000 }, () => {
  let simulator: VoipbinSimulator;
  let stack: TestStack;
  let shims: AwsShims;
  let s3: S3VersionsProxy;
  const saved = { ...process.env };

  /** A recording the provider lists from now on, made after the harvest. */
  const addRecording = (id: string, startHourUtc: number) => {
    const [recording] = sampleRecordings(1, {
      start: new Date(Date.UTC(2026, 10, 2, startHourUtc)),
      makeId: () => id,
    });
    simulator.add(recording as SimRecording);
  };

  beforeAll(async () => {
    simulator = simulatorOf('voipbin', 1, { prefix: 'vb' });
    await simulator.start();
    // Every download cut short: the harvest leaves the recording failed, for the retry job.
    simulator.inject({ kind: 'truncate', on: 'audio', times: Number.POSITIVE_INFINITY, fraction: 0.5 });
    const account = accountOf('voipbin', simulator, 'vb');
    stack = await startTestStack([account]);
    expect((await harvest(stack))[0]).toMatchObject({ failed: 1 });
    simulator.clearFaults();

    const { auth, ...publicPart } = account;
    shims = await startAwsShims({
      secrets: { [SECRET]: JSON.stringify({ auth, webhook: { secret: WEBHOOK_SECRET } }) },
    });
    s3 = await startS3VersionsProxy(stack.endpoints.s3, stack.endpoints.credentials);
    const accountsObject = JSON.stringify([{ ...publicPart, secret: SECRET }]);
    await stack.archive.s3.send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKET, Key: ACCOUNTS_KEY, Body: accountsObject }),
    );

    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: stack.endpoints.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: stack.endpoints.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SFN: stack.endpoints.stepFunctions,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: shims.endpoint,
      // Errors only, through the global console (Powertools' dev mode: the same JSON items,
      // indented), where the test reads the retry job's limit line.
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_DEV: 'true',
      [ENV_VARS.tableName]: LOCAL_TABLE,
      [ENV_VARS.bucketName]: LOCAL_BUCKET,
      [ENV_VARS.stateMachineArn]: stack.stepFunctions.stateMachineArn,
      [ENV_VARS.sweepStateMachineArn]: stack.sweepFunctions.stateMachineArn,
      [ENV_VARS.retry]: JSON.stringify({ maxAttempts: 2 }),
      [ENV_VARS.accountsBucket]: LOCAL_BUCKET,
      [ENV_VARS.accountsKey]: ACCOUNTS_KEY,
      [ENV_VARS.accountsSha256]: createHash('sha256').update(accountsObject).digest('hex'),
    });
  }, 120_000);

  afterAll(async () => {
    process.env = saved;
    await shims?.close();
    await s3?.close();
    await stack?.dispose();
    await simulator?.stop();
  });

  it('retry: hands the failed recording to the workflow again, which archives it', async () => {
    const { handler } = await import('../../lambdas/handlers/retry.ts');
    const result = await handler({ ignoreBackoff: true });
    expect(result.started).toEqual([executionName(REF, 1)]);
    await stack.waitFor(result.started);
    expect(await stack.runtime.index.get(recordingId(REF))).toMatchObject({
      status: 'archived',
      sha256: simulator.audio('vb-00000').sha256(),
    });
  });

  it('ended: records an execution that timed out without an outcome as failed', async () => {
    const { handler } = await import('../../lambdas/handlers/ended.ts');
    const lost = { ...REF, providerRecordingId: 'vb-lost' };
    const result = await handler({
      'detail-type': 'Step Functions Execution Status Change',
      detail: { name: executionName(lost), status: 'TIMED_OUT', input: JSON.stringify({ ref: lost }) },
    });
    expect(result).toEqual({ recorded: true });
    expect(await stack.runtime.index.get(recordingId(lost))).toMatchObject({
      status: 'failed',
      errorName: 'ExecutionTimedOut',
    });
  });

  it('retry: logs recordings at the retry limit in the line the RetriesExhausted metric filter counts', async () => {
    const { handler } = await import('../../lambdas/handlers/retry.ts');
    const lost = recordingId({ ...REF, providerRecordingId: 'vb-lost' });
    // Its second failed round (the first was the timed-out execution): the limit is 2 here.
    const entry = await stack.runtime.index.get(lost);
    await stack.runtime.index.put({ ...(entry as IndexEntry), round: 1 });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect((await handler({})).exhausted).toEqual([lost]);
      // The filter is `{ $.message = "…" }` on the function's log group (lib/constructs/failed-retries.ts).
      const items = logged.mock.calls.map(([line]) => JSON.parse(String(line)) as { message: string });
      expect(items.map((item) => item.message)).toContain(RETRIES_EXHAUSTED_MESSAGE);
    } finally {
      logged.mockRestore();
    }
  });

  it('manifest: writes the day the recording was archived into the archive bucket', async () => {
    const { handler } = await import('../../lambdas/handlers/manifest.ts');
    const entry = await stack.runtime.index.get(recordingId(REF));
    // Archived today, but only a day that has ended is written (the servers refuse a moved
    // clock): the entry is dated yesterday for this run, as the nightly run finds it.
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const id = recordingId(REF);
    await stack.archive.index.patch(id, { archivedAt: `${day}T12:00:00.000Z` });
    const run = await handler({}).finally(() =>
      stack.archive.index.patch(id, { archivedAt: entry?.archivedAt }),
    );
    expect(run.days).toEqual([day]);
    const [written] = run.written;
    expect(written).toMatchObject({ recordings: 1 });
    const manifest = await text(await stack.archive.store.readVersion(written?.key ?? ''));
    expect(manifest).toContain(recordingId(REF));
  });

  it('refuses an accounts object changed in the bucket since the deploy (it says where credentials go)', async () => {
    const s3Client = new S3Client({ forcePathStyle: true });
    const changed = SecretsAccountDirectory.fromEnvironment(new SecretsManagerClient({}), s3Client, {
      ...process.env,
      [ENV_VARS.accountsSha256]: createHash('sha256').update('[]').digest('hex'),
    });
    await expect(changed.list()).rejects.toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        message: `s3://${LOCAL_BUCKET}/${ACCOUNTS_KEY} is not the accounts object this stack was deployed with (its SHA-256 differs): it was changed in the bucket; deploy again`,
      }),
    );
    s3Client.destroy();
  });

  it('reconcile: checks the account read from the accounts file and its secret, and finds no gap', async () => {
    const { handler } = await import('../../lambdas/handlers/reconcile.ts');
    const result = await handler({});
    expect(result.gaps).toBe(0);
    expect(shims.calls).toContain('SecretsManager.GetSecretValue');
  });

  it('query: finds the recording, and its audio route redirects to a link that serves its bytes', async () => {
    const { handler } = await import('../../lambdas/handlers/query.ts');
    const request = (routeKey: string, extra: Partial<APIGatewayProxyEventV2> = {}) =>
      handler({ routeKey, ...extra } as APIGatewayProxyEventV2);
    const found = await request('GET /recordings', { queryStringParameters: { account: 'vb' } });
    expect(found.statusCode).toBe(200);
    expect(JSON.parse(found.body ?? '{}').items.map((item: { id: string }) => item.id)).toContain(
      recordingId(REF),
    );
    const audio = await request('GET /recordings/{id}/audio', { pathParameters: { id: recordingId(REF) } });
    expect(audio.statusCode).toBe(302);
    const bytes = Buffer.from(await (await fetch(String(audio.headers?.location))).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(simulator.audio('vb-00000').sha256());
  });

  it('intake: takes a signed webhook and starts the workflow, which archives the recording', async () => {
    const { handler } = await import('../../lambdas/handlers/intake.ts');
    addRecording('vb-hook', 9);
    const body = JSON.stringify({ type: 'recording_finished', data: { id: 'vb-hook', status: 'ended' } });
    const answer = await handler({
      routeKey: 'POST /webhooks/{accountId}',
      pathParameters: { accountId: 'vb' },
      headers: {
        'content-type': 'application/json',
        'x-voipbin-signature': createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex'),
      },
      body,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2);
    expect(answer.statusCode).toBe(202);
    const hooked = { ...REF, providerRecordingId: 'vb-hook' };
    await stack.waitFor([executionName(hooked)]);
    expect(await stack.runtime.index.get(recordingId(hooked))).toMatchObject({
      status: 'archived',
      sha256: simulator.audio('vb-hook').sha256(),
    });
  });

  it('sweep-step: lists the account, read from the accounts file, and hands the new recording over', async () => {
    const { handler } = await import('../../lambdas/handlers/sweep-step.ts');
    addRecording('vb-swept', 10);
    // As the sweep workflow runs its units: the state of one is the input of the next.
    let state: Awaited<ReturnType<typeof handler>> | { accountId: string } = { accountId: 'vb' };
    for (let unit = 0; unit < 10 && !('status' in state && state.status === 'done'); unit += 1)
      state = await handler({ state, execution: 'entry-point-sweep' });
    expect(state).toMatchObject({ status: 'done', progress: { started: 1 } });
    const swept = { ...REF, providerRecordingId: 'vb-swept' };
    await stack.waitFor([executionName(swept)]);
    expect(await stack.runtime.index.get(recordingId(swept))).toMatchObject({ status: 'archived' });
  });

  it('check, archive and record: the ingest steps, chained as the workflow does, archive a recording', async () => {
    const [check, archive, record] = await Promise.all([
      import('../../lambdas/handlers/check.ts'),
      import('../../lambdas/handlers/archive.ts'),
      import('../../lambdas/handlers/record.ts'),
    ]);
    addRecording('vb-steps', 11);
    const ref = { ...REF, providerRecordingId: 'vb-steps' };
    const checked = await check.handler({ ref });
    expect(checked.decision).toBe('archive');
    // Archive's result goes to `$.archive`; RecordArchived gets `{ state: $, outcome }`.
    const archived = { ...checked, archive: await archive.handler(checked) };
    expect(await record.handler({ state: archived, outcome: 'archived' })).toMatchObject({
      status: 'archived',
    });
    expect(await stack.runtime.index.get(recordingId(ref))).toMatchObject({
      status: 'archived',
      sha256: simulator.audio('vb-steps').sha256(),
    });
  });

  it('delete-at-source: runs over the configured accounts (none deletes at source here)', async () => {
    const { handler } = await import('../../lambdas/handlers/delete-at-source.ts');
    expect(await handler({})).toEqual({
      deleted: 0,
      unverified: 0,
      failed: 0,
      remaining: 0,
      notDeletable: 0,
      held: 0,
    });
  });
});
