/**
 * `callvault serve`: the local stack as a long-running service. On one port, the same handlers
 * the deployed HTTP APIs run, behind API-Gateway-shaped events:
 *   POST /webhooks/{accountId}     provider callbacks (intake)
 *   GET  /recordings               the search API
 *   GET  /recordings/{id}          one whole index entry
 *   GET  /recordings/{id}/audio    302 to a short-lived presigned URL on the local S3
 * plus one sweep per account on the schedule from its config, and the retry job for failed
 * recordings on its own, as EventBridge would run them.
 * It answers only requests whose Host is a loopback name (no DNS rebinding), and no request
 * can end the process: a malformed one is a 4xx, a failing handler a 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3AudioUrlSigner } from '../lambdas/aws/s3-presigner.ts';
import { UsageError } from '../lambdas/core/errors.ts';
import { MAX_WEBHOOK_BYTES } from '../lambdas/core/intake.ts';
import { nextRun, parseSchedule } from '../lambdas/core/schedule.ts';
import type { HttpEvent, HttpResult } from '../lambdas/handlers/http.ts';
import { createIntakeHandler } from '../lambdas/handlers/intake.ts';
import { createQueryHandler } from '../lambdas/handlers/query.ts';
import { settledWithin } from './settle.ts';
import { type LocalStackOptions, type OwnedLocalStack, publishServe, startLocalStack } from './stack.ts';

export interface ServeOptions extends LocalStackOptions {
  port?: number;
  host?: string;
  /** How long a shutdown waits for running executions before leaving them to resume. Default 10 s. */
  shutdownGraceMs?: number;
}

export interface RunningServe {
  url: string;
  stack: OwnedLocalStack;
  /** Sweeps started by the scheduler so far, per account. */
  sweeps: Map<string, number>;
  close(): Promise<void>;
}

type Route =
  | 'POST /webhooks/{accountId}'
  | 'GET /recordings'
  | 'GET /recordings/{id}'
  | 'GET /recordings/{id}/audio';

/** A request the server refuses before any handler sees it. */
class RefusedRequest extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RefusedRequest(400, 'the path has a malformed %-escape');
  }
}

function matchRoute(
  method: string,
  path: string,
): { routeKey: Route; pathParameters: Record<string, string> } | undefined {
  const webhook = path.match(/^\/webhooks\/([^/]+)$/);
  if (method === 'POST' && webhook) {
    return {
      routeKey: 'POST /webhooks/{accountId}',
      pathParameters: { accountId: decodeSegment(webhook[1] as string) },
    };
  }
  if (method === 'GET' && path === '/recordings') return { routeKey: 'GET /recordings', pathParameters: {} };
  const audio = path.match(/^\/recordings\/([^/]+)\/audio$/);
  if (method === 'GET' && audio) {
    return {
      routeKey: 'GET /recordings/{id}/audio',
      pathParameters: { id: decodeSegment(audio[1] as string) },
    };
  }
  const one = path.match(/^\/recordings\/([^/]+)$/);
  if (method === 'GET' && one) {
    return { routeKey: 'GET /recordings/{id}', pathParameters: { id: decodeSegment(one[1] as string) } };
  }
  return undefined;
}

/**
 * Only names of the loopback interface, with any port: a page whose DNS name was rebound to
 * 127.0.0.1 sends its own name, and is refused.
 */
export function loopbackHost(host: string | undefined): boolean {
  const match = host?.toLowerCase().match(/^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/);
  return match !== null && match !== undefined;
}

/** Reads a body up to `limit` bytes; undefined when it is larger (answered 413 unread). */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The API Gateway HTTP API (payload 2.0) event for a request, as the deployed Lambdas get it. */
function toEvent(
  request: IncomingMessage,
  url: URL,
  route: NonNullable<ReturnType<typeof matchRoute>>,
  bytes: Buffer,
) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query = Object.fromEntries(url.searchParams);
  // As API Gateway does for a body that is not text: base64, so the bytes reach the handler unchanged.
  const text = bytes.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(bytes);
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: route.pathParameters,
    body: isText ? text : bytes.toString('base64'),
    isBase64Encoded: !isText,
    requestContext: {
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      routeKey: route.routeKey,
      stage: '$default',
      timeEpoch: Date.now(),
    },
  } as unknown as HttpEvent;
}

function send(response: ServerResponse, result: HttpResult): void {
  // The client may be gone (or the answer half sent) by the time a handler is done.
  if (response.headersSent || response.destroyed) return;
  response.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  response.end(result.body ?? '');
}

const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Listens, or says in one line why not: the port is what the user can change. */
async function listenOn(server: Server, port: number, host: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EADDRINUSE'
        ? `port ${port} is in use; stop what holds it, or choose another with --port`
        : code === 'EACCES'
          ? `port ${port} needs privileges this process does not have; choose another with --port`
          : (error as Error).message;
    throw new UsageError(`cannot listen on ${host}:${port}: ${reason}`, { cause: error });
  }
}

export async function serve(options: ServeOptions): Promise<RunningServe> {
  const port = options.port ?? 8080;
  const host = options.host ?? '127.0.0.1';
  // Checked before the stack opens: nothing to close then.
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`the port must be a whole number from 0 to 65535, got ${port}`);
  const stack = await startLocalStack(options);
  const logger = stack.runtime.logger;
  const intake = createIntakeHandler(stack.runtime);
  const query = createQueryHandler({
    index: stack.runtime.index,
    signer: new S3AudioUrlSigner(stack.archive.s3),
  });

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    let route: ReturnType<typeof matchRoute>;
    try {
      if (!loopbackHost(request.headers.host)) {
        throw new RefusedRequest(421, 'callvault serve answers only requests to a loopback host name');
      }
      const url = new URL(request.url ?? '/', 'http://localhost');
      route = matchRoute(request.method ?? 'GET', url.pathname);
      if (!route) throw new RefusedRequest(404, 'not found');
      const body = await readBody(request, MAX_WEBHOOK_BYTES);
      if (body === undefined) {
        response.setHeader('connection', 'close');
        throw new RefusedRequest(413, `the body is larger than ${MAX_WEBHOOK_BYTES} bytes`);
      }
      const event = toEvent(request, url, route, body);
      send(response, route.routeKey.startsWith('POST') ? await intake(event) : await query(event));
    } catch (error) {
      if (error instanceof RefusedRequest) {
        send(response, json(error.statusCode, { message: error.message }));
        return;
      }
      // As API Gateway does when a Lambda throws: a 500, the details in the log only.
      logger.error('request failed', {
        route: route?.routeKey,
        error: (error as Error).name,
        reason: (error as Error).message,
      });
      send(response, json(500, { message: 'Internal Server Error' }));
    }
  };
  // Nothing a client sends may end the process: a failure to answer is logged, never thrown.
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      logger.error('request failed', { error: error.name, reason: error.message });
      response.destroy();
    });
  });
  try {
    await listenOn(server, port, host);
  } catch (error) {
    // The stack holds the data directory's lock and its worker keeps the process running: a
    // serve that cannot listen must let both go, or it would hang, serving nothing.
    await stack.close({ waitForExecutions: false });
    throw error;
  }
  const address = server.address() as AddressInfo;
  const url = `http://${host}:${address.port}`;
  const unpublish = publishServe(options.dataDir, stack.endpoints, url);

  // One timer per job; a run still going when the next one is due is not doubled.
  const sweeps = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const startedAt = new Date();
  let stopping = false;
  const schedule = (expression: string, run: () => Promise<void>) => {
    const parsed = parseSchedule(expression);
    let running = false;
    const plan = (after: Date) => {
      const next = nextRun(parsed, after, startedAt);
      if (!next || stopping) return;
      const timer = setTimeout(
        async () => {
          timers.delete(timer);
          plan(next);
          if (running) return;
          running = true;
          try {
            await run();
          } finally {
            running = false;
          }
        },
        Math.max(0, next.getTime() - Date.now()),
      );
      timers.add(timer);
    };
    plan(startedAt);
  };
  for (const account of options.config.accounts) {
    schedule(account.schedule, async () => {
      sweeps.set(account.id, (sweeps.get(account.id) ?? 0) + 1);
      try {
        const result = await stack.sweep({ accountId: account.id });
        logger.info('scheduled sweep', {
          account: account.id,
          listed: result.listed,
          started: result.started.length,
        });
      } catch (error) {
        logger.error('scheduled sweep failed', { account: account.id, reason: (error as Error).message });
      }
    });
  }
  // The retry job for failed recordings, on its own schedule as its EventBridge rule runs it.
  schedule(options.config.retry.schedule, async () => {
    try {
      await stack.retry({});
    } catch (error) {
      logger.error('scheduled retry failed', { reason: (error as Error).message });
    }
  });

  return {
    url,
    stack,
    sweeps,
    async close() {
      stopping = true;
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const running = [...stack.stepFunctions.executions.values()].filter(
        (execution) => execution.status === 'RUNNING',
      );
      await settledWithin(
        running.map((execution) => execution.done),
        options.shutdownGraceMs ?? 10_000,
      );
      const unfinished = running.filter((execution) => execution.status === 'RUNNING').length;
      if (unfinished > 0)
        logger.warn('stopping with executions still running; they resume on the next start', { unfinished });
      unpublish();
      await stack.close({ waitForExecutions: false });
    },
  };
}
