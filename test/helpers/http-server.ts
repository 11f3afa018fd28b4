/** Loopback HTTP servers that tests stand up in place of a provider or an AWS endpoint. */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on a free loopback port; resolves to the server's origin. */
export async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes the server without waiting for idle keep-alive sockets to time out. */
export async function shut(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export type Route = (request: IncomingMessage, response: ServerResponse) => void;

/** A host whose routes (by exact request URL) each test sets; anything else is a 404. */
export class RoutedServer {
  readonly routes = new Map<string, Route>();
  origin = '';
  private readonly server: Server = createServer((request, response) => {
    const route = this.routes.get(request.url ?? '/');
    if (route) route(request, response);
    else response.writeHead(404).end();
  });
  async start(): Promise<void> {
    this.origin = await listen(this.server);
  }
  async stop(): Promise<void> {
    await shut(this.server);
  }
}
