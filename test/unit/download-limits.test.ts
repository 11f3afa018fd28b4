import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DownloadTooLargeError,
  ForbiddenAddressError,
  IncompleteDownloadError,
  ProviderResponseError,
} from '../../lambdas/core/errors.ts';
import type { AudioDownload } from '../../lambdas/core/ports.ts';
import { DestinationPolicy, isPublicAddress } from '../../lambdas/providers/destinations.ts';
import { ProviderHttp, type ProviderHttpOptions } from '../../lambdas/providers/http.ts';
import { CANARY_TEXT, CanaryServer } from '../../local/simulators/canary.ts';
import { RoutedServer } from '../helpers/http-server.ts';
import { ONE_RETRY } from '../helpers/retry.ts';
import { drain, rejection } from '../helpers/streams.ts';

/** A PCM WAV header declaring `dataBytes` of samples, followed by `sent` of them. */
function wav(dataBytes: number, sent = dataBytes, riffSize = 36 + dataBytes): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(riffSize, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, Buffer.alloc(sent, 7)]);
}

/** A provider's host whose routes each test sets. */
const provider = new RoutedServer();
const canary = new CanaryServer();

beforeAll(async () => {
  await Promise.all([provider.start(), canary.start()]);
});
afterAll(async () => {
  await Promise.all([provider.stop(), canary.stop()]);
});
beforeEach(() => {
  provider.routes.clear();
  canary.hits.length = 0;
});

function client(options: Partial<ProviderHttpOptions> = {}): ProviderHttp {
  return new ProviderHttp({
    accountId: 'vb-main',
    provider: 'voipbin',
    baseUrl: provider.origin,
    secrets: ['tok-123'],
    headers: { authorization: 'Bearer tok-123' },
    retry: ONE_RETRY,
    ...options,
  });
}

/** The error reading the body to its end ended with, if any. */
const readError = (download: AudioDownload) => rejection(drain(download));

describe('a body that ends cleanly but short of its declared length', () => {
  it('chunked without Content-Length: IncompleteDownloadError naming the RIFF size, no digest', async () => {
    provider.routes.set('/short-chunked.wav', (_request, response) => {
      response.writeHead(200, { 'content-type': 'audio/wav', 'transfer-encoding': 'chunked' });
      response.end(wav(1_000_000, 10_000));
    });
    const download = await client().openAudio('/short-chunked.wav');
    expect(download.contentLength).toBeUndefined();
    const error = await readError(download);
    expect(error).toBeInstanceOf(IncompleteDownloadError);
    expect((error as Error).message).toContain('ended after 10044 bytes, but its RIFF size declares 1000044');
    expect(download.body.sha256).toBeUndefined();
  });

  it('close-delimited (HTTP/1.0 style, no length, no chunks): IncompleteDownloadError', async () => {
    provider.routes.set('/short-close.wav', (_request, response) => {
      const socket = response.socket;
      if (!socket) throw new Error('no socket');
      response.detachSocket(socket);
      socket.end(
        Buffer.concat([
          Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\nconnection: close\r\n\r\n'),
          wav(1_000_000, 10_000),
        ]),
      );
    });
    const download = await client().openAudio('/short-close.wav');
    const error = await readError(download);
    expect(error).toBeInstanceOf(IncompleteDownloadError);
    expect((error as Error).message).toContain('declares 1000044');
  });

  it('a whole body without Content-Length passes, with its digest', async () => {
    provider.routes.set('/whole.wav', (_request, response) => {
      response.writeHead(200, { 'content-type': 'audio/wav', 'transfer-encoding': 'chunked' });
      response.end(wav(100_000));
    });
    const download = await client().openAudio('/whole.wav');
    expect(await readError(download)).toBeUndefined();
    expect(download.body.bytes).toBe(100_044);
    expect(download.body.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('maxDownloadBytes', () => {
  it('stops a body without Content-Length as soon as it passes the cap: DownloadTooLargeError', async () => {
    provider.routes.set('/endless.wav', (_request, response) => {
      response.writeHead(200, { 'content-type': 'audio/wav', 'transfer-encoding': 'chunked' });
      response.write(wav(0xfffff000, 0));
      const more = () => {
        while (!response.destroyed && response.write(Buffer.alloc(16 * 1024, 1))) {
          // keep writing until the socket pushes back
        }
        if (!response.destroyed) response.once('drain', more);
      };
      more();
    });
    const download = await client({ maxDownloadBytes: 200_000 }).openAudio('/endless.wav');
    const error = await readError(download);
    expect(error).toBeInstanceOf(DownloadTooLargeError);
    expect((error as Error).message).toContain('maxDownloadBytes (200000)');
    expect(download.body.bytes).toBeLessThan(200_000 + 64 * 1024);
    expect((error as DownloadTooLargeError).retryable).toBe(false);
  });

  it('refuses a Content-Length over the cap before reading the body', async () => {
    provider.routes.set('/big.wav', (_request, response) => {
      response.writeHead(200, { 'content-type': 'audio/wav', 'content-length': 300_044 });
      response.end(wav(300_000));
    });
    await expect(client({ maxDownloadBytes: 200_000 }).openAudio('/big.wav')).rejects.toThrow(
      /announces 300044 bytes, more than the account's maxDownloadBytes \(200000\)/,
    );
  });
});

describe('where a download may go', () => {
  it('refuses a redirect to a foreign loopback port, never connecting to it', async () => {
    provider.routes.set('/rec.wav', (_request, response) =>
      response.writeHead(302, { location: `${canary.url}/latest/meta-data/iam` }).end(),
    );
    const error = await client()
      .openAudio('/rec.wav')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect((error as Error).message).toContain('voipbin account "vb-main"');
    expect((error as Error).message).toContain(`refused to connect to ${new URL(canary.url).host}`);
    expect(canary.hits).toEqual([]);
  });

  it('checks the resolved address: a name that resolves to loopback is refused too', async () => {
    const port = new URL(canary.url).port;
    provider.routes.set('/rec.wav', (_request, response) =>
      response.writeHead(302, { location: `http://localhost:${port}/` }).end(),
    );
    await expect(client().openAudio('/rec.wav')).rejects.toThrow(
      new RegExp(`refused to connect to localhost:${port} \\(resolves to (127\\.0\\.0\\.1|::1)\\)`),
    );
    expect(canary.hits).toEqual([]);
  });

  it('refuses a name that DNS points at the metadata address', async () => {
    provider.routes.set('/rec.wav', (_request, response) =>
      response.writeHead(302, { location: 'http://storage.example.test/rec.wav' }).end(),
    );
    const http = client({ resolve: async () => [{ address: '169.254.169.254', family: 4 }] });
    await expect(http.openAudio('/rec.wav')).rejects.toThrow(
      /refused to connect to storage\.example\.test:80 \(resolves to 169\.254\.169\.254\)/,
    );
  });

  it('follows five redirects and no more', async () => {
    let hops = 0;
    provider.routes.set('/loop.wav', (_request, response) => {
      hops += 1;
      response.writeHead(302, { location: '/loop.wav' }).end();
    });
    await expect(client().openAudio('/loop.wav')).rejects.toThrow(/redirected more than 5 times/);
    expect(hops).toBe(6);
  });

  it('refuses non-HTTP redirects', async () => {
    provider.routes.set('/rec.wav', (_request, response) =>
      response.writeHead(302, { location: 'file:///etc/passwd' }).end(),
    );
    await expect(client().openAudio('/rec.wav')).rejects.toBeInstanceOf(ForbiddenAddressError);
  });

  it('reaches an allowed download host, but never quotes its body in a message', async () => {
    provider.routes.set('/rec.wav', (_request, response) =>
      response.writeHead(302, { location: `${canary.url}/bucket/rec.wav` }).end(),
    );
    const http = client({ allowedDownloadHosts: [new URL(canary.url).host] });
    const error = await http.openAudio('/rec.wav').catch((caught: unknown) => caught);
    expect(canary.hits).toEqual(['/bucket/rec.wav']);
    expect(error).toBeInstanceOf(IncompleteDownloadError);
    expect((error as Error).message).toContain('application/json document instead of audio');
    expect((error as Error).message).toMatch(/\(\d+ bytes from 127\.0\.0\.1:\d+, not shown\)/);
    expect((error as Error).message).not.toContain(CANARY_TEXT);
  });

  it('follows API requests on the configured host only', async () => {
    provider.routes.set('/v1.0/recordings', (_request, response) =>
      response.writeHead(307, { location: `${canary.url}/v1.0/recordings` }).end(),
    );
    const http = client({ allowedDownloadHosts: [new URL(canary.url).host] });
    const error = await http.getJson('/v1.0/recordings').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect((error as Error).message).toContain('API requests are followed on the configured host');
    expect(canary.hits).toEqual([]);
  });
});

describe('DestinationPolicy', () => {
  const policy = (resolve: (host: string) => string[], allowedHosts: string[] = []) =>
    new DestinationPolicy({
      baseUrl: new URL('http://127.0.0.1:8000'),
      allowedHosts,
      resolve: async (host) =>
        resolve(host).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    });

  it('trusts the configured host:port and allowed hosts whatever they resolve to', async () => {
    const p = policy(() => ['10.0.0.5'], ['minio.internal:9000', '*.corp.example']);
    expect(await p.addressFor('127.0.0.1', '8000')).toBeUndefined();
    expect(await p.addressFor('minio.internal', '9000')).toBeUndefined();
    expect(await p.addressFor('eu.corp.example', '443')).toBeUndefined();
    await expect(p.addressFor('minio.internal', '9001')).rejects.toBeInstanceOf(ForbiddenAddressError);
    await expect(p.addressFor('corp.example', '443')).rejects.toBeInstanceOf(ForbiddenAddressError);
    await expect(p.addressFor('127.0.0.1', '8001')).rejects.toBeInstanceOf(ForbiddenAddressError);
  });

  it('connects other hosts to the public address it checked, and refuses mixed answers', async () => {
    expect(await policy(() => ['93.184.216.34']).addressFor('cdn.example.com', '443')).toBe('93.184.216.34');
    await expect(
      policy(() => ['93.184.216.34', '192.168.1.10']).addressFor('cdn.example.com', '443'),
    ).rejects.toThrow(/resolves to 192\.168\.1\.10/);
  });

  it.each([
    ['8.8.8.8', true],
    ['93.184.216.34', true],
    ['2606:4700:4700::1111', true],
    ['10.1.2.3', false],
    ['172.31.255.255', false],
    ['192.168.0.1', false],
    ['127.0.0.2', false],
    ['169.254.169.254', false],
    ['100.100.100.200', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:169.254.169.254', false],
    ['fd00:ec2::254', false],
    ['fe80::1', false],
    ['64:ff9b::a9fe:a9fe', false],
    ['64:ff9b:1::a9fe:a9fe', false],
    ['::a9fe:a9fe', false], // IPv4-compatible: 169.254.169.254
    ['::169.254.169.254', false],
    ['::808:808', false], // the form itself is refused, whatever it embeds
    ['::ffff:0:a9fe:a9fe', false], // SIIT: 169.254.169.254
    ['::ffff:0:169.254.169.254', false],
    ['::ffff:8.8.8.8', true], // IPv4-mapped is still judged as its IPv4
    ['::ffff:808:808', true],
    ['::1:0:0:1', true], // just outside ::/96
    ['not-an-ip', false],
  ])('isPublicAddress(%s) is %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});
