import { createServer } from 'node:http';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StaticAccountDirectory } from '../../lambdas/aws/accounts.ts';
import type { AccountConfig } from '../../lambdas/core/config.ts';
import { recordingId } from '../../lambdas/core/ids.ts';
import { describeLogEvent, silentLogger } from '../../lambdas/core/log.ts';
import {
  DIMENSION_SETS,
  METRICS,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  type Metrics,
  UNKNOWN_DIMENSION,
} from '../../lambdas/core/metrics.ts';
import type { HttpEvent } from '../../lambdas/handlers/http.ts';
import { createIntakeHandler } from '../../lambdas/handlers/intake.ts';
import {
  powertoolsLogger,
  powertoolsMetrics,
  type TraceSegment,
  type TraceSubsegment,
  traceUndiciRequests,
} from '../../lambdas/handlers/observability.ts';
import { createRecordHandler } from '../../lambdas/handlers/record.ts';
import { ProviderHttp } from '../../lambdas/providers/http.ts';
import { createVoipbinAdapter } from '../../lambdas/providers/voipbin.ts';
import { listen, shut } from '../helpers/http-server.ts';
import { ACCOUNT, FakeIndex, FakeStarter } from './fakes.ts';

/** JSON lines written while `run` runs: Powertools prints to stdout (warn/error: stderr), as in Lambda. */
async function stdoutOf(run: () => unknown): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const context = {
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  functionName: 'Callvault-RecordFunction',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:Callvault-RecordFunction',
  memoryLimitInMB: '512',
} as Context;

describe('Powertools logger behind the Logger port', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('writes each event with its own fields and the request id', async () => {
    const powertools = new PowertoolsLogger({ serviceName: METRICS_SERVICE });
    powertools.addContext(context);
    const logger = powertoolsLogger(powertools);
    const [item] = await stdoutOf(() =>
      logger.warn('provider request failed', {
        account: 'vb-main',
        provider: 'voipbin',
        request: 'GET https://api.voipbin.net/v1.0/recordings',
        reason: 'HTTP 503',
        attempt: 1,
        retriesLeft: 3,
      }),
    );
    expect(item).toMatchObject({
      level: 'WARN',
      message: 'provider request failed',
      service: 'callvault',
      function_request_id: context.awsRequestId,
      account: 'vb-main',
      reason: 'HTTP 503',
      attempt: 1,
    });
  });

  it("honours the function's log level (Lambda's AWS_LAMBDA_LOG_LEVEL)", async () => {
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'WARN');
    const logger = powertoolsLogger(new PowertoolsLogger({ serviceName: METRICS_SERVICE }));
    const items = await stdoutOf(() => {
      logger.info('resumed executions a previous run left unfinished', { count: 2 });
      logger.error('invocation failed', { handler: 'poll', error: 'ProviderAuthError', reason: 'refused' });
    });
    expect(items.map((item) => item.message)).toEqual(['invocation failed']);
  });

  it('the CLI prints a sentence per event instead of guessing at field names', () => {
    expect(
      describeLogEvent('provider request failed', {
        account: 'vb-main',
        provider: 'voipbin',
        request: 'GET https://api.voipbin.net/v1.0/recordings',
        reason: 'HTTP 503',
        attempt: 2,
        retriesLeft: 0,
      }),
    ).toBe('vb-main: GET https://api.voipbin.net/v1.0/recordings failed (HTTP 503), attempt 2; giving up');
    expect(describeLogEvent('workflow task failed', { state: 'Archive', error: 'E', reason: 'r' })).toBe(
      'workflow step Archive failed: E: r',
    );
  });
});

describe('EMF metrics behind the Metrics port', () => {
  it('publishes each point in namespace callvault under both dimension sets of the metrics module', async () => {
    const metrics = powertoolsMetrics(
      new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE }),
    );
    const [document] = await stdoutOf(() =>
      metrics.add('BytesArchived', 2048, { account: 'bw-main', provider: 'bandwidth' }),
    );
    const aws = document?._aws as {
      CloudWatchMetrics: {
        Namespace: string;
        Dimensions: string[][];
        Metrics: { Name: string; Unit: string }[];
      }[];
    };
    expect(aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'callvault',
        Dimensions: DIMENSION_SETS.map((set) => [...set]),
        Metrics: [{ Name: 'BytesArchived', Unit: METRICS.BytesArchived.unit }],
      },
    ]);
    expect(document).toMatchObject({
      service: 'callvault',
      account: 'bw-main',
      provider: 'bandwidth',
      BytesArchived: 2048,
    });
  });

  it('the record step emits archived, bytes and latency (recording end → archived) for its account', async () => {
    const metrics = powertoolsMetrics(
      new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE }),
    );
    const record = createRecordHandler({
      index: new FakeIndex(),
      logger: powertoolsLogger(new PowertoolsLogger({ serviceName: METRICS_SERVICE, logLevel: 'ERROR' })),
      metrics,
      now: () => new Date('2026-11-02T10:05:00.000Z'),
    });
    const documents = await stdoutOf(() =>
      record({
        outcome: 'archived',
        state: {
          ref: { accountId: 'vb-main', provider: 'voipbin', providerRecordingId: 'r-1' },
          recording: {
            accountId: 'vb-main',
            provider: 'voipbin',
            providerRecordingId: 'r-1',
            readiness: 'ready',
            direction: 'inbound',
            startedAt: '2026-11-02T10:00:00.000Z',
            endedAt: '2026-11-02T10:02:00.000Z',
          },
          archive: {
            bucket: 'b',
            key: 'recordings/vb-main/r-1.wav',
            bytes: 4096,
            sha256: 'ab',
            contentType: 'audio/wav',
            recovered: false,
          },
        },
      }),
    );
    const points = Object.fromEntries(
      documents.flatMap((document) => {
        const [definition] = (document._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] })
          .CloudWatchMetrics;
        const name = definition?.Metrics[0]?.Name as string;
        return [[name, { value: document[name], account: document.account, provider: document.provider }]];
      }),
    );
    expect(points).toEqual({
      RecordingsArchived: { value: 1, account: 'vb-main', provider: 'voipbin' },
      BytesArchived: { value: 4096, account: 'vb-main', provider: 'voipbin' },
      ArchiveLatencySeconds: { value: 180, account: 'vb-main', provider: 'voipbin' },
    });
  });

  it('an outcome the index refuses (a retried task, an entry erased meanwhile) is neither counted nor logged as indexed', async () => {
    const index = new FakeIndex();
    const events: string[] = [];
    const counted: string[] = [];
    const record = createRecordHandler({
      index,
      logger: { info: (event) => events.push(event), warn() {}, error() {} },
      metrics: { add: (name) => counted.push(name) } satisfies Metrics,
    });
    const ref = { accountId: 'vb-main', provider: 'voipbin' as const, providerRecordingId: 'r-2' };
    const archive = {
      bucket: 'b',
      key: 'recordings/vb-main/r-2.wav',
      bytes: 1,
      sha256: 'ab',
      contentType: 'audio/wav',
      recovered: false,
    };
    expect(await record({ outcome: 'archived', state: { ref, archive } })).toMatchObject({ indexed: true });
    // The same task again, its first write having landed: nothing more is counted.
    expect(await record({ outcome: 'archived', state: { ref, archive } })).toMatchObject({ indexed: false });
    expect(counted.filter((name) => name === 'RecordingsArchived')).toHaveLength(1);

    const erased = { ...ref, providerRecordingId: 'r-3' };
    await index.put({
      ...erased,
      id: recordingId(erased),
      status: 'erased',
      updatedAt: '2026-11-02T10:00:00.000Z',
    });
    expect(await record({ outcome: 'archived', state: { ref: erased, archive } })).toMatchObject({
      indexed: false,
    });
    expect(index.entries.get(recordingId(erased))?.status).toBe('erased');
    expect(counted.filter((name) => name === 'RecordingsArchived')).toHaveLength(1);
    expect(events).toEqual([
      'recording indexed',
      'recording outcome not indexed',
      'recording outcome not indexed',
    ]);
  });
});

describe('provider HTTP traced through undici diagnostics channels', () => {
  const server = createServer((request, response) => {
    response.writeHead(request.url?.includes('/busy/') ? 503 : 200, { 'content-type': 'application/json' });
    response.end('{}');
  });
  let origin = '';
  // A recording stand-in for X-Ray's segment (the SDK's needs a Lambda context and a daemon):
  // the parts under test are undici's channels and what the subscriber makes of them.
  class RecordedSubsegment implements TraceSubsegment {
    attributes: Record<string, unknown> = {};
    flags: string[] = [];
    closed = false;
    http?: unknown;
    constructor(readonly name: string) {}
    addAttribute(name: string, value: unknown) {
      this.attributes[name] = value;
    }
    addErrorFlag() {
      this.flags.push('error');
    }
    addFaultFlag() {
      this.flags.push('fault');
    }
    addThrottleFlag() {
      this.flags.push('throttle');
    }
    addError() {
      this.flags.push('exception');
    }
    close() {
      this.closed = true;
    }
  }
  const subsegments: RecordedSubsegment[] = [];
  const segment: TraceSegment = {
    addNewSubsegment(name) {
      const subsegment = new RecordedSubsegment(name);
      subsegments.push(subsegment);
      return subsegment;
    },
  };

  beforeAll(async () => {
    origin = await listen(server);
    traceUndiciRequests(() => segment);
  });
  afterAll(() => shut(server));

  it('opens a subsegment per provider request, records origin, method and status, never the path', async () => {
    const http = new ProviderHttp({
      accountId: 'rc-main',
      provider: 'restcomm',
      baseUrl: `${origin}/restcomm`,
      secrets: ['AC0123456789'],
      retry: { retries: 0, minDelayMs: 1, maxDelayMs: 1 },
    });
    await http.getJson('2012-04-24/Accounts/AC0123456789/Recordings.json');
    await http.getJson('/busy/Accounts/AC0123456789').catch(() => undefined);
    expect(subsegments.length).toBeGreaterThanOrEqual(2);
    const [ok, busy] = subsegments;
    expect(ok?.name).toBe('127.0.0.1');
    expect(ok?.attributes).toEqual({ namespace: 'remote' });
    expect(ok?.http).toEqual({ request: { url: origin, method: 'GET' }, response: { status: 200 } });
    expect(ok?.closed).toBe(true);
    expect(busy?.http).toMatchObject({ response: { status: 503 } });
    expect(busy?.flags).toEqual(['fault']);
    expect(JSON.stringify(subsegments.map((entry) => entry.http))).not.toContain('AC0123456789');
  });
});

describe('webhook rejections are counted per configured account only', () => {
  const recorded: Array<{ name: string; value: number; account: string; provider: string }> = [];
  const metrics: Metrics = {
    add: (name, value, dimensions) => recorded.push({ name, value, ...dimensions }),
  };
  const account = { ...ACCOUNT, webhook: { secret: 'hook-secret' } } as AccountConfig;
  const intake = createIntakeHandler({
    accounts: new StaticAccountDirectory([account]),
    adapterFor: async () => createVoipbinAdapter(account as Parameters<typeof createVoipbinAdapter>[0]),
    index: new FakeIndex(),
    starter: new FakeStarter(),
    logger: silentLogger,
    metrics,
  });
  const event = (accountId: string, password: string) =>
    ({
      pathParameters: { accountId },
      headers: { authorization: `Basic ${Buffer.from(`x:${password}`).toString('base64')}` },
      body: JSON.stringify({ recordingId: 'rec-1' }),
      isBase64Encoded: false,
    }) as unknown as HttpEvent;

  it('a wrong secret counts for its account; an unknown account is the same 401 and mints no dimension; a 202 counts nothing', async () => {
    const wrong = await intake(event(ACCOUNT.id, 'wrong'));
    const unknown = await intake(event('made-up-account-123', 'wrong'));
    expect(wrong.statusCode).toBe(401);
    expect(unknown).toEqual(wrong);
    expect((await intake(event(ACCOUNT.id, 'hook-secret'))).statusCode).toBe(202);
    expect(recorded).toEqual([
      { name: 'WebhooksRejected', value: 1, account: ACCOUNT.id, provider: 'voipbin' },
      { name: 'WebhooksRejected', value: 1, account: UNKNOWN_DIMENSION, provider: UNKNOWN_DIMENSION },
    ]);
  });
});
