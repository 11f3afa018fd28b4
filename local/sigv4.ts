/**
 * The local S3, DynamoDB and Step Functions endpoints take only requests signed with the
 * credentials of this run. s3rver and dynalite accept any (s3rver does not check v4 signatures and
 * serves unsigned requests; dynalite checks nothing), so this check runs in front of each: the
 * SigV4 signature, header or presigned query, recomputed with the run's secret and compared.
 * S3 bodies are not hashed here (they stream to disk); their declared hash is part of what is signed.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { settledWithin } from './settle.ts';

export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Fresh credentials for one run of the local servers. */
export function randomCredentials(): LocalCredentials {
  return {
    accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
}

export interface Refusal {
  /** The AWS error code the service itself would answer. */
  code: 'MissingAuthenticationToken' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch' | 'AccessDenied';
  message: string;
}

export interface SignedRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
}

const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_SIGNED_BODY_BYTES = 16 * 1024 * 1024;

/** RFC 3986 encoding, as SigV4 canonicalizes. */
function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function hmac(key: Buffer | string, value: string): Buffer {
  return createHmac('sha256', key).update(value, 'utf8').digest();
}

function parseAmzDate(value: string | undefined): number {
  const match = value?.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
}

/** Undefined when the request carries a valid signature by `credentials`; else why not. */
export function verifySigV4(
  request: SignedRequest,
  credentials: LocalCredentials,
  options: { payload?: Buffer; now?: Date } = {},
): Refusal | undefined {
  const refuse = (code: Refusal['code'], message: string): Refusal => ({ code, message });
  const rawUrl = request.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  let pairs: [string, string][];
  try {
    pairs = (queryAt < 0 ? '' : rawUrl.slice(queryAt + 1))
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const equals = pair.indexOf('=');
        const [key, value] = equals < 0 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)];
        return [decodeURIComponent(key), decodeURIComponent(value)];
      });
  } catch {
    return refuse('AccessDenied', 'the query string is malformed');
  }
  const query = new Map(pairs);
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(',') : value;
  };

  let credential: string;
  let signedHeaders: string;
  let signature: string;
  let amzDate: string | undefined;
  let payloadHash: string | undefined;
  const presigned = query.get('X-Amz-Algorithm');
  const authorization = header('authorization');
  if (authorization && presigned) return refuse('AccessDenied', 'only one way of signing per request');
  if (authorization) {
    const match = authorization.match(
      /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/,
    );
    if (!match) return refuse('AccessDenied', 'the Authorization header is not a SigV4 signature');
    [, credential, signedHeaders, signature] = match as unknown as [string, string, string, string];
    amzDate = header('x-amz-date');
    const time = parseAmzDate(amzDate);
    if (Number.isNaN(time) || Math.abs((options.now ?? new Date()).getTime() - time) > MAX_SKEW_MS)
      return refuse('AccessDenied', 'the request time is missing or too far from now');
    payloadHash = header('x-amz-content-sha256');
    if (payloadHash === undefined) {
      if (!options.payload) return refuse('AccessDenied', 'the body was not read');
      payloadHash = createHash('sha256').update(options.payload).digest('hex');
    }
  } else if (presigned) {
    if (presigned !== 'AWS4-HMAC-SHA256') return refuse('AccessDenied', 'unsupported signing algorithm');
    credential = query.get('X-Amz-Credential') ?? '';
    signedHeaders = query.get('X-Amz-SignedHeaders') ?? '';
    signature = query.get('X-Amz-Signature') ?? '';
    amzDate = query.get('X-Amz-Date');
    const expires = Number(query.get('X-Amz-Expires'));
    const time = parseAmzDate(amzDate);
    if (Number.isNaN(time) || !Number.isInteger(expires) || expires < 1 || expires > 604_800)
      return refuse('AccessDenied', 'the presigned URL is malformed');
    if ((options.now ?? new Date()).getTime() > time + expires * 1000)
      return refuse('AccessDenied', 'the presigned URL has expired');
    payloadHash = query.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
    query.delete('X-Amz-Signature');
  } else {
    return refuse('MissingAuthenticationToken', 'the request is not signed');
  }

  const [accessKeyId, date, region, service, terminator] = credential.split('/');
  if (accessKeyId !== credentials.accessKeyId)
    return refuse('InvalidAccessKeyId', 'the access key id is not the one of this local stack');
  if (!date || !region || !service || terminator !== 'aws4_request' || !amzDate?.startsWith(date))
    return refuse('AccessDenied', 'the credential scope is malformed');
  const headerNames = signedHeaders.split(';');
  if (!headerNames.includes('host')) return refuse('AccessDenied', 'the Host header is not signed');
  const canonicalHeaders: string[] = [];
  for (const name of headerNames) {
    const value = header(name);
    if (value === undefined) return refuse('AccessDenied', `the signed header ${name} is missing`);
    canonicalHeaders.push(`${name}:${value.trim().replace(/\s+/g, ' ')}`);
  }
  // S3 signs the path as sent; the other services encode it once more.
  const canonicalPath = service === 's3' ? path : path.split('/').map(escape).join('/');
  const canonicalQuery = [...query]
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([key, value]) => `${uriEscape(key)}=${uriEscape(value)}`)
    .join('&');
  const canonicalRequest = [
    request.method ?? 'GET',
    canonicalPath,
    canonicalQuery,
    `${canonicalHeaders.join('\n')}\n`,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), service),
    'aws4_request',
  );
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return refuse('SignatureDoesNotMatch', 'the signature does not match');
  return undefined;
}

const DRAIN_BOUND_MS = 10_000;

/** A guarded server's way to stop: refuse new requests, then wait for those under way. */
export interface GuardedServer {
  /** Resolves once every request already handed to the server has been answered. */
  drain(): Promise<void>;
}

/**
 * Puts the check in front of a server's own request handling. With `readBody`, the body is read
 * first (its hash is signed) and handed on unchanged; otherwise it streams on untouched.
 */
export function guardServer(
  server: Server,
  credentials: LocalCredentials,
  refuse: (response: ServerResponse, refusal: Refusal) => void,
  options: { readBody?: boolean } = {},
): GuardedServer {
  const handlers = server.listeners('request') as ((
    request: IncomingMessage,
    response: ServerResponse,
  ) => void)[];
  // dynalite closes its database under a request still running (a read then a write), and the
  // second step then throws where nothing catches it: so a closing server is first drained.
  let draining = false;
  const answering = new Set<Promise<void>>();
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const pass = () => {
      if (draining) {
        response.writeHead(503, { connection: 'close' }).end();
        return;
      }
      const answered = new Promise<void>((resolve) => response.once('close', resolve)).then(() => {
        answering.delete(answered);
      });
      answering.add(answered);
      for (const handler of handlers) handler(request, response);
    };
    if (!options.readBody) {
      const refusal = verifySigV4(request, credentials);
      if (refusal) refuse(response, refusal);
      else pass();
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      // DynamoDB's own request limit: an endless unsigned body must not fill the memory.
      if (length > MAX_SIGNED_BODY_BYTES) {
        request.removeAllListeners('end');
        response.writeHead(413, { connection: 'close' }).end();
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', () => response.destroy());
    request.once('end', () => {
      const payload = Buffer.concat(chunks);
      const refusal = verifySigV4(request, credentials, { payload });
      if (refusal) {
        refuse(response, refusal);
        return;
      }
      // The body was consumed here: the server's handler (which attaches its listeners at once)
      // gets it emitted again, then the end.
      request.removeAllListeners('data');
      request.removeAllListeners('end');
      pass();
      if (payload.length) request.emit('data', payload);
      request.emit('end');
    });
  });
  return {
    drain() {
      draining = true;
      // A client that never finishes its request must not keep the process from stopping.
      return settledWithin(answering, DRAIN_BOUND_MS);
    },
  };
}

/** An S3-style XML error, as the AWS SDK's S3 client parses it. */
export function refuseS3(response: ServerResponse, refusal: Refusal): void {
  response.writeHead(403, { 'content-type': 'application/xml' });
  response.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message></Error>`,
  );
}

/** A JSON 1.0 error, as the AWS SDK's DynamoDB and Step Functions clients parse it. */
export function refuseJson(response: ServerResponse, refusal: Refusal): void {
  const type =
    refusal.code === 'SignatureDoesNotMatch' ? 'InvalidSignatureException' : 'UnrecognizedClientException';
  response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
  response.end(JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message: refusal.message }));
}
