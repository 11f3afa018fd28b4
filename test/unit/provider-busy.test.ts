import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderBusyError, ProviderUnavailableError } from '../../lambdas/core/errors.ts';
import type { ProviderSlots } from '../../lambdas/core/ports.ts';
import { withProviderSlot } from '../../lambdas/core/provider-slots.ts';
import { ProviderHttp } from '../../lambdas/providers/http.ts';
import { listen, shut } from '../helpers/http-server.ts';

describe('the transport on a 429 that persists', () => {
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/busy')) response.writeHead(429, { 'retry-after': '30' }).end('slow down');
    else response.writeHead(503).end('down');
  });
  let baseUrl = '';
  beforeAll(async () => {
    baseUrl = await listen(server);
  });
  afterAll(() => shut(server));
  const http = () =>
    new ProviderHttp({
      accountId: 'acct',
      provider: 'voipbin',
      baseUrl,
      secrets: ['k3y'],
      // A Retry-After beyond this is not slept on inside the task.
      retry: { retries: 2, minDelayMs: 5, maxDelayMs: 10, maxRetryAfterMs: 1_000 },
    });

  it('throws ProviderBusyError, throttled, with the Retry-After, redacted', async () => {
    const error = await http()
      .requestText('/busy', { query: { key: 'k3y' } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderBusyError);
    expect(error).toMatchObject({ name: 'ProviderBusyError', throttled: true, retryAfterMs: 30_000 });
    expect((error as Error).message).toContain('HTTP 429');
    expect((error as Error).message).not.toContain('k3y');
  });

  it('still throws ProviderUnavailableError for a 5xx that persists', async () => {
    await expect(http().requestText('/down')).rejects.toBeInstanceOf(ProviderUnavailableError);
  });
});

describe('withProviderSlot', () => {
  function recordingSlots() {
    const calls: string[] = [];
    const slots: ProviderSlots = {
      async acquire(accountId, limit) {
        calls.push(`acquire ${accountId} ${limit}`);
        return { release: async () => void calls.push('release') };
      },
      async slowDown(accountId, limit, retryAfterMs) {
        calls.push(`slowDown ${accountId} ${limit} ${retryAfterMs}`);
      },
    };
    return { slots, calls };
  }
  const account = { id: 'dt', provider: 'dialogtech' as const };

  it('holds a slot of the provider default around the work and gives it back', async () => {
    const { slots, calls } = recordingSlots();
    expect(await withProviderSlot(slots, account, async () => 'done')).toBe('done');
    expect(calls).toEqual(['acquire dt 2', 'release']);
    await withProviderSlot(slots, { ...account, maxConcurrency: 7 }, async () => undefined);
    expect(calls.at(-2)).toBe('acquire dt 7');
  });

  it('slows the account down on a throttled ProviderBusyError, and rethrows it', async () => {
    const { slots, calls } = recordingSlots();
    const throttled = new ProviderBusyError('429', { throttled: true, retryAfterMs: 5_000 });
    await expect(withProviderSlot(slots, account, () => Promise.reject(throttled))).rejects.toBe(throttled);
    expect(calls).toEqual(['acquire dt 2', 'slowDown dt 2 5000', 'release']);
  });

  it('does not slow down for other errors', async () => {
    const { slots, calls } = recordingSlots();
    await expect(
      withProviderSlot(slots, account, () => Promise.reject(new ProviderUnavailableError('503'))),
    ).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(calls).toEqual(['acquire dt 2', 'release']);
  });
});
