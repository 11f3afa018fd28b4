import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderUnavailableError } from '../../lambdas/core/errors.ts';
import { DEFAULT_RETRY, ProviderHttp, worstCaseRequestMs } from '../../lambdas/providers/http.ts';
import { listen, shut } from '../helpers/http-server.ts';

let server: Server | undefined;
afterEach(async () => {
  if (server) await shut(server);
  server = undefined;
});

/** Answers 200 with a Content-Length of 100, sends 10 bytes and destroys the socket, `cuts` times. */
async function cuttingServer(cuts: number): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  server = createServer((_request, response) => {
    requests += 1;
    if (requests <= cuts) {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"result":');
      setTimeout(() => response.socket?.destroy(), 5);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"result":[]}');
  });
  return { url: await listen(server), requests: () => requests };
}

const http = (baseUrl: string) =>
  new ProviderHttp({
    accountId: 'vb',
    provider: 'voipbin',
    baseUrl,
    secrets: [],
    retry: { minDelayMs: 1, maxDelayMs: 5 },
  });

describe('a body cut mid-response', () => {
  it('is retried, and the next whole answer is returned', async () => {
    const simulator = await cuttingServer(2);
    const answer = await http(simulator.url).getJson('/v1.0/recordings');
    expect(answer.json).toEqual({ result: [] });
    expect(simulator.requests()).toBe(3);
  });

  it('ends as ProviderUnavailableError once the retries are spent', async () => {
    const simulator = await cuttingServer(Number.POSITIVE_INFINITY);
    await expect(http(simulator.url).getJson('/v1.0/recordings')).rejects.toBeInstanceOf(
      ProviderUnavailableError,
    );
    expect(simulator.requests()).toBe(DEFAULT_RETRY.retries + 1);
  });
});

describe('worstCaseRequestMs', () => {
  it('adds every attempt’s two timeouts, the largest pauses and a Retry-After at the limit', () => {
    // 5 attempts × (30 s headers + 30 s silent body) + (1 + 2 + 4 + 8 s) + 4 × 60 s.
    expect(worstCaseRequestMs()).toBe(300_000 + 15_000 + 240_000);
    expect(
      worstCaseRequestMs({ retries: 1, minDelayMs: 500, maxDelayMs: 700, maxRetryAfterMs: 0 }, 1000),
    ).toBe(2 * 2000 + 700);
  });
});
