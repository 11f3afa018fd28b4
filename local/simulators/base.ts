/**
 * What every provider simulator shares: an HTTP server on loopback, a seeded set of recordings
 * that can be pending, ready or deleted, generated audio, a request log, and fault injection.
 * Each provider's simulator (one file each) renders its own API on top.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyntheticWav } from './audio.ts';

/** A recording as the simulator holds it; each simulator renders it in its provider's format. */
export interface SimRecording {
  /** The provider's recording id (Infobip file id, DialogTech sid, UUID, RE…, r-…). */
  id: string;
  callId: string;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound';
  startedAt: Date;
  durationSec: number;
  channels?: number;
  /** Epoch ms before which the provider still reports the recording as processing. */
  readyAt?: number;
  deleted?: boolean;
  /** Extra provider-specific fields (DialogTech list, Infobip messageId…). */
  extra?: Record<string, string>;
}

/** The endpoint classes faults can target. */
export type Endpoint = 'list' | 'status' | 'audio' | 'delete' | 'any';

export type FaultKind =
  /** 429 with Retry-After. */
  | 'rate-limit'
  /** A 5xx status (503 unless `status` says otherwise). */
  | 'server-error'
  /** 401: the credentials are refused. */
  | 'unauthorized'
  /** Audio only: full Content-Length announced, `fraction` of the bytes sent, then the socket dies. */
  | 'truncate'
  /** Audio only: the body trickles out in small chunks with a pause between them. */
  | 'slow'
  /** Audio only: no Content-Length, `fraction` of the bytes chunked, then a clean last chunk. */
  | 'short-chunked'
  /** Audio only: no Content-Length, `fraction` of the bytes, then the server closes: a clean end. */
  | 'short-close'
  /** Audio only: no Content-Length, the file and then more bytes for as long as anyone reads. */
  | 'endless'
  /** Audio only: 200 with the audio content type, but the body is an HTML page. */
  | 'not-audio'
  /** A 302 to `location` (say a CanaryServer on another loopback port) instead of the answer. */
  | 'redirect'
  /** The connection is destroyed before any answer. */
  | 'reset'
  /** 200 with a body that is not the documented format. */
  | 'garbage';

export interface Fault {
  kind: FaultKind;
  on: Endpoint;
  /** How many matching requests it hits; Infinity for all. Default 1. */
  times?: number;
  retryAfterSeconds?: number;
  status?: number;
  fraction?: number;
  chunkDelayMs?: number;
  chunkBytes?: number;
  /** For `redirect`: where to. */
  location?: string;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** The query string, `?` included (empty when none). */
  query: string;
  endpoint: Endpoint;
  status?: number;
}

export interface SimulatorOptions {
  recordings?: SimRecording[];
  /** Clock for readiness; tests may freeze it. */
  now?: () => number;
}

export abstract class ProviderSimulator {
  readonly recordings = new Map<string, SimRecording>();
  readonly requests: LoggedRequest[] = [];
  /** Requests being answered right now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** The same, per endpoint (a listing is not a download). */
  private readonly inFlightOf = new Map<string, number>();
  readonly maxInFlightOf = new Map<string, number>();
  private readonly faults: Array<Fault & { remaining: number }> = [];
  private readonly audioCache = new Map<string, SyntheticWav>();
  protected readonly idlessInListing = new Set<string>();
  private readonly metadataAliases = new Map<string, string>();
  private server: Server | undefined;
  protected readonly now: () => number;
  baseUrl = '';

  constructor(options: SimulatorOptions = {}) {
    this.now = options.now ?? Date.now;
    for (const recording of options.recordings ?? []) this.add(recording);
  }

  /** Handles one request; `endpoint` has already been classified and faults applied. */
  protected abstract handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void>;

  /** Which endpoint class a request belongs to (for fault targeting and the request log). */
  protected abstract classify(method: string, url: URL): Endpoint;

  /** The URL prefix the provider's API lives under (Restcomm: `/restcomm`). */
  protected basePath(): string {
    return '';
  }

  add(recording: SimRecording): void {
    this.recordings.set(recording.id, recording);
  }

  markReady(id: string): void {
    const recording = this.require(id);
    recording.readyAt = undefined;
  }

  markDeleted(id: string): void {
    this.require(id).deleted = true;
  }

  isReady(recording: SimRecording): boolean {
    return recording.readyAt === undefined || recording.readyAt <= this.now();
  }

  /**
   * The listing renders this recording without its id field: `recordingId` and `id`, which
   * Bandwidth's and VoIPBin's OpenAPI schemas mark optional; Infobip's `url`, Restcomm's and
   * DialogTech's `sid`, which their references always show.
   */
  listWithoutId(id: string): void {
    this.require(id);
    this.idlessInListing.add(id);
  }

  /** A listing's rendering of `recording`: without `idField` if listWithoutId named it. */
  protected asListed(recording: SimRecording, fields: Record<string, string>, idField: string) {
    if (!this.idlessInListing.has(recording.id)) return fields;
    return Object.fromEntries(Object.entries(fields).filter(([name]) => name !== idField));
  }

  /**
   * The single-recording metadata request for `id` answers `otherId`'s metadata instead (a
   * caching gateway mixing up responses). Honoured by the simulators whose provider has a
   * single-recording resource (VoIPBin, Restcomm, Bandwidth).
   */
  answerMetadataAs(id: string, otherId: string): void {
    this.require(id);
    this.require(otherId);
    this.metadataAliases.set(id, otherId);
  }

  /** Which recording the metadata request for `id` answers with. */
  protected metadataOf(id: string): string {
    return this.metadataAliases.get(id) ?? id;
  }

  /** Queues a fault; faults are consumed in the order they were injected. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** The audio the simulator serves for a recording, for tests to compare hashes with. */
  audio(id: string): SyntheticWav {
    return this.synthesized(this.audioCache, id, SyntheticWav);
  }

  /** A recording's synthetic audio of one kind, made once from its duration and channels. */
  protected synthesized<T extends SyntheticWav>(
    cache: Map<string, T>,
    id: string,
    Kind: new (id: string, shape: { seconds: number; channels: number }) => T,
  ): T {
    let made = cache.get(id);
    if (!made) {
      const recording = this.require(id);
      made = new Kind(id, { seconds: recording.durationSec, channels: recording.channels ?? 1 });
      cache.set(id, made);
    }
    return made;
  }

  /**
   * What a config account for this simulator says besides its provider and credentials: its
   * address and zone, on the schedule the demo sweeps with.
   */
  accountBase(id: string, timeZone = 'UTC') {
    return { id, baseUrl: this.baseUrl, timeZone, schedule: 'rate(15 minutes)' };
  }

  /** Requests served for an endpoint class (e.g. how many audio downloads happened). */
  count(endpoint: Endpoint): number {
    return this.requests.filter((request) => request.endpoint === endpoint).length;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((request, response) => {
      this.dispatch(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`simulator error: ${(error as Error).message}`);
        } else {
          response.destroy();
        }
      });
    });
    this.server.keepAliveTimeout = 5_000;
    this.server.listen(port, host);
    await once(this.server, 'listening');
    const address = this.server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${address.port}${this.basePath()}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  protected require(id: string): SimRecording {
    const recording = this.recordings.get(id);
    if (!recording) throw new Error(`simulator has no recording ${id}`);
    return recording;
  }

  /** Recordings that exist (not deleted), oldest first, ties broken by id. */
  protected live(): SimRecording[] {
    return [...this.recordings.values()]
      .filter((recording) => !recording.deleted)
      .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.id.localeCompare(b.id));
  }

  protected json(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  }

  protected text(response: ServerResponse, status: number, body: string, contentType = 'text/plain'): void {
    response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    response.end(body);
  }

  /** Serves a recording's WAV, applying any pending audio fault. */
  protected async sendAudio(response: ServerResponse, id: string, contentType = 'audio/wav'): Promise<void> {
    const wav = this.audio(id);
    const fault = this.take('audio', [
      'truncate',
      'slow',
      'short-chunked',
      'short-close',
      'endless',
      'not-audio',
    ]);
    const cut = Math.floor(wav.size * (fault?.fraction ?? 0.5));
    if (fault?.kind === 'not-audio') {
      this.text(
        response,
        200,
        '<!DOCTYPE html><html><body>Service temporarily moved</body></html>',
        contentType,
      );
      return;
    }
    if (fault?.kind === 'short-chunked') {
      response.writeHead(200, { 'content-type': contentType, 'transfer-encoding': 'chunked' });
      response.end(wav.slice(0, cut));
      return;
    }
    if (fault?.kind === 'short-close') {
      // Written on the socket itself: Node's server would otherwise pick chunked encoding.
      const socket = response.socket;
      response.detachSocket(socket as NonNullable<typeof socket>);
      socket?.end(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: ${contentType}\r\nconnection: close\r\n\r\n`),
          wav.slice(0, cut),
        ]),
      );
      return;
    }
    if (fault?.kind === 'endless') {
      response.writeHead(200, { 'content-type': contentType, 'transfer-encoding': 'chunked' });
      response.on('close', () => response.destroy());
      for (let position = 0; !response.destroyed; position += 64 * 1024) {
        const start = position % wav.size;
        if (!response.write(wav.slice(start, Math.min(wav.size, start + 64 * 1024)))) {
          await drainedOrClosed(response);
        }
      }
      return;
    }
    response.writeHead(200, { 'content-type': contentType, 'content-length': wav.size });
    if (fault?.kind === 'truncate') {
      response.write(wav.slice(0, cut));
      await sleep(20);
      response.socket?.destroy();
      return;
    }
    if (fault?.kind === 'slow') {
      const chunkBytes = fault.chunkBytes ?? 4096;
      for (let position = 0; position < wav.size; position += chunkBytes) {
        // Between chunks only: after the last one the client has the whole Content-Length, and an
        // answer still "in flight" here while the client moves on would miscount concurrency.
        if (position > 0) await sleep(fault.chunkDelayMs ?? 50);
        if (!response.write(wav.slice(position, Math.min(wav.size, position + chunkBytes)))) {
          await once(response, 'drain');
        }
      }
      response.end();
      return;
    }
    for await (const chunk of wav.stream(256 * 1024)) {
      if (!response.write(chunk)) await once(response, 'drain');
    }
    response.end();
  }

  /** Reads a request body as text. */
  protected async readBody(request: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** For a request that hits a `garbage` fault: the simulator answers with this body. */
  protected garbageBody(): { contentType: string; body: string } {
    return { contentType: 'application/json', body: '{"result": [ {"id": "trunc' };
  }

  private async dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://simulator');
    const method = request.method ?? 'GET';
    const endpoint = this.classify(method, url);
    const entry: LoggedRequest = { method, path: url.pathname, query: url.search, endpoint };
    this.requests.push(entry);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const ofEndpoint = (this.inFlightOf.get(endpoint) ?? 0) + 1;
    this.inFlightOf.set(endpoint, ofEndpoint);
    this.maxInFlightOf.set(endpoint, Math.max(this.maxInFlightOf.get(endpoint) ?? 0, ofEndpoint));
    response.on('finish', () => {
      entry.status = response.statusCode;
    });
    response.on('close', () => {
      this.inFlight -= 1;
      this.inFlightOf.set(endpoint, (this.inFlightOf.get(endpoint) ?? 1) - 1);
    });
    const fault = this.take(endpoint, [
      'rate-limit',
      'server-error',
      'unauthorized',
      'reset',
      'garbage',
      'redirect',
    ]);
    switch (fault?.kind) {
      case 'redirect':
        response.writeHead(302, { location: fault.location ?? '/', 'content-length': 0 });
        response.end();
        return;
      case 'rate-limit':
        response.writeHead(429, {
          'retry-after': String(fault.retryAfterSeconds ?? 1),
          'content-type': 'text/plain',
        });
        response.end('Too Many Requests');
        return;
      case 'server-error':
        this.text(response, fault.status ?? 503, 'Service Unavailable');
        return;
      case 'unauthorized':
        this.text(response, 401, 'Unauthorized');
        return;
      case 'reset':
        request.socket.destroy();
        return;
      case 'garbage': {
        const garbage = this.garbageBody();
        this.text(response, 200, garbage.body, garbage.contentType);
        return;
      }
      default:
        await this.handle(request, response, url);
    }
  }

  private take(endpoint: Endpoint, kinds: FaultKind[]): Fault | undefined {
    const index = this.faults.findIndex(
      (fault) =>
        (fault.on === endpoint || fault.on === 'any') && kinds.includes(fault.kind) && fault.remaining > 0,
    );
    if (index < 0) return undefined;
    const fault = this.faults[index] as Fault & { remaining: number };
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }
}

/** Deterministic sample recordings: `count` calls, `spacingMs` apart from `start`. */
export function sampleRecordings(
  count: number,
  options: {
    prefix?: string;
    start?: Date;
    spacingMs?: number;
    durationSec?: number;
    makeId?: (index: number) => string;
  } = {},
): SimRecording[] {
  const start = options.start?.getTime() ?? Date.UTC(2026, 10, 1, 9, 0, 0);
  return Array.from({ length: count }, (_, index) => ({
    id: options.makeId?.(index) ?? `${options.prefix ?? 'rec'}-${String(index).padStart(5, '0')}`,
    callId: `call-${options.prefix ?? 'rec'}-${index}`,
    from: `+1555${String(index).padStart(7, '0')}`,
    to: `+1666${String(index % 7).padStart(7, '0')}`,
    direction: index % 3 === 0 ? 'outbound' : 'inbound',
    startedAt: new Date(start + index * (options.spacingMs ?? 60_000)),
    durationSec: options.durationSec ?? 0.5 + (index % 5) * 0.25,
  }));
}

/** Resolves on `drain` or `close`, whichever comes first, leaving no listener behind. */
function drainedOrClosed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.once('drain', done);
    response.once('close', done);
  });
}
