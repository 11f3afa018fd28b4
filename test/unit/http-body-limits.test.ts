import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  IncompleteDownloadError,
  ProviderResponseError,
  ProviderUnavailableError,
} from '../../lambdas/core/errors.ts';
import {
  MAX_API_BODY_BYTES,
  MAX_ERROR_BODY_BYTES,
  ProviderHttp,
  type ProviderHttpOptions,
} from '../../lambdas/providers/http.ts';
import { type Route, RoutedServer } from '../helpers/http-server.ts';
import { ONE_RETRY } from '../helpers/retry.ts';

/** What a body-streaming route managed to send before it finished or the client hung up. */
interface Sent {
  bytes: number;
  /** Whether the whole body was written before the connection closed. */
  finished: boolean;
}

class Host extends RoutedServer {
  /** One entry per streamed body, resolved when its connection closes. */
  readonly sent: Array<Promise<Sent>> = [];

  /**
   * A route that answers `status` and streams `total` bytes of `fill`, as fast as the client
   * takes them: far more than any cap, so a client that reads it whole is seen doing so.
   */
  streaming(status: number, headers: Record<string, string>, total: number, fill = 'x'): Route {
    return (_request, response) => {
      let bytes = 0;
      this.sent.push(
        new Promise((resolve) =>
          response.once('close', () => resolve({ bytes, finished: response.writableFinished })),
        ),
      );
      response.writeHead(status, headers);
      const chunk = Buffer.alloc(64 * 1024, fill);
      const more = () => {
        while (!response.destroyed && bytes < total) {
          bytes += chunk.length;
          if (!response.write(chunk)) {
            response.once('drain', more);
            return;
          }
        }
        if (!response.destroyed) response.end();
      };
      more();
    };
  }
}

/** 200 MB: a body no Lambda should ever hold, and far past every cap. */
const HUGE = 200 * 1024 * 1024;
/** Well above a cap plus what loopback socket buffers hold, well below HUGE. */
const STOPPED_EARLY = 32 * 1024 * 1024;

const own = new Host();
const storage = new Host();

beforeAll(async () => {
  await Promise.all([own.start(), storage.start()]);
});
afterAll(async () => {
  await Promise.all([own.stop(), storage.stop()]);
});
beforeEach(() => {
  own.routes.clear();
  storage.routes.clear();
  own.sent.length = 0;
  storage.sent.length = 0;
});

function client(options: Partial<ProviderHttpOptions> = {}): ProviderHttp {
  return new ProviderHttp({
    accountId: 'vb-main',
    provider: 'voipbin',
    baseUrl: own.origin,
    secrets: ['tok-123'],
    headers: { authorization: 'Bearer tok-123' },
    retry: ONE_RETRY,
    allowedDownloadHosts: [new URL(storage.origin).host],
    ...options,
  });
}

/** Every streamed body of a host, once its connection closed. */
const sentBy = (host: Host) => Promise.all(host.sent);

describe('error and document bodies are read up to MAX_ERROR_BODY_BYTES', () => {
  it('an endless text/html 200 on a redirect target: IncompleteDownloadError, the connection closed early', async () => {
    own.routes.set('/rec.wav', (_request, response) =>
      response.writeHead(302, { location: `${storage.origin}/bucket/rec.wav?sig=abc` }).end(),
    );
    storage.routes.set(
      '/bucket/rec.wav?sig=abc',
      storage.streaming(200, { 'content-type': 'text/html' }, HUGE),
    );
    const error = await client()
      .openAudio('/rec.wav')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IncompleteDownloadError);
    expect((error as Error).message).toContain(
      `(more than ${MAX_ERROR_BODY_BYTES} bytes from ${new URL(storage.origin).host}, not shown)`,
    );
    const [sent] = await sentBy(storage);
    expect(sent?.finished).toBe(false);
    expect(sent?.bytes).toBeLessThan(STOPPED_EARLY);
  });

  it('a huge 503 from the configured host: every attempt stops reading, then ProviderUnavailableError', async () => {
    own.routes.set('/v1.0/recordings', own.streaming(503, { 'content-type': 'text/plain' }, HUGE, 'm'));
    const error = await client()
      .getJson('/v1.0/recordings')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain('HTTP 503');
    expect((error as Error).message).toContain(`(more than ${MAX_ERROR_BODY_BYTES} bytes)`);
    const sent = await sentBy(own);
    expect(sent).toHaveLength(ONE_RETRY.retries + 1);
    for (const attempt of sent) {
      expect(attempt.finished).toBe(false);
      expect(attempt.bytes).toBeLessThan(STOPPED_EARLY);
    }
  });

  it('a huge 503 from a storage host is measured, not shown, and not read whole', async () => {
    own.routes.set('/rec.wav', (_request, response) =>
      response.writeHead(302, { location: `${storage.origin}/bucket/rec.wav` }).end(),
    );
    storage.routes.set(
      '/bucket/rec.wav',
      storage.streaming(503, { 'content-type': 'text/plain' }, HUGE, 's'),
    );
    const error = await client()
      .openAudio('/rec.wav')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain(
      `HTTP 503 from ${new URL(storage.origin).host}: (more than ${MAX_ERROR_BODY_BYTES} bytes from`,
    );
    expect((error as Error).message).not.toContain('sss');
    for (const attempt of await sentBy(storage)) {
      expect(attempt.finished).toBe(false);
      expect(attempt.bytes).toBeLessThan(STOPPED_EARLY);
    }
  });

  it('a small error document is still measured whole', async () => {
    own.routes.set('/rec.wav', (_request, response) =>
      response.writeHead(302, { location: `${storage.origin}/bucket/small.wav` }).end(),
    );
    storage.routes.set('/bucket/small.wav', (_request, response) =>
      response.writeHead(200, { 'content-type': 'application/xml' }).end('<Error>AccessDenied</Error>'),
    );
    await expect(client().openAudio('/rec.wav')).rejects.toThrow(
      `(27 bytes from ${new URL(storage.origin).host}, not shown)`,
    );
  });
});

describe('API answers are read up to MAX_API_BODY_BYTES', () => {
  it('a JSON answer past the cap fails with ProviderResponseError, without retrying', async () => {
    let requests = 0;
    const stream = own.streaming(200, { 'content-type': 'application/json' }, HUGE, ' ');
    own.routes.set('/v1.0/recordings', (request, response) => {
      requests += 1;
      stream(request, response);
    });
    const error = await client()
      .getJson('/v1.0/recordings')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect((error as Error).message).toContain(
      `voipbin account "vb-main" answered ${own.origin}/v1.0/recordings with a body of more than ${MAX_API_BODY_BYTES} bytes`,
    );
    expect(requests).toBe(1);
    const [sent] = await sentBy(own);
    expect(sent?.finished).toBe(false);
    expect(sent?.bytes).toBeLessThan(MAX_API_BODY_BYTES + STOPPED_EARLY);
  });

  it('a Content-Length past the cap is refused before the body is read', async () => {
    own.routes.set(
      '/v1.0/recordings',
      own.streaming(200, { 'content-type': 'application/json', 'content-length': String(HUGE) }, HUGE, ' '),
    );
    await expect(client().getJson('/v1.0/recordings')).rejects.toThrow(
      `with a body of more than ${MAX_API_BODY_BYTES} bytes`,
    );
    const [sent] = await sentBy(own);
    expect(sent?.finished).toBe(false);
    expect(sent?.bytes).toBeLessThan(STOPPED_EARLY);
  });

  it('an answer of exactly the cap is read and parsed as before', async () => {
    const json = `{"result":"${'r'.repeat(MAX_API_BODY_BYTES - 13)}"}`;
    expect(Buffer.byteLength(json)).toBe(MAX_API_BODY_BYTES);
    own.routes.set('/v1.0/recordings', (_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(json),
    );
    const answer = await client().getJson('/v1.0/recordings');
    expect((answer.json as { result: string }).result).toHaveLength(MAX_API_BODY_BYTES - 13);
  });
});
