/**
 * DialogTech simulator: `GET /ibp_api.php?action=recording.list|recording.download|recording.remove`
 * with `access_key` / `secret_access_key` in the query string, answering the exact XML envelopes
 * of the reference (`<response><result>…</result><result_description>…</result_description>…`).
 *
 * - recording.list needs `type` and `id`; a recording belongs to the lists named in
 *   `extra.lists` (space-separated `type:id`, default `recorded_calls:1`). The whole list comes
 *   in one answer, newest first, with no paging; an empty list is `404 No results returned`.
 * - `date` is zone-less local time in the simulator's `timeZone`; `minutes` is decimal minutes
 *   with one decimal, as in the reference.
 * - recording.download: 202 while `readyAt` is in the future, 404 for deleted or unknown sids,
 *   audio otherwise. `format=wav` (default) serves the SyntheticWav; `format=mp3` serves
 *   `mp3(id)`: an ID3 tag and an MPEG-1 Layer III frame header in front of the same PCM
 *   samples. It is not decodable audio; it lets header checks tell an mp3 answer from a wav one.
 * - recording.remove: 202 while processing, 404 once gone, `delete_now=0` accepts and keeps it.
 * - DialogTech has no per-recording status request: readiness probes are downloads, so faults
 *   aimed at 'status' never fire here; aim them at 'audio'.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DateTime } from 'luxon';
import { type AccountOf, dialogtechAccount } from '../../lambdas/core/config.ts';
import { SyntheticWav } from './audio.ts';
import {
  type Endpoint,
  ProviderSimulator,
  type SimRecording,
  type SimulatorOptions,
  sampleRecordings,
} from './base.ts';

export const DIALOGTECH_API_PATH = '/ibp_api.php';

/** The list a recording belongs to when its `extra.lists` does not say. */
export const DEFAULT_LIST = { type: 'recorded_calls', id: '1' } as const;

const LIST_TYPES = new Set([
  'findme',
  'locator',
  'recorded_calls',
  'survey',
  'queue',
  'powerdialer',
  'recorded_call',
  'user_recordings',
]);

const PROCESSING =
  'The requested recording is currently being processed by the system. Please check back later.';

/** One `<response>` envelope; `data` is the rendered `<data>` element, if any. */
interface XmlAnswer {
  status: number;
  result: 'success' | 'failed';
  description: string;
  data?: string;
}

function failed(status: number, description: string): XmlAnswer {
  return { status, result: 'failed', description };
}

export interface DialogtechList {
  type: string;
  id: string;
}

export interface DialogtechSimulatorOptions extends SimulatorOptions {
  accessKey?: string;
  secretAccessKey?: string;
  /** Zone the zone-less `date` values are written in. */
  timeZone?: string;
  /** Lists the account is configured with even if no recording is in them yet. */
  lists?: DialogtechList[];
}

/** An ID3v2.4 tag with no frames, then an MPEG-1 Layer III header (128 kbit/s, 44.1 kHz). */
const MP3_PREFIX = Buffer.from([
  0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfb, 0x90, 0x64,
]);
const WAV_HEADER_BYTES = 44;
const MP3_KEY = '#mp3';

/** The simulator's mp3 answer: MP3_PREFIX followed by the recording's PCM samples. */
export class SyntheticMp3 extends SyntheticWav {
  override get size(): number {
    return MP3_PREFIX.length + this.dataBytes;
  }

  override slice(start: number, end: number): Buffer {
    const prefix = MP3_PREFIX.subarray(Math.min(start, MP3_PREFIX.length), Math.min(end, MP3_PREFIX.length));
    const offset = WAV_HEADER_BYTES - MP3_PREFIX.length;
    const from = Math.max(start, MP3_PREFIX.length) + offset;
    const to = Math.max(end, MP3_PREFIX.length) + offset;
    return from < to ? Buffer.concat([prefix, super.slice(from, to)]) : Buffer.from(prefix);
  }
}

export class DialogtechSimulator extends ProviderSimulator {
  readonly accessKey: string;
  readonly secretAccessKey: string;
  readonly timeZone: string;
  private readonly declaredLists: DialogtechList[];
  private readonly mp3Cache = new Map<string, SyntheticMp3>();
  /** Sids whose download and removal fail with the documented "Error in retrieving/removing recording" 404. */
  readonly failingFiles = new Set<string>();

  constructor(options: DialogtechSimulatorOptions = {}) {
    super(options);
    this.accessKey = options.accessKey ?? 'dt-access-key';
    this.secretAccessKey = options.secretAccessKey ?? 'dt-secret-access-key';
    this.timeZone = options.timeZone ?? 'America/Chicago';
    this.declaredLists = options.lists ?? [];
  }

  /** Every (type, id) list that is declared or holds a recording, for the account config. */
  lists(): DialogtechList[] {
    const keys = new Set(this.declaredLists.map(listKey));
    for (const recording of this.recordings.values()) {
      for (const key of membership(recording)) keys.add(key);
    }
    if (keys.size === 0) keys.add(listKey(DEFAULT_LIST));
    return [...keys].map((key) => {
      const [type = '', id = ''] = key.split(':');
      return { type, id };
    });
  }

  /** The bytes served for `format=mp3`, for tests to compare hashes with. */
  mp3(id: string): SyntheticMp3 {
    return this.synthesized(this.mp3Cache, id, SyntheticMp3);
  }

  /** `sendAudio()` serves `audio(key)`; a key ending in `#mp3` selects the mp3 bytes. */
  override audio(key: string): SyntheticWav {
    return key.endsWith(MP3_KEY) ? this.mp3(key.slice(0, -MP3_KEY.length)) : super.audio(key);
  }

  protected override classify(_method: string, url: URL): Endpoint {
    switch (url.searchParams.get('action')) {
      case 'recording.list':
        return 'list';
      case 'recording.download':
        return 'audio';
      case 'recording.remove':
        return 'delete';
      default:
        return 'any';
    }
  }

  /** Broken XML: an envelope cut off in the middle of a recording. */
  protected override garbageBody(): { contentType: string; body: string } {
    return {
      contentType: 'text/xml; charset=UTF-8',
      body: '<response><result>success</result><data><recording><sid>09326545',
    };
  }

  protected override async handle(
    _request: IncomingMessage,
    response: ServerResponse,
    url: URL,
  ): Promise<void> {
    if (url.pathname !== DIALOGTECH_API_PATH) {
      this.text(response, 404, '<html><body><h1>404 Not Found</h1></body></html>', 'text/html');
      return;
    }
    const answer = await this.answer(response, url.searchParams);
    if (answer) this.xml(response, answer);
  }

  /** The XML answer to a request, or undefined when audio was sent instead. */
  private async answer(response: ServerResponse, params: URLSearchParams): Promise<XmlAnswer | undefined> {
    if (
      params.get('access_key') !== this.accessKey ||
      params.get('secret_access_key') !== this.secretAccessKey
    ) {
      return failed(401, 'Invalid api_key');
    }
    const action = params.get('action');
    switch (action) {
      case null:
      case '':
        return failed(400, 'Parameter action is required');
      case 'recording.list':
        return this.list(params);
      case 'recording.download':
        return this.download(response, params);
      case 'recording.remove':
        return this.remove(params);
      default:
        return failed(400, `Action ${action} is not supported`);
    }
  }

  private list(params: URLSearchParams): XmlAnswer {
    const type = params.get('type');
    const id = params.get('id');
    if (!type) return failed(400, 'Parameter type is required');
    if (!id) return failed(400, 'Parameter id is required');
    if (!LIST_TYPES.has(type)) return failed(400, `Invalid type ${type}`);
    const key = listKey({ type, id });
    const members = this.live()
      .filter((recording) => membership(recording).includes(key))
      .reverse();
    if (members.length === 0) return failed(404, 'No results returned');
    const items = members.map((recording) => this.renderRecording(recording)).join('');
    return { status: 200, result: 'success', description: '', data: `<data>${items}</data>` };
  }

  private async download(response: ServerResponse, params: URLSearchParams): Promise<XmlAnswer | undefined> {
    const sid = params.get('sid');
    if (!sid) return failed(400, 'Parameter sid is required');
    const format = (params.get('format') ?? 'wav').replace(/^\./, '').toLowerCase();
    if (format !== 'wav' && format !== 'mp3') return failed(400, 'Allowed formats are .mp3 or .wav');
    const recording = this.recordings.get(sid);
    if (!recording || recording.deleted) return failed(404, 'File not found');
    if (this.failingFiles.has(sid)) return failed(404, 'Error in retrieving recording');
    if (!this.isReady(recording)) return failed(202, PROCESSING);
    if (format === 'mp3') await this.sendAudio(response, `${sid}${MP3_KEY}`, 'audio/mpeg');
    else await this.sendAudio(response, sid, 'audio/wav');
    return undefined;
  }

  private remove(params: URLSearchParams): XmlAnswer {
    const sid = params.get('sid');
    if (!sid) return failed(400, 'Parameter sid is required');
    const recording = this.recordings.get(sid);
    if (!recording || recording.deleted) return failed(404, 'File not found');
    if (this.failingFiles.has(sid)) return failed(404, 'Error in removing recording');
    if (!this.isReady(recording)) return failed(202, PROCESSING);
    // delete_now=0 schedules a removal for later, which the simulator never carries out.
    if (params.get('delete_now') === '1') recording.deleted = true;
    return { status: 200, result: 'success', description: 'Recording successfully removed' };
  }

  private renderRecording(recording: SimRecording): string {
    const date = DateTime.fromJSDate(recording.startedAt, { zone: this.timeZone }).toFormat(
      'yyyy-MM-dd HH:mm:ss',
    );
    return [
      '<recording>',
      this.idlessInListing.has(recording.id) ? '' : `<sid>${escapeXml(recording.id)}</sid>`,
      `<dnis>${escapeXml(digits(recording.to))}</dnis>`,
      `<number_connected>${escapeXml(digits(recording.extra?.numberConnected ?? recording.from))}</number_connected>`,
      `<minutes>${(recording.durationSec / 60).toFixed(1)}</minutes>`,
      `<date>${date}</date>`,
      '</recording>',
    ].join('');
  }

  private xml(response: ServerResponse, answer: XmlAnswer): void {
    const body = `<response><result>${answer.result}</result><result_description>${escapeXml(answer.description)}</result_description>${answer.data ?? ''}</response>`;
    this.text(response, answer.status, body, 'text/xml; charset=UTF-8');
  }
}

function listKey(list: { type: string; id: string | number }): string {
  return `${list.type}:${list.id}`;
}

function membership(recording: SimRecording): string[] {
  const lists = recording.extra?.lists?.trim();
  return lists ? lists.split(/\s+/) : [listKey(DEFAULT_LIST)];
}

/** DialogTech writes phone numbers as bare 10-digit NANP numbers. */
function digits(phone: string): string {
  return phone.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Sample recordings with DialogTech-shaped sids (16 digits, leading zero) spread round-robin over
 * `lists` (default: the default list).
 */
export function dialogtechRecordings(
  count: number,
  options: Parameters<typeof sampleRecordings>[1] & { lists?: DialogtechList[] } = {},
): SimRecording[] {
  const lists = options.lists ?? [DEFAULT_LIST];
  return sampleRecordings(count, {
    makeId: (index) => `09${String(3_000_000_000_000 + index * 7919).padStart(14, '0')}`,
    ...options,
  }).map((recording, index) => ({
    ...recording,
    direction: 'inbound',
    extra: { lists: listKey(lists[index % lists.length] ?? DEFAULT_LIST) },
  }));
}

/** A config account pointing at the simulator, with the config schema's defaults filled in. */
export function dialogtechSimulatorAccount(
  sim: DialogtechSimulator,
  id = 'dialogtech-sim',
): AccountOf<'dialogtech'> {
  return dialogtechAccount.parse({
    id,
    provider: 'dialogtech',
    baseUrl: sim.baseUrl,
    timeZone: sim.timeZone,
    auth: { accessKey: sim.accessKey, secretAccessKey: sim.secretAccessKey },
    lists: sim.lists(),
    format: 'wav',
  });
}
