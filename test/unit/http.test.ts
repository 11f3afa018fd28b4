import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  IncompleteDownloadError,
  ProviderAuthError,
  ProviderResponseError,
  ProviderUnavailableError,
} from '../../lambdas/core/errors.ts';
import type { LogFields, Logger } from '../../lambdas/core/log.ts';
import {
  basicAuth,
  headerValue,
  ProviderHttp,
  type ProviderHttpOptions,
  retryAfterMs,
} from '../../lambdas/providers/http.ts';
import { MeteredStream } from '../../lambdas/providers/metered-stream.ts';
import { listen, shut } from '../helpers/http-server.ts';
import { FAST_RETRY } from '../helpers/retry.ts';
import { readAll, sha256 } from '../helpers/streams.ts';

const SECRET = 's3cr3t/t0ken+=';

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;
interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}

class TestServer {
  readonly server: Server;
  readonly routes = new Map<string, Handler>();
  readonly seen: Seen[] = [];
  private readonly hits = new Map<string, number>();
  origin = '';

  constructor() {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      this.seen.push({ path: req.url ?? '/', headers: req.headers });
      const hit = (this.hits.get(path) ?? 0) + 1;
      this.hits.set(path, hit);
      const route = this.routes.get(path);
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no route');
        return;
      }
      route(req, res, hit);
    });
  }
  async start(): Promise<void> {
    this.origin = await listen(this.server);
  }
  hitsOf(path: string): number {
    return this.hits.get(path) ?? 0;
  }
  reset(): void {
    this.routes.clear();
    this.seen.length = 0;
    this.hits.clear();
  }
  async stop(): Promise<void> {
    await shut(this.server);
  }
}

const main = new TestServer();
const other = new TestServer();
const logged: string[] = [];
const logger: Logger = {
  info: (message: string, fields?: LogFields) => logged.push(JSON.stringify({ message, fields })),
  warn: (message: string, fields?: LogFields) => logged.push(JSON.stringify({ message, fields })),
  error: (message: string, fields?: LogFields) => logged.push(JSON.stringify({ message, fields })),
};

beforeAll(async () => {
  await Promise.all([main.start(), other.start()]);
});
afterAll(async () => {
  await Promise.all([main.stop(), other.stop()]);
});
beforeEach(() => {
  main.reset();
  other.reset();
  logged.length = 0;
});

function client(options: Partial<ProviderHttpOptions> = {}): ProviderHttp {
  return new ProviderHttp({
    accountId: 'rc-main',
    provider: 'restcomm',
    baseUrl: `${main.origin}/restcomm`,
    secrets: [SECRET],
    headers: { authorization: `Bearer ${SECRET}` },
    retry: FAST_RETRY,
    logger,
    ...options,
  });
}

describe('ProviderHttp.redact', () => {
  it('replaces secrets and their URL-encoded forms', () => {
    const http = client({ secrets: [SECRET, 'p@ss word', ''] });
    const text = `a ${SECRET} b ${encodeURIComponent(SECRET)} c p@ss word d ${encodeURIComponent('p@ss word')}`;
    expect(http.redact(text)).toBe('a *** b *** c *** d ***');
    expect(http.redact('nothing secret here')).toBe('nothing secret here');
  });

  it('masks a secret that contains another secret whole, whatever order they are given in', () => {
    const inner = 'abc123';
    const outer = 'xyz-abc123-tail';
    for (const secrets of [
      [inner, outer],
      [outer, inner],
    ]) {
      const http = client({ secrets });
      expect(http.redact(`token=${outer} key=${inner}`)).toBe('token=*** key=***');
      expect(http.redact(`/x/${encodeURIComponent(outer)}`)).toBe('/x/***');
    }
  });

  it('redacts query-string secrets in describe()', () => {
    const http = client();
    const described = http.describe(http.url('Recordings.json', { key: SECRET, page: 2 }));
    expect(described).toBe(`${main.origin}/restcomm/Recordings.json?key=***&page=2`);
    expect(described).not.toContain('t0ken');
  });
});

describe('ProviderHttp.url', () => {
  // Only builds URLs: no server behind these.
  const at = (provider: ProviderHttpOptions['provider'], baseUrl: string) =>
    new ProviderHttp({ accountId: 'a', provider, baseUrl, secrets: [] });
  const http = at('restcomm', 'https://rc.example.com/restcomm');

  it('resolves relative and absolute paths under the base path', () => {
    expect(http.url('2012-04-24/Accounts').href).toBe('https://rc.example.com/restcomm/2012-04-24/Accounts');
    expect(http.url('/2012-04-24/Accounts').href).toBe('https://rc.example.com/restcomm/2012-04-24/Accounts');
    expect(http.url('/restcomm/2012-04-24/Accounts/AC1/Recordings.json?Page=2').href).toBe(
      'https://rc.example.com/restcomm/2012-04-24/Accounts/AC1/Recordings.json?Page=2',
    );
    expect(http.url('/restcomm').href).toBe('https://rc.example.com/restcomm');
    // A path that merely starts with the same letters is not under the base path.
    expect(http.url('/restcommX/a').href).toBe('https://rc.example.com/restcomm/restcommX/a');
  });

  it('keeps absolute URLs and adds defined query values', () => {
    expect(http.url('https://cdn.example.net/file.wav').href).toBe('https://cdn.example.net/file.wav');
    expect(http.url('x', { a: 1, b: undefined, c: 'd e' }).href).toBe(
      'https://rc.example.com/restcomm/x?a=1&c=d+e',
    );
  });

  it('works without a base path and knows its own host', () => {
    const plain = at('voipbin', 'https://api.example.com/');
    expect(plain.url('v1.0/recordings').href).toBe('https://api.example.com/v1.0/recordings');
    expect(plain.isOwnHost(new URL('https://api.example.com/x'))).toBe(true);
    expect(plain.isOwnHost(new URL('https://api.example.com:8443/x'))).toBe(false);
    expect(plain.isOwnHost(new URL('http://api.example.com/x'))).toBe(false);
    expect(plain.who).toBe('voipbin account "a"');
  });
});

describe('ProviderHttp requests', () => {
  it('sends the account headers to its own host and returns other statuses to the adapter', async () => {
    main.routes.set('/restcomm/status', (_req, res) =>
      res.writeHead(202, { 'content-type': 'text/plain' }).end('later'),
    );
    const response = await client().requestText('status', { query: { q: 1 } });
    expect(response).toMatchObject({ status: 202, text: 'later', contentType: 'text/plain' });
    expect(main.seen[0]?.path).toBe('/restcomm/status?q=1');
    expect(main.seen[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it.each([401, 403])(
    'turns %i into ProviderAuthError naming the account, not the secret, without retrying',
    async (status) => {
      main.routes.set('/restcomm/auth', (_req, res) => res.writeHead(status).end(`bad token ${SECRET}`));
      const error = await client()
        .requestText('auth', { query: { key: SECRET } })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderAuthError);
      const message = (error as Error).message;
      expect(message).toContain('restcomm account "rc-main"');
      expect(message).toContain(`HTTP ${status}`);
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(encodeURIComponent(SECRET));
      expect(main.hitsOf('/restcomm/auth')).toBe(1);
    },
  );

  it('honours Retry-After on 429 and then succeeds', async () => {
    main.routes.set('/restcomm/busy', (_req, res, hit) => {
      if (hit === 1) res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const started = performance.now();
    const result = await client().getJson('busy');
    const elapsed = performance.now() - started;
    expect(result).toEqual({ status: 200, json: { ok: true } });
    expect(main.hitsOf('/restcomm/busy')).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(logged.some((line) => line.includes('HTTP 429'))).toBe(true);
  });

  it('gives up on a 503 that persists with ProviderUnavailableError, redacted', async () => {
    main.routes.set('/restcomm/down', (_req, res) => res.writeHead(503).end(`maintenance ${SECRET}`));
    const error = await client({ retry: { ...FAST_RETRY, retries: 2 } })
      .requestText('down', { query: { key: SECRET } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain('HTTP 503');
    expect((error as Error).message).toContain('restcomm account "rc-main"');
    expect((error as Error).message).not.toContain(SECRET);
    expect(main.hitsOf('/restcomm/down')).toBe(3);
    expect(logged).toHaveLength(3);
    expect(logged.join('\n')).not.toContain(SECRET);
  });

  it('does not retry when Retry-After exceeds maxRetryAfterMs', async () => {
    main.routes.set('/restcomm/later', (_req, res) => res.writeHead(503, { 'retry-after': '3600' }).end());
    const error = await client({ retry: { ...FAST_RETRY, maxRetryAfterMs: 20 } })
      .requestText('later')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(main.hitsOf('/restcomm/later')).toBe(1);
  });

  it('retries network failures and reports them as unavailable', async () => {
    const closed = createServer();
    // A port that was just free: nothing listens on it any more.
    const baseUrl = await listen(closed);
    await shut(closed);
    const http = client({ baseUrl, retry: { ...FAST_RETRY, retries: 1 } });
    await expect(http.requestText('x')).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(logged).toHaveLength(2);
  });

  it('getJson: 404 is undefined, non-JSON and other 4xx are ProviderResponseError', async () => {
    main.routes.set('/restcomm/html', (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>oops</html>'),
    );
    main.routes.set('/restcomm/bad', (_req, res) => res.writeHead(400).end('bad request'));
    const http = client();
    expect(await http.getJson('missing')).toEqual({ status: 404, json: undefined });
    await expect(http.getJson('html')).rejects.toThrow(ProviderResponseError);
    await expect(http.getJson('html')).rejects.toThrow(/not JSON: <html>oops<\/html>/);
    await expect(http.getJson('bad')).rejects.toThrow(/HTTP 400: bad request/);
    expect(main.seen.find((seen) => seen.path === '/restcomm/html')?.headers.accept).toBe('application/json');
  });
});

describe('ProviderHttp.openAudio', () => {
  const audio = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE'), Buffer.alloc(64 * 1024, 3)]);

  it('streams the body through a MeteredStream with byte count and sha256', async () => {
    main.routes.set('/restcomm/a.wav', (_req, res) =>
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(audio.length) }).end(audio),
    );
    const download = await client().openAudio('a.wav');
    expect(download.contentType).toBe('audio/wav');
    expect(download.contentLength).toBe(audio.length);
    const body = await readAll(download);
    expect(body.equals(audio)).toBe(true);
    expect(download.body.bytes).toBe(audio.length);
    expect(download.body.sha256).toBe(sha256(audio));
  });

  it('fails the stream with IncompleteDownloadError when the body is shorter than Content-Length', async () => {
    main.routes.set('/restcomm/short.wav', (_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(audio.length) });
      res.write(audio.subarray(0, 1000), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const download = await client().openAudio('short.wav');
    const error = await readAll(download).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IncompleteDownloadError);
    expect((error as Error).message).toContain('restcomm account "rc-main"');
    expect(download.body.sha256).toBeUndefined();
  });

  it('treats a 200 JSON document as IncompleteDownloadError, after onStatus saw it', async () => {
    main.routes.set('/restcomm/err.wav', (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"message":"not ready"}'),
    );
    const statuses: number[] = [];
    const error = await client()
      .openAudio('err.wav', { onStatus: (response) => statuses.push(response.status) })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IncompleteDownloadError);
    expect((error as Error).message).toContain('application/json');
    expect((error as Error).message).toContain('not ready');
    expect(statuses).toEqual([200]);
  });

  it('lets onStatus turn a 404 into its own error, else a ProviderResponseError', async () => {
    const http = client();
    await expect(http.openAudio('gone.wav')).rejects.toBeInstanceOf(ProviderResponseError);
    await expect(
      http.openAudio('gone.wav', {
        onStatus: (response) => {
          if (response.status === 404) throw new Error('custom gone');
        },
      }),
    ).rejects.toThrow('custom gone');
  });

  it('follows redirects to an allowed download host and keeps Authorization on the same origin only', async () => {
    main.routes.set('/restcomm/same', (_req, res) =>
      res.writeHead(302, { location: '/restcomm/a.wav' }).end(),
    );
    main.routes.set('/restcomm/a.wav', (_req, res) =>
      res.writeHead(200, { 'content-type': 'audio/wav' }).end(audio),
    );
    main.routes.set('/restcomm/away', (_req, res) =>
      res.writeHead(302, { location: `${other.origin}/cdn/a.wav` }).end(),
    );
    other.routes.set('/cdn/a.wav', (_req, res) =>
      res.writeHead(200, { 'content-type': 'audio/wav' }).end(audio),
    );
    // `other` is loopback on another port: foreign, so it must be listed to be reachable.
    const http = client({ allowedDownloadHosts: [new URL(other.origin).host] });

    const same = await http.openAudio('same');
    expect((await readAll(same)).equals(audio)).toBe(true);
    expect(main.seen.find((seen) => seen.path === '/restcomm/a.wav')?.headers.authorization).toBe(
      `Bearer ${SECRET}`,
    );

    const away = await http.openAudio('away');
    expect((await readAll(away)).equals(audio)).toBe(true);
    expect(away.body.sha256).toBe(sha256(audio));
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]?.headers.authorization).toBeUndefined();
  });

  it.each([
    ['a non-HTTP location', 'ftp://files.example.net/a.wav', 'redirected to a ftp: URL'],
    ['an unparseable location', 'http://[::1', 'with a redirect to an unusable location'],
  ])(
    'names a storage hop that redirects to %s by scheme and host, never its signed query',
    async (_what, location, problem) => {
      const signature = 'SIGNED-6f1c2e9a';
      main.routes.set('/restcomm/signed', (_req, res) =>
        res.writeHead(302, { location: `${other.origin}/bucket/a.wav?X-Amz-Signature=${signature}` }).end(),
      );
      other.routes.set('/bucket/a.wav', (_req, res) => res.writeHead(302, { location }).end());
      const error = await client({ allowedDownloadHosts: [new URL(other.origin).host] })
        .openAudio('signed')
        .catch((caught: unknown) => caught);
      expect(other.seen).toHaveLength(1);
      const message = (error as Error).message;
      expect(message).toContain(`${other.origin} `);
      expect(message).toContain(problem);
      expect(message).not.toContain(signature);
      expect(message).not.toContain('/bucket/a.wav');
    },
  );

  it('does not send the account headers to an absolute URL on another host', async () => {
    other.routes.set('/signed.wav', (_req, res) =>
      res.writeHead(200, { 'content-type': 'audio/wav' }).end(audio),
    );
    const download = await client({ allowedDownloadHosts: [new URL(other.origin).host] }).openAudio(
      `${other.origin}/signed.wav`,
      { headers: { 'x-extra': '1' } },
    );
    await readAll(download);
    expect(other.seen[0]?.headers.authorization).toBeUndefined();
    expect(other.seen[0]?.headers['x-extra']).toBe('1');
    expect(download.body.bytes).toBe(audio.length);
  });
});

describe('MeteredStream', () => {
  it('counts and hashes, and fails when short of the expected length', async () => {
    const data = Buffer.from('hello audio');
    const ok = new MeteredStream(data.length);
    ok.end(data);
    for await (const _chunk of ok) {
      // drain
    }
    expect(ok.bytes).toBe(data.length);
    expect(ok.sha256).toBe(sha256(data));

    const unknownLength = new MeteredStream(undefined);
    unknownLength.end(data);
    for await (const _chunk of unknownLength) {
      // drain
    }
    expect(unknownLength.sha256).toBe(sha256(data));

    const short = new MeteredStream(100, () => 'GET x', 'who');
    short.end(data);
    const error = await (async () => {
      for await (const _chunk of short) {
        // drain
      }
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IncompleteDownloadError);
    expect((error as Error).message).toBe(
      `who: the audio download GET x ended after ${data.length} of 100 bytes`,
    );
    expect(short.sha256).toBeUndefined();
  });
});

describe('helpers', () => {
  it('retryAfterMs reads seconds and HTTP dates', () => {
    expect(retryAfterMs('1')).toBe(1000);
    expect(retryAfterMs(' 2 ')).toBe(2000);
    expect(retryAfterMs('0.5')).toBe(500);
    const future = retryAfterMs(new Date(Date.now() + 10_000).toUTCString()) ?? -1;
    expect(future).toBeGreaterThan(8_000);
    expect(future).toBeLessThanOrEqual(10_000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT')).toBe(0);
    expect(retryAfterMs('')).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('headerValue and basicAuth', () => {
    expect(headerValue(['a', 'b'])).toBe('a');
    expect(headerValue(undefined)).toBe('');
    expect(headerValue('x')).toBe('x');
    expect(basicAuth('user', 'pa:ss')).toBe(`Basic ${Buffer.from('user:pa:ss').toString('base64')}`);
  });
});
