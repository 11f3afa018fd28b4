/**
 * A Bandwidth Voice API v2 simulator (recordings only), as the reference describes it:
 * - Basic auth with the dashboard API credentials; a wrong pair is a 401, another account's id a 403.
 * - `GET /api/v2/accounts/{accountId}/recordings?from=&to=&minStartTime=&maxStartTime=`: a JSON
 *   array of at most 1000 recordings, oldest first, minStartTime inclusive, maxStartTime
 *   exclusive, and no paging of any kind.
 * - `GET|DELETE /api/v2/accounts/{accountId}/calls/{callId}/recordings/{recordingId}` and
 *   `GET|DELETE …/media`; `GET /api/v2/accounts/{accountId}/calls/{callId}/recordings`.
 * - Errors are `{"type": "…", "description": "…"}` JSON documents.
 *
 * `SimRecording.extra` may carry `status` (force a status word: `error`, `partial`, `absent`,
 * `completed` as in the OpenAPI's example, an unknown one…), `mediaUrl: 'present'` (a mediaUrl
 * and downloadable media whatever the status word), `fileFormat`, `parentCallId`,
 * `transferCallerId` and `transferTo`. Knobs: `listWithoutId(id)` lists a recording without its
 * `recordingId`; `answerMetadataAs(id, otherId)` answers another recording's metadata.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountOf } from '../../lambdas/core/config.ts';
import { type Endpoint, ProviderSimulator, type SimRecording, type SimulatorOptions } from './base.ts';

/** Bandwidth's cap on one listing answer. */
const LIST_CAP = 1000;

export interface BandwidthSimulatorOptions extends SimulatorOptions {
  /** The Bandwidth account id in every URL. */
  accountId?: string;
  /** Dashboard API credentials the simulator accepts. */
  username?: string;
  password?: string;
}

const ACCOUNT_PREFIX = /^\/api\/v2\/accounts\/([^/]+)(\/.*)?$/;
const RECORDING_ROUTE = /^\/calls\/([^/]+)\/recordings\/([^/]+)(\/media)?$/;
const CALL_RECORDINGS_ROUTE = /^\/calls\/([^/]+)\/recordings$/;

export class BandwidthSimulator extends ProviderSimulator {
  readonly accountId: string;
  readonly username: string;
  readonly password: string;
  /** The query string of every account listing request, as sent (for encoding checks). */
  readonly listQueries: string[] = [];
  /** Recordings whose media alone was deleted (`DELETE …/media`); their metadata stays. */
  private readonly mediaDeleted = new Set<string>();

  constructor(options: BandwidthSimulatorOptions = {}) {
    super(options);
    this.accountId = options.accountId ?? '9900000';
    this.username = options.username ?? 'callvault-sim';
    this.password = options.password ?? 'sim-Pa55word!';
  }

  protected classify(method: string, url: URL): Endpoint {
    const rest = ACCOUNT_PREFIX.exec(url.pathname)?.[2] ?? '';
    const recording = RECORDING_ROUTE.exec(rest);
    if (recording) {
      if (method === 'DELETE') return 'delete';
      return recording[3] ? 'audio' : 'status';
    }
    if (rest === '/recordings' || CALL_RECORDINGS_ROUTE.test(rest)) return 'list';
    return 'any';
  }

  /** What a truncated Bandwidth listing looks like when a proxy cuts it. */
  protected override garbageBody(): { contentType: string; body: string } {
    return {
      contentType: 'application/json',
      body: `[{"accountId":"${this.accountId}","recordingId":"r-trunc`,
    };
  }

  /**
   * The JSON body Bandwidth POSTs to the application's callback URL for a recording event
   * (`recordingAvailable` carries `status`; `recordingComplete` does not).
   */
  callbackBody(
    id: string,
    eventType: 'recordingAvailable' | 'recordingComplete' = 'recordingAvailable',
  ): string {
    const recording = this.require(id);
    // The callback schemas carry no transcription, and status only on recordingAvailable.
    const { status, transcription, ...metadata } = this.metadata(recording);
    return JSON.stringify({
      eventType,
      eventTime: new Date(this.now()).toISOString(),
      ...metadata,
      callUrl: `https://voice.bandwidth.com/api/v2/accounts/${this.accountId}/calls/${recording.callId}`,
      ...(eventType === 'recordingAvailable' ? { status } : {}),
      tag: null,
    });
  }

  protected async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (!this.authorized(request)) {
      response.setHeader('www-authenticate', 'Basic realm="Bandwidth"');
      this.error(
        response,
        401,
        'authentication-error',
        'Full authentication is required to access this resource',
      );
      return;
    }
    const match = ACCOUNT_PREFIX.exec(url.pathname);
    if (!match) {
      this.error(response, 404, 'not-found', `No resource at ${url.pathname}`);
      return;
    }
    if (decodeURIComponent(match[1] ?? '') !== this.accountId) {
      this.error(response, 403, 'forbidden', 'You do not have access to this account');
      return;
    }
    const rest = match[2] ?? '';
    const method = request.method ?? 'GET';
    if (rest === '/recordings' && method === 'GET') {
      this.listQueries.push(url.search);
      this.listAccountRecordings(response, url.searchParams);
      return;
    }
    const callRecordings = CALL_RECORDINGS_ROUTE.exec(rest);
    if (callRecordings && method === 'GET') {
      const callId = decodeURIComponent(callRecordings[1] ?? '');
      const found = this.live().filter((recording) => recording.callId === callId);
      this.json(
        response,
        200,
        found.map((recording) => this.metadata(recording)),
      );
      return;
    }
    const route = RECORDING_ROUTE.exec(rest);
    if (!route) {
      this.error(response, 404, 'not-found', `No resource at ${url.pathname}`);
      return;
    }
    const recording = this.find(decodeURIComponent(route[1] ?? ''), decodeURIComponent(route[2] ?? ''));
    if (!recording) {
      this.error(response, 404, 'not-found', 'Recording not found');
      return;
    }
    const media = Boolean(route[3]);
    if (method === 'DELETE') {
      // DELETE …/media removes the media only; DELETE of the recording takes its metadata, media
      // and transcription with it.
      if (media) this.mediaDeleted.add(recording.id);
      else this.markDeleted(recording.id);
      response.writeHead(204).end();
      return;
    }
    if (method !== 'GET') {
      this.error(response, 405, 'method-not-allowed', `${method} is not allowed here`);
      return;
    }
    if (!media) {
      this.json(
        response,
        200,
        this.metadata(this.recordings.get(this.metadataOf(recording.id)) ?? recording),
      );
      return;
    }
    // Assumption: Bandwidth has no media before the recording is complete, and answers a 404
    // like any missing resource rather than a distinct "processing" status.
    if (!this.mediaAvailable(recording)) {
      this.error(response, 404, 'not-found', 'Recording media not found');
      return;
    }
    await this.sendAudio(
      response,
      recording.id,
      this.fileFormat(recording) === 'mp3' ? 'audio/mpeg' : 'audio/vnd.wave',
    );
  }

  private listAccountRecordings(response: ServerResponse, query: URLSearchParams): void {
    const bounds: Record<string, number | undefined> = {};
    for (const name of ['minStartTime', 'maxStartTime']) {
      const value = query.get(name);
      if (value === null) continue;
      const at = Date.parse(value);
      if (Number.isNaN(at)) {
        this.error(response, 400, 'validation', `${name} must be an ISO8601 date-time, got '${value}'`);
        return;
      }
      bounds[name] = at;
    }
    const from = query.get('from');
    const to = query.get('to');
    const { minStartTime, maxStartTime } = bounds;
    const matching = this.live().filter((recording) => {
      const at = recording.startedAt.getTime();
      return (
        (minStartTime === undefined || at >= minStartTime) &&
        (maxStartTime === undefined || at < maxStartTime) &&
        (from === null || recording.from === from) &&
        (to === null || recording.to === to)
      );
    });
    // live() is already oldest first; the cap is all the "paging" Bandwidth offers.
    this.json(
      response,
      200,
      matching.slice(0, LIST_CAP).map((recording) => {
        const { recordingId, ...rest } = this.metadata(recording);
        return this.idlessInListing.has(recording.id) ? rest : { recordingId, ...rest };
      }),
    );
  }

  private authorized(request: IncomingMessage): boolean {
    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    return request.headers.authorization === expected;
  }

  private find(callId: string, recordingId: string): SimRecording | undefined {
    const recording = this.recordings.get(recordingId);
    if (!recording || recording.deleted || recording.callId !== callId) return undefined;
    return recording;
  }

  private status(recording: SimRecording): string {
    if (recording.extra?.status) return recording.extra.status;
    if (this.mediaDeleted.has(recording.id)) return 'deleted';
    return this.isReady(recording) ? 'complete' : 'processing';
  }

  /** Media is served for `complete`/`completed`, or whatever the word when `extra.mediaUrl` is set. */
  private mediaAvailable(recording: SimRecording): boolean {
    const status = this.status(recording);
    if (['error', 'deleted', 'absent'].includes(status) || this.mediaDeleted.has(recording.id)) return false;
    return status === 'complete' || status === 'completed' || recording.extra?.mediaUrl === 'present';
  }

  private fileFormat(recording: SimRecording): string {
    return recording.extra?.fileFormat ?? 'wav';
  }

  /** A recording as `callRecordingMetadata`. */
  private metadata(recording: SimRecording): Record<string, unknown> {
    const status = this.status(recording);
    const extra = recording.extra ?? {};
    return {
      applicationId: '04e88489-df02-4e34-a0ee-27a91849555f',
      accountId: this.accountId,
      callId: recording.callId,
      parentCallId: extra.parentCallId ?? null,
      recordingId: recording.id,
      to: recording.to,
      from: recording.from,
      transferCallerId: extra.transferCallerId ?? null,
      transferTo: extra.transferTo ?? null,
      duration: isoDuration(recording.durationSec),
      direction: recording.direction,
      channels: recording.channels ?? 1,
      startTime: recording.startedAt.toISOString(),
      endTime: new Date(
        recording.startedAt.getTime() + Math.round(recording.durationSec * 1000),
      ).toISOString(),
      fileFormat: this.fileFormat(recording),
      status,
      // Rendered as the reference shows it, malformed (`https  ://../…`): clients must build the
      // media URL themselves. Absent until the media can be downloaded, as the schema says.
      mediaUrl: this.mediaAvailable(recording)
        ? `https  ://../${this.accountId}/calls/${recording.callId}/recordings/${recording.id}/media`
        : null,
      transcription: null,
    };
  }

  private error(response: ServerResponse, status: number, type: string, description: string): void {
    this.json(response, status, { type, description });
  }
}

/** `62.5` → `PT1M2.5S`, `1.415` → `PT1.415S`, as Bandwidth writes durations. */
function isoDuration(seconds: number): string {
  const totalMs = Math.round(seconds * 1000);
  const minutes = Math.floor(totalMs / 60_000);
  const rest = (totalMs - minutes * 60_000) / 1000;
  return `PT${minutes > 0 ? `${minutes}M` : ''}${rest}S`;
}

/** A config account pointing at the simulator, with the credentials it accepts. */
export function bandwidthSimulatorAccount(
  sim: BandwidthSimulator,
  id = 'bandwidth-sim',
): AccountOf<'bandwidth'> {
  return {
    ...sim.accountBase(id),
    provider: 'bandwidth',
    auth: { accountId: sim.accountId, username: sim.username, password: sim.password },
  };
}
