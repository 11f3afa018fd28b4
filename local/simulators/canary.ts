/**
 * A server no download may reach: it stands for a cloud metadata service or any private host a
 * provider's redirect could point at. It counts every request it gets and answers each with a
 * JSON document holding CANARY_TEXT, so a test can prove the text never reaches a message, the
 * index or the API. Start it on another loopback port (or 127.0.0.2) than the provider's.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CANARY_TEXT = 'canary-AccessKeyId-ASIAEXAMPLECANARY';

export class CanaryServer {
  /** Paths requested, in order. */
  readonly hits: string[] = [];
  url = '';
  private server: Server | undefined;

  /** `contentType` of every answer: JSON by default, or say `audio/wav` to pose as a file. */
  constructor(private readonly contentType = 'application/json') {}

  async start(host = '127.0.0.1'): Promise<string> {
    this.server = createServer((request, response) => {
      this.hits.push(request.url ?? '/');
      // The marker comes first, so even a message quoting a body's first bytes would show it.
      const body = JSON.stringify({ AccessKeyId: CANARY_TEXT, Code: 'Success', Token: CANARY_TEXT });
      response.writeHead(200, {
        'content-type': this.contentType,
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    });
    this.server.listen(0, host);
    await once(this.server, 'listening');
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
