/**
 * VoIPBin simulator: `/v1.0/recordings` (cursor paging on `tm_create`, newest first),
 * `/v1.0/recordings/{id}` (GET, DELETE as a soft delete), `/v1.0/recordingfiles/{id}` (the file,
 * optionally as a ZIP and/or through a redirect to a storage URL), token auth via
 * `Authorization: Bearer` or `?token=`, access-key auth via `?accesskey=`, zone-less timestamps.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { DateTime } from 'luxon';
import type { AccountOf } from '../../lambdas/core/config.ts';
import { type Endpoint, ProviderSimulator, type SimRecording, type SimulatorOptions } from './base.ts';

export interface VoipbinSimulatorOptions extends SimulatorOptions {
  /** The JWT the simulator accepts. */
  token?: string;
  /** The access key the simulator accepts as `?accesskey=`. */
  accessKey?: string;
  /** Zone the zone-less timestamps are written in (the account must read them in the same). */
  timeZone?: string;
  /** How an unset `tm_end` / `tm_delete` is written: `""` (the docs) or the database sentinel. */
  unsetTimestamp?: 'empty' | 'sentinel';
  /**
   * Compare `page_token` with `<=` instead of `<`: pages then overlap by the boundary item and a
   * page full of equal `tm_create` values returns the same token again.
   */
  inclusivePageToken?: boolean;
}

/** How `GET /recordingfiles/{id}` answers for one recording. */
export interface VoipbinDownloadMode {
  /** Serve `application/zip` (a stored ZIP holding the WAV) instead of `audio/wav`. */
  zip?: boolean;
  /** Answer 302 to a storage path first, as the real API hands out bucket URLs. */
  redirect?: boolean;
  /** 404 though the recording has ended: its file has not reached storage yet. */
  fileMissing?: boolean;
}

const DEFAULT_TOKEN = 'voipbin-sim-token-eyJhbGciOiJIUzI1NiJ9';
const DEFAULT_ACCESS_KEY = 'vb_simAccessKey3Bf9xKmPq2nR7sT4';
const CUSTOMER_ID = '5e4a0680-804e-11ec-8477-2fea5968d85b';
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const SENTINEL = '9999-01-01 00:00:00.000000';
const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;
/** A recording row is created this long before the recording starts (status `initiating`). */
const CREATE_BEFORE_START_MS = 2_750;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;

export class VoipbinSimulator extends ProviderSimulator {
  readonly token: string;
  readonly accessKey: string;
  readonly timeZone: string;
  private readonly unsetTimestamp: 'empty' | 'sentinel';
  private readonly inclusivePageToken: boolean;
  private readonly downloadModes = new Map<string, VoipbinDownloadMode>();
  private readonly deletedAt = new Map<string, number>();

  constructor(options: VoipbinSimulatorOptions = {}) {
    super(options);
    this.token = options.token ?? DEFAULT_TOKEN;
    this.accessKey = options.accessKey ?? DEFAULT_ACCESS_KEY;
    this.timeZone = options.timeZone ?? 'UTC';
    this.unsetTimestamp = options.unsetTimestamp ?? 'empty';
    this.inclusivePageToken = options.inclusivePageToken ?? false;
  }

  /** Changes how one recording's file is served (ZIP, redirect, or both). */
  setDownloadMode(id: string, mode: VoipbinDownloadMode): void {
    this.require(id);
    this.downloadModes.set(id, mode);
  }

  override markDeleted(id: string): void {
    super.markDeleted(id);
    if (!this.deletedAt.has(id)) this.deletedAt.set(id, this.now());
  }

  /** The ZIP served for a recording in `zip` mode: one stored (uncompressed) `<id>.wav` entry. */
  zipOf(id: string): Buffer {
    return storedZip(`${id}.wav`, this.audio(id).buffer());
  }

  /** The recording as VoIPBin renders it. */
  render(recording: SimRecording): Record<string, string> {
    const ended = this.isReady(recording);
    const start = recording.startedAt.getTime();
    const end = start + Math.round(recording.durationSec * 1000);
    const deletedAt = recording.deleted ? (this.deletedAt.get(recording.id) ?? this.now()) : undefined;
    return {
      id: recording.id,
      customer_id: CUSTOMER_ID,
      owner_type: 'customer',
      owner_id: CUSTOMER_ID,
      activeflow_id: NIL_UUID,
      reference_type: recording.extra?.referenceType ?? 'call',
      reference_id: recording.callId,
      status: ended ? 'ended' : (recording.extra?.status ?? 'recording'),
      format: 'wav',
      on_end_flow_id: NIL_UUID,
      tm_start: this.stamp(start),
      tm_end: ended ? this.stamp(end) : this.unset(),
      tm_create: this.createdStamp(recording),
      tm_update: this.stamp(ended ? end + 11 : start),
      tm_delete: deletedAt === undefined ? this.unset() : this.stamp(deletedAt),
    };
  }

  protected override classify(method: string, url: URL): Endpoint {
    const path = url.pathname;
    if (path.startsWith('/v1.0/recordingfiles/') || path.startsWith('/storage/')) return 'audio';
    if (path === '/v1.0/recordings') return 'list';
    if (path.startsWith('/v1.0/recordings/')) return method === 'DELETE' ? 'delete' : 'status';
    return 'any';
  }

  protected override async handle(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
  ): Promise<void> {
    const method = request.method ?? 'GET';
    const path = url.pathname;

    // Stands in for a signed bucket URL: it needs no API token.
    const stored = /^\/storage\/recordings\/([^/]+)\.(wav|zip)$/.exec(path);
    if (stored && method === 'GET') {
      await this.serveFile(response, decodeURIComponent(stored[1] ?? ''), stored[2] === 'zip');
      return;
    }

    if (!this.authorized(request, url)) {
      // api-manager aborts with the bare status: no body.
      response.writeHead(401, { 'content-length': 0 });
      response.end();
      return;
    }

    if (path === '/v1.0/recordings' && method === 'GET') {
      this.listPage(response, url);
      return;
    }
    const single = /^\/v1\.0\/recordings\/([^/]+)$/.exec(path);
    if (single) {
      const id = decodeURIComponent(single[1] ?? '');
      const recording = this.recordings.get(id);
      if (method === 'GET') {
        const answered = this.recordings.get(this.metadataOf(id));
        if (answered && answered !== recording) {
          this.json(response, 200, this.render(answered));
          return;
        }
        // A soft-deleted recording is still returned, with its `tm_delete` set.
        if (recording) this.json(response, 200, this.render(recording));
        else this.notFound(response);
        return;
      }
      if (method === 'DELETE') {
        if (!recording || recording.deleted) {
          this.notFound(response);
          return;
        }
        this.markDeleted(recording.id);
        this.json(response, 200, this.render(recording));
        return;
      }
    }
    const file = /^\/v1\.0\/recordingfiles\/([^/]+)$/.exec(path);
    if (file && method === 'GET') {
      const id = decodeURIComponent(file[1] ?? '');
      const recording = this.recordings.get(id);
      if (!recording || recording.deleted) {
        this.notFound(response);
        return;
      }
      if (!this.isReady(recording)) {
        this.json(response, 400, { message: 'the recording has not ended yet' });
        return;
      }
      const mode = this.downloadModes.get(id) ?? {};
      if (mode.fileMissing) {
        this.notFound(response);
        return;
      }
      if (mode.redirect) {
        const location = `/storage/recordings/${encodeURIComponent(id)}.${mode.zip ? 'zip' : 'wav'}`;
        response.writeHead(302, { location, 'content-length': 0 });
        response.end();
        return;
      }
      await this.serveFile(response, id, mode.zip ?? false);
      return;
    }
    this.notFound(response);
  }

  private authorized(request: IncomingMessage, url: URL): boolean {
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    return (
      bearer === this.token ||
      url.searchParams.get('token') === this.token ||
      url.searchParams.get('accesskey') === this.accessKey
    );
  }

  private listPage(response: ServerResponse, url: URL): void {
    const sizeParam = url.searchParams.get('page_size');
    const pageSize = sizeParam === null ? DEFAULT_PAGE_SIZE : Number(sizeParam);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      this.json(response, 400, { message: `invalid page_size "${sizeParam}"` });
      return;
    }
    const tokenParam = url.searchParams.get('page_token');
    if (tokenParam !== null && tokenParam !== '' && !TIMESTAMP.test(tokenParam)) {
      this.json(response, 400, { message: `invalid page_token "${tokenParam}"` });
      return;
    }
    const token = tokenParam ? comparable(tokenParam) : undefined;
    // Zone-less stamps in one zone sort as strings once their fractions have the same width.
    const page = this.live()
      .map((recording) => ({ recording, created: this.createdStamp(recording) }))
      .filter(
        ({ created }) =>
          token === undefined || (this.inclusivePageToken ? created <= token : created < token),
      )
      .sort((a, b) => b.created.localeCompare(a.created) || b.recording.id.localeCompare(a.recording.id))
      .slice(0, pageSize);
    this.json(response, 200, {
      result: page.map(({ recording }) => {
        const { id, ...rest } = this.render(recording);
        return this.idlessInListing.has(recording.id) ? rest : { id, ...rest };
      }),
      next_page_token: page.at(-1)?.created ?? '',
    });
  }

  private async serveFile(response: ServerResponse, id: string, zip: boolean): Promise<void> {
    const recording = this.recordings.get(id);
    if (!recording || recording.deleted || !this.isReady(recording)) {
      this.notFound(response);
      return;
    }
    if (!zip) {
      await this.sendAudio(response, id, 'audio/wav');
      return;
    }
    const archive = this.zipOf(id);
    response.writeHead(200, { 'content-type': 'application/zip', 'content-length': archive.length });
    response.end(archive);
  }

  private notFound(response: ServerResponse): void {
    this.json(response, 404, { message: 'Not Found' });
  }

  private createdStamp(recording: SimRecording): string {
    const created = recording.startedAt.getTime() - CREATE_BEFORE_START_MS;
    // The database keeps microseconds; derive them from the time so equal times stay equal.
    const micros = String((created * 7) % 1000).padStart(3, '0');
    return `${this.stamp(created).slice(0, -3)}${micros}`;
  }

  /** `2021-01-29 05:31:47.870000` in the simulator's zone. */
  private stamp(epochMs: number): string {
    return `${DateTime.fromMillis(epochMs, { zone: this.timeZone }).toFormat('yyyy-MM-dd HH:mm:ss.SSS')}000`;
  }

  private unset(): string {
    return this.unsetTimestamp === 'sentinel' ? SENTINEL : '';
  }
}

/** A page token padded to six fraction digits, comparable with rendered `tm_create` strings. */
function comparable(token: string): string {
  const [seconds, fraction = ''] = token.split('.');
  return `${seconds}.${fraction.padEnd(6, '0')}`;
}

/** A minimal ZIP archive with one stored (uncompressed) entry. */
function storedZip(name: string, data: Buffer): Buffer {
  const fileName = Buffer.from(name, 'utf8');
  const checksum = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0); // "PK\3\4"
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(0, 6); // flags
  local.writeUInt16LE(0, 8); // method: stored
  local.writeUInt16LE(0, 10); // DOS time
  local.writeUInt16LE(0x21, 12); // DOS date 1980-01-01
  local.writeUInt32LE(checksum, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  local.writeUInt16LE(0, 28);

  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0); // "PK\1\2"
  central.writeUInt16LE(20, 4); // version made by
  central.writeUInt16LE(20, 6); // version needed
  central.writeUInt16LE(0, 8);
  central.writeUInt16LE(0, 10);
  central.writeUInt16LE(0, 12);
  central.writeUInt16LE(0x21, 14);
  central.writeUInt32LE(checksum, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  // extra length, comment length, disk, internal attributes, external attributes: 0
  central.writeUInt32LE(0, 42); // offset of the local header

  const centralOffset = local.length + fileName.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); // "PK\5\6"
  end.writeUInt16LE(1, 8); // entries on this disk
  end.writeUInt16LE(1, 10); // entries in total
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}

/** A config account pointing at the simulator, with the simulator's token (or access key) and zone. */
export function voipbinSimulatorAccount(
  sim: VoipbinSimulator,
  id = 'voipbin-sim',
  auth: 'token' | 'accesskey' = 'token',
): AccountOf<'voipbin'> {
  return {
    ...sim.accountBase(id, sim.timeZone),
    provider: 'voipbin',
    auth: auth === 'accesskey' ? { accesskey: sim.accessKey } : { token: sim.token },
  };
}
