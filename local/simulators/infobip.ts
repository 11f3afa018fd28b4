/**
 * Infobip IVR recordings as the reference shows them: `GET /voice/ivr/1/files?page&pageSize` with
 * Basic or `App <apiKey>` auth, pages numbered from 1 that simply come back empty past the end, JSON
 * (`{"files":[…]}` or a bare array) or XML depending on Accept, `recordedAt` with a colon-less
 * offset, relative file URLs for the audio, and `requestError.serviceException` error bodies.
 * There is no processing state and no delete: a file is listed once stored, and expires later.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountOf } from '../../lambdas/core/config.ts';
import {
  type Endpoint,
  ProviderSimulator,
  type SimRecording,
  type SimulatorOptions,
  sampleRecordings,
} from './base.ts';

const FILES_PATH = '/voice/ivr/1/files';
/** Infobip does not document its default page size; this one is the simulator's. */
const DEFAULT_PAGE_SIZE = 50;

export interface InfobipSimulatorOptions extends SimulatorOptions {
  username?: string;
  password?: string;
  apiKey?: string;
  /** Answer XML even when JSON is asked for (an account whose server prefers XML). */
  preferXml?: boolean;
  /** Answer JSON listings as a bare array instead of `{"files":[…]}` (both are in the reference). */
  bareArray?: boolean;
  /**
   * The listing's order. The reference documents none; its example is newest first (the
   * default). `oldest-first` stands for an API that turns out to list otherwise.
   */
  order?: 'newest-first' | 'oldest-first';
}

export class InfobipSimulator extends ProviderSimulator {
  readonly username: string;
  readonly password: string;
  readonly apiKey: string;
  preferXml: boolean;
  bareArray: boolean;
  order: 'newest-first' | 'oldest-first';

  constructor(options: InfobipSimulatorOptions = {}) {
    super(options);
    this.username = options.username ?? 'callvault-sim';
    this.password = options.password ?? 'sim-password-4f9a';
    this.apiKey = options.apiKey ?? 'sim-api-key-7c2e0b';
    this.preferXml = options.preferXml ?? false;
    this.bareArray = options.bareArray ?? false;
    this.order = options.order ?? 'newest-first';
  }

  /** How the simulator renders a recording as a `files[]` entry. */
  fileEntry(recording: SimRecording): Record<string, string> {
    return {
      messageId: recording.callId,
      // Infobip writes numbers in international form without the `+`.
      from: recording.from.replace(/^\+/, ''),
      to: recording.to.replace(/^\+/, ''),
      scenarioId: recording.extra?.scenarioId ?? scenarioIdFor(recording.callId),
      groupId: recording.extra?.groupId ?? '#/script/1',
      url: `${FILES_PATH}/${recording.id}`,
      recordedAt: infobipTime(recording.startedAt),
    };
  }

  protected classify(method: string, url: URL): Endpoint {
    if (method === 'DELETE') return 'delete';
    if (url.pathname === FILES_PATH) {
      // A listing narrowed to one message is how a client looks one recording up.
      return url.searchParams.has('messageId') ? 'status' : 'list';
    }
    if (url.pathname.startsWith(`${FILES_PATH}/`)) return 'audio';
    return 'any';
  }

  protected override garbageBody(): { contentType: string; body: string } {
    return this.preferXml
      ? { contentType: 'application/xml', body: '<recordedAudioFilesResponse><files><file><url>/voice/' }
      : super.garbageBody();
  }

  protected async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (!this.authorized(request.headers.authorization)) {
      this.error(response, 401, 'UNAUTHORIZED', 'Invalid login details');
      return;
    }
    const method = request.method ?? 'GET';
    if (url.pathname === FILES_PATH && method === 'GET') {
      this.list(request, response, url);
      return;
    }
    if (url.pathname.startsWith(`${FILES_PATH}/`)) {
      if (method !== 'GET') {
        // There is no delete (or any other write) on recorded files.
        this.error(response, 405, 'METHOD_NOT_ALLOWED', `Request method '${method}' not supported`);
        return;
      }
      const id = decodeURIComponent(url.pathname.slice(FILES_PATH.length + 1));
      const recording = this.recordings.get(id);
      if (!recording || !this.isAvailable(recording)) {
        this.error(response, 404, 'NOT_FOUND', 'File not found');
        return;
      }
      await this.sendAudio(response, id, 'audio/wav');
      return;
    }
    this.error(response, 404, 'NOT_FOUND', 'Requested URL not found');
  }

  private list(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const page = positiveInt(url.searchParams.get('page'), 1);
    const pageSize = positiveInt(url.searchParams.get('pageSize'), DEFAULT_PAGE_SIZE);
    if (page === undefined || pageSize === undefined) {
      this.error(response, 400, 'BAD_REQUEST', 'page and pageSize must be positive integers');
      return;
    }
    const messageId = url.searchParams.get('messageId');
    const number = url.searchParams.get('number')?.replace(/^\+/, '');
    const live = this.order === 'newest-first' ? this.live().reverse() : this.live();
    const matching = live
      .filter((recording) => this.isAvailable(recording))
      .filter((recording) => !messageId || recording.callId === messageId)
      .filter((recording) => !number || recording.to.replace(/^\+/, '') === number);
    // No total and no "last page" flag: past the end a page is simply empty.
    const files = matching
      .slice((page - 1) * pageSize, page * pageSize)
      .map((recording) => this.asListed(recording, this.fileEntry(recording), 'url'));
    if (this.wantsXml(request.headers.accept)) {
      this.text(response, 200, filesXml(files), 'application/xml');
    } else {
      this.json(response, 200, this.bareArray ? files : { files });
    }
  }

  /** Files exist once the Record action has stored them (no processing state) and until they expire. */
  private isAvailable(recording: SimRecording): boolean {
    return !recording.deleted && this.isReady(recording);
  }

  private wantsXml(accept: string | undefined): boolean {
    if (this.preferXml) return true;
    const xml = accept?.search(/xml/i) ?? -1;
    const json = accept?.search(/json/i) ?? -1;
    return xml >= 0 && (json < 0 || xml < json);
  }

  private authorized(header: string | undefined): boolean {
    if (!header) return false;
    if (header === `App ${this.apiKey}`) return true;
    const basic = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    return header === basic;
  }

  private error(response: ServerResponse, status: number, messageId: string, text: string): void {
    this.json(response, status, { requestError: { serviceException: { messageId, text } } });
  }
}

/** A config account pointing at the simulator, with the credentials it accepts. */
export function infobipSimulatorAccount(
  sim: InfobipSimulator,
  id = 'infobip-sim',
  auth: 'basic' | 'apiKey' = 'basic',
): AccountOf<'infobip'> {
  const credentials =
    auth === 'apiKey' ? { apiKey: sim.apiKey } : { username: sim.username, password: sim.password };
  return { ...sim.accountBase(id), provider: 'infobip', auth: credentials };
}

/** Sample recordings shaped like Infobip's: 96-hex file ids and UUID message ids. */
export function infobipSampleRecordings(...args: Parameters<typeof sampleRecordings>): SimRecording[] {
  const [count, options = {}] = args;
  const prefix = options.prefix ?? 'ib';
  return sampleRecordings(count, {
    ...options,
    makeId: options.makeId ?? ((index) => infobipFileId(`${prefix}-${index}`)),
  }).map((recording, index) => ({ ...recording, callId: infobipMessageId(`${prefix}-${index}`) }));
}

/** A file id like the reference's: 96 upper-case hex digits. */
export function infobipFileId(seed: string): string {
  return createHash('sha384').update(`file:${seed}`).digest('hex').toUpperCase();
}

/** A message id like the reference's UUIDs. */
export function infobipMessageId(seed: string): string {
  const hex = createHash('sha256').update(`message:${seed}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function scenarioIdFor(messageId: string): string {
  return createHash('md5').update(`scenario:${messageId}`).digest('hex').toUpperCase();
}

/** `2018-04-30T07:25:32.920+0000`: ISO-8601 with a colon-less offset, always UTC here. */
function infobipTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

function positiveInt(value: string | null, fallback: number): number | undefined {
  if (value === null) return fallback;
  return /^[1-9]\d*$/.test(value) ? Number(value) : undefined;
}

function filesXml(files: Array<Record<string, string>>): string {
  const escapeXml = (text: string) =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const body = files
    .map((file) => {
      const fields = Object.entries(file)
        .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
        .join('');
      return `<file>${fields}</file>`;
    })
    .join('');
  return `<?xml version='1.0' encoding='UTF-8'?>\n<recordedAudioFilesResponse><files>${body}</files></recordedAudioFilesResponse>`;
}
