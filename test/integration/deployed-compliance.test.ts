import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionName, recordingId } from '../../lambdas/core/ids.ts';
import type { IndexEntry } from '../../lambdas/core/ports.ts';
import { type SimRecording, sampleRecordings } from '../../local/simulators/base.ts';
import { VoipbinSimulator, voipbinSimulatorAccount } from '../../local/simulators/voipbin.ts';
import { LOCAL_TABLE } from '../../local/stack.ts';
import { LOCAL_STATE_MACHINE_ARN } from '../../local/step-functions.ts';
import { LOCAL_REGION } from '../../local/template.ts';
import { runCli } from '../helpers/cli.ts';
import { failedEntry, startTestStack, type TestStack } from '../helpers/stack.ts';
import { type AwsShims, startAwsShims } from './aws-shims.ts';
import { type ObjectLockShim, startObjectLockShim } from './s3-object-lock-shim.ts';

const BUCKET = 'callvault-archive';

describe('hold, release and erase on the deployed archive', () => {
  let simulator: VoipbinSimulator;
  let stack: TestStack;
  let shims: AwsShims;
  let bucket: ObjectLockShim;

  const callvault = async (...args: string[]) => {
    const env = {
      AWS_REGION: LOCAL_REGION,
      AWS_ENDPOINT_URL_CLOUDFORMATION: shims.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
      AWS_ENDPOINT_URL_S3: bucket.endpoint,
      // The test stack's own Step Functions: the ingest executions are really running there.
      AWS_ENDPOINT_URL_SFN: stack.endpoints.stepFunctions,
      AWS_ACCESS_KEY_ID: stack.endpoints.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: stack.endpoints.credentials.secretAccessKey,
    };
    const { code, stdout, stderr } = await runCli(['recordings', ...args, '--deployed'], {
      env,
      timeout: 60_000,
    });
    return { code, output: code === 0 ? stdout : stdout + stderr };
  };

  const archived = (name: string): IndexEntry => ({
    id: `vb:voipbin:${name}`,
    accountId: 'vb',
    provider: 'voipbin',
    providerRecordingId: name,
    status: 'archived',
    key: `recordings/vb/voipbin/2026/11/30/${name}.wav`,
    sha256: 'ab'.repeat(32),
    bytes: 1,
    raw: JSON.stringify({ id: name }),
    from: '+15550100',
    updatedAt: '2026-11-30T10:00:00.000Z',
  });

  beforeAll(async () => {
    simulator = new VoipbinSimulator({ recordings: [] });
    await simulator.start();
    stack = await startTestStack([voipbinSimulatorAccount(simulator, 'vb')]);
    shims = await startAwsShims({
      stacks: {
        Callvault: { TableName: LOCAL_TABLE, BucketName: BUCKET, StateMachineArn: LOCAL_STATE_MACHINE_ARN },
      },
    });
    bucket = await startObjectLockShim(BUCKET);
  }, 120_000);
  afterAll(async () => {
    await bucket?.close();
    await shims?.close();
    await stack?.dispose();
    await simulator?.stop();
  });

  it('holds (S3 legal hold and the index flag), refuses to erase while held, releases, then erases every version', async () => {
    const entry = archived('held');
    await stack.runtime.index.put(entry);
    bucket.objects.set(entry.key as string, {
      versions: ['v1', 'v2'],
      legalHold: false,
      retention: { mode: 'GOVERNANCE', until: '2031-11-30T10:00:00.000Z' },
    });

    const held = await callvault('hold', entry.id, '--reason', 'litigation 2026-17');
    expect(held).toMatchObject({ code: 0 });
    expect(held.output).toContain(`recording ${entry.id} is under legal hold`);
    expect(bucket.objects.get(entry.key as string)?.legalHold).toBe(true);
    expect((await stack.runtime.index.get(entry.id))?.legalHold).toMatchObject({
      reason: 'litigation 2026-17',
    });

    const refused = await callvault('erase', entry.id, '--reason', 'subject request');
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('is under legal hold');
    expect(bucket.objects.get(entry.key as string)?.versions).toEqual(['v1', 'v2']);

    expect((await callvault('release', entry.id)).code).toBe(0);
    expect(bucket.objects.get(entry.key as string)?.legalHold).toBe(false);
    expect((await stack.runtime.index.get(entry.id))?.legalHold).toBeUndefined();

    const erased = await callvault('erase', entry.id, '--reason', 'subject request');
    expect(erased).toMatchObject({ code: 0 });
    expect(erased.output).toContain('2 stored versions deleted');
    // Governance retention is bypassed, as it allows; both versions are gone.
    expect(bucket.calls.filter((call) => call.startsWith('DELETE'))).toEqual([
      `DELETE ${entry.key}?versionId bypass`,
      `DELETE ${entry.key}?versionId bypass`,
    ]);
    expect(bucket.objects.has(entry.key as string)).toBe(false);
    const tombstone = await stack.runtime.index.get(entry.id);
    expect(tombstone).toMatchObject({ status: 'erased', reason: 'subject request', sha256: entry.sha256 });
    expect(tombstone?.raw).toBeUndefined();
    expect(tombstone?.from).toBeUndefined();
  }, 120_000);

  it('refuses to erase a recording inside its compliance-mode retention, naming the date', async () => {
    const entry = archived('retained');
    await stack.runtime.index.put(entry);
    bucket.objects.set(entry.key as string, {
      versions: ['v1'],
      legalHold: false,
      retention: { mode: 'COMPLIANCE', until: '2031-11-30T10:00:00.000Z' },
    });
    const refused = await callvault('erase', entry.id, '--reason', 'subject request');
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('compliance-mode retention until 2031-11-30T10:00:00.000Z');
    expect(bucket.objects.get(entry.key as string)?.versions).toEqual(['v1']);
    expect((await stack.runtime.index.get(entry.id))?.status).toBe('archived');
  }, 60_000);

  it('refuses to erase a recording whose execution may be archiving it right now; erases it once that ended', async () => {
    // Failed once; the retry's execution (round 1) waits for the provider to finish processing.
    const ref = { accountId: 'vb', provider: 'voipbin' as const, providerRecordingId: 'vb-busy' };
    const [busy] = sampleRecordings(1, { start: new Date(Date.now() - 60_000), makeId: () => 'vb-busy' });
    simulator.add({ ...(busy as SimRecording), readyAt: Number.POSITIVE_INFINITY });
    const id = recordingId(ref);
    await stack.runtime.index.put(failedEntry(ref));
    const name = executionName(ref, 1);
    expect(await stack.runtime.starter.start(name, { ref, round: 1 })).toBe('started');

    const refused = await callvault('erase', id, '--reason', 'subject request');
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain(`recording ${id} is being archived right now (execution ${name})`);
    expect((await stack.runtime.index.get(id))?.status).toBe('failed');

    // Deleted at the provider: the execution ends (skipped), and the erasure goes through.
    simulator.markDeleted('vb-busy');
    await stack.waitFor([name]);
    const erased = await callvault('erase', id, '--reason', 'subject request');
    expect(erased).toMatchObject({ code: 0 });
    expect((await stack.runtime.index.get(id))?.status).toBe('erased');
  }, 60_000);
});
