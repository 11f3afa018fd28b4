/**
 * Restcomm recordings as the reference (and Restcomm-Connect's RecordingsEndpoint) shows them,
 * under the `/restcomm` context path:
 * - `GET 2012-04-24/Accounts/{AccountSid}/Recordings[.json]` with Basic auth AccountSid:AuthToken:
 *   JSON with the `.json` suffix, XML (`<RestcommResponse><Recordings …>`) without it. StartTime /
 *   EndTime (UTC, inclusive), CallSid and SortBy filter; Page/PageSize page by offset into the list
 *   as it is now, the only paging the reference documents (the AfterSid that `next_page_uri`
 *   carries, as Restcomm-Connect writes it, is not read). `num_pages` is `total / page_size`
 *   rounded down (0 for a short list), `next_page_uri` is the string "null" on the last page and
 *   otherwise drops every filter; a Page past `total / size` is a 400, so a total that is an exact
 *   multiple of the page size ends with an empty page.
 * - `GET|DELETE …/Recordings/{sid}[.json]`: one recording; unknown or deleted → 404, empty body.
 * - `GET …/Recordings/{sid}.wav`: public (no auth), a 307 to `/restcomm/recordings/{sid}.wav`,
 *   which serves the file, or 404 while the media server has not written it yet (`readyAt`).
 * Dates are RFC 2822 in the server's own offset; `duration` is a string of seconds; `file_uri`
 * names hosts the client must not use.
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

const CONTEXT_PATH = '/restcomm';
const API_VERSION = '2012-04-24';
const DEFAULT_PAGE_SIZE = 50;

/**
 * How `next_page_uri` is written. Restcomm-Connect echoes the request path (`as-requested`); the
 * reference also shows it without `.json` (so the next page answers XML), with an `/api/` prefix,
 * and `file_uri`s on internal hosts such as instance1.restcomm.com.
 */
export type NextPageUriStyle = 'as-requested' | 'without-suffix' | 'api-prefix' | 'other-host';

export interface RestcommSimulatorOptions extends SimulatorOptions {
  accountSid?: string;
  authToken?: string;
  /** The server's offset from UTC in minutes, used in every date it renders (+0900 in the docs). */
  utcOffsetMinutes?: number;
  nextPageUri?: NextPageUriStyle;
  /** How many of the matching recordings a listing holds at most without `Limit`: 10,000 as Restcomm. */
  listLimit?: number;
}

type Route =
  | { kind: 'list'; accountSid: string; xml: boolean }
  | { kind: 'recording'; accountSid: string; sid: string; xml: boolean }
  | { kind: 'wav'; sid: string }
  | { kind: 'file'; sid: string }
  | { kind: 'unknown' };

export class RestcommSimulator extends ProviderSimulator {
  readonly accountSid: string;
  readonly authToken: string;
  utcOffsetMinutes: number;
  nextPageUriStyle: NextPageUriStyle;
  listLimit: number;
  /** The query of every listing request, for tests that check which filters were sent. */
  readonly listQueries: URLSearchParams[] = [];
  /** Audio requests that carried credentials; the audio is public, so a careful client sends none. */
  audioRequestsWithCredentials = 0;

  constructor(options: RestcommSimulatorOptions = {}) {
    super(options);
    this.accountSid = options.accountSid ?? 'ACae6e420f425248d6a26948c17a9e2acf';
    this.authToken = options.authToken ?? 'sim-auth-token-5e1d9c';
    this.utcOffsetMinutes = options.utcOffsetMinutes ?? 9 * 60;
    this.nextPageUriStyle = options.nextPageUri ?? 'as-requested';
    this.listLimit = options.listLimit ?? 10_000;
  }

  protected override basePath(): string {
    return CONTEXT_PATH;
  }

  /** Recordings that exist (not deleted), oldest first: what an unfiltered listing returns. */
  liveRecordings(): SimRecording[] {
    return this.live();
  }

  /** A recording in Restcomm's JSON field names. */
  recordingJson(recording: SimRecording): Record<string, string> {
    const created = restcommDate(recording.startedAt, this.utcOffsetMinutes);
    return {
      sid: recording.id,
      date_created: created,
      date_updated: created,
      account_sid: this.accountSid,
      call_sid: recording.callId,
      duration: String(recording.durationSec),
      api_version: API_VERSION,
      uri: `/${API_VERSION}/Accounts/${this.accountSid}/Recordings/${recording.id}.json`,
      file_uri: this.fileUri(recording.id),
    };
  }

  /** The three forms the reference shows, none of which points at this server's own address. */
  private fileUri(sid: string): string {
    const variant = createHash('sha256').update(sid).digest()[0] ?? 0;
    switch (variant % 3) {
      case 0:
        return `http://instance1.restcomm.com/restcomm/recordings/${sid}.wav`;
      case 1:
        return `\\https://$DOMAIN/restcomm/recordings/${sid}.wav`;
      default:
        return `/restcomm/${API_VERSION}/Accounts/${this.accountSid}/Recordings/${sid}.wav`;
    }
  }

  protected classify(method: string, url: URL): Endpoint {
    const route = this.route(url.pathname);
    if (method === 'DELETE') return route.kind === 'recording' ? 'delete' : 'any';
    if (route.kind === 'list') return 'list';
    if (route.kind === 'recording') return 'status';
    if (route.kind === 'wav' || route.kind === 'file') return 'audio';
    return 'any';
  }

  protected async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const route = this.route(url.pathname);
    const method = request.method ?? 'GET';
    // The audio is public by design: no credentials are asked for it.
    if ((route.kind === 'wav' || route.kind === 'file') && request.headers.authorization) {
      this.audioRequestsWithCredentials += 1;
    }
    if (route.kind === 'wav' && method === 'GET') return this.redirectToFile(request, response, route.sid);
    if (route.kind === 'file' && method === 'GET') return this.serveFile(response, route.sid);
    if (route.kind === 'list' || route.kind === 'recording') {
      if (!this.authorized(request.headers.authorization)) {
        response.writeHead(401, {
          'www-authenticate': 'Basic realm="Restcomm"',
          'content-type': 'text/plain',
        });
        response.end('Unauthorized');
        return;
      }
      if (route.accountSid !== this.accountSid) return this.text(response, 403, 'Forbidden');
      if (route.kind === 'list' && method === 'GET') return this.list(response, url, route.xml);
      if (route.kind === 'recording' && method === 'GET') return this.one(response, route.sid, route.xml);
      if (route.kind === 'recording' && method === 'DELETE') return this.remove(response, route.sid);
      return this.empty(response, 405);
    }
    this.empty(response, 404);
  }

  private route(pathname: string): Route {
    if (!pathname.startsWith(`${CONTEXT_PATH}/`)) return { kind: 'unknown' };
    const path = pathname.slice(CONTEXT_PATH.length);
    const file = /^\/recordings\/([^/]+)\.wav$/.exec(path);
    if (file?.[1]) return { kind: 'file', sid: decodeURIComponent(file[1]) };
    const match = new RegExp(
      `^/${API_VERSION}/Accounts/([^/]+)/Recordings(?:/([^/]+?))?(\\.json|\\.wav)?$`,
    ).exec(path);
    if (!match?.[1]) return { kind: 'unknown' };
    const accountSid = decodeURIComponent(match[1]);
    const suffix = match[3];
    if (!match[2])
      return suffix === '.wav' ? { kind: 'unknown' } : { kind: 'list', accountSid, xml: !suffix };
    const sid = decodeURIComponent(match[2]);
    if (suffix === '.wav') return { kind: 'wav', sid };
    return { kind: 'recording', accountSid, sid, xml: !suffix };
  }

  private authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded === `${this.accountSid}:${this.authToken}`;
  }

  private existing(sid: string): SimRecording | undefined {
    const recording = this.recordings.get(sid);
    return recording && !recording.deleted ? recording : undefined;
  }

  private list(response: ServerResponse, url: URL, xml: boolean): void {
    const query = url.searchParams;
    this.listQueries.push(new URLSearchParams(query));
    const pageSize = Number(query.get('PageSize') ?? DEFAULT_PAGE_SIZE);
    const page = Number(query.get('Page') ?? 0);
    const limit = Number(query.get('Limit') ?? this.listLimit);
    const startTime = restcommFilterTime(query.get('StartTime'));
    const endTime = restcommFilterTime(query.get('EndTime'));
    const order = sortOrder(query.get('SortBy'));
    if (
      !Number.isInteger(pageSize) ||
      pageSize < 1 ||
      !Number.isInteger(page) ||
      page < 0 ||
      !Number.isInteger(limit) ||
      limit < 1 ||
      startTime === null ||
      endTime === null ||
      !order
    ) {
      this.empty(response, 400);
      return;
    }
    const callSid = query.get('CallSid');
    const matching = this.live()
      .filter(
        (recording) =>
          (startTime === undefined || recording.startedAt.getTime() >= startTime) &&
          (endTime === undefined || recording.startedAt.getTime() <= endTime) &&
          (!callSid || recording.callId === callSid),
      )
      .sort(order);
    // The listing holds the first `limit` of them, and ends there, however it is paged.
    const listing = matching.slice(0, limit);
    const lastPage = Math.floor(listing.length / pageSize);
    if (page > lastPage) {
      this.empty(response, 400);
      return;
    }
    const items = listing.slice(page * pageSize, (page + 1) * pageSize);

    const pathUri = this.pagePath(url.pathname);
    const lastSid = items.at(-1)?.id;
    const paging = {
      page,
      num_pages: lastPage,
      page_size: pageSize,
      total: matching.length,
      limit,
      start: String(page * pageSize),
      end: String(page === lastPage ? page * pageSize + items.length : page * pageSize + pageSize - 1),
      uri: pathUri,
      first_page_uri: `${pathUri}?Page=0&PageSize=${pageSize}`,
      previous_page_uri: page === 0 ? 'null' : `${pathUri}?Page=${page - 1}&PageSize=${pageSize}`,
      // The filters are not carried over: that is how Restcomm writes it.
      next_page_uri:
        page === lastPage || !lastSid
          ? 'null'
          : `${pathUri}?Page=${page + 1}&PageSize=${pageSize}&AfterSid=${lastSid}`,
      last_page_uri: `${pathUri}?Page=${lastPage}&PageSize=${pageSize}`,
    };
    const recordings = items.map((recording) =>
      this.asListed(recording, this.recordingJson(recording), 'sid'),
    );
    if (!xml) {
      this.json(response, 200, { ...paging, recordings });
      return;
    }
    const attributes = [
      ['page', paging.page],
      ['numpages', paging.num_pages],
      ['pagesize', paging.page_size],
      ['total', paging.total],
      ['limit', paging.limit],
      ['start', paging.start],
      ['end', paging.end],
      ['uri', paging.uri],
      ['firstpageuri', paging.first_page_uri],
      ['previouspageuri', paging.previous_page_uri],
      ['nextpageuri', paging.next_page_uri],
      ['lastpageuri', paging.last_page_uri],
    ]
      .map(([name, value]) => `${name}="${escapeXml(String(value))}"`)
      .join(' ');
    const body = recordings.map(recordingXml).join('');
    this.xml(response, `<Recordings ${attributes}>${body}</Recordings>`);
  }

  /** The path next_page_uri and friends are built on, in the configured style. */
  private pagePath(requestPath: string): string {
    switch (this.nextPageUriStyle) {
      case 'without-suffix':
        return requestPath.replace(/\.json$/, '');
      case 'api-prefix':
        return requestPath.replace(CONTEXT_PATH, '/api');
      case 'other-host':
        return `http://instance1.restcomm.com${requestPath}`;
      default:
        return requestPath;
    }
  }

  private one(response: ServerResponse, sid: string, xml: boolean): void {
    const recording = this.existing(this.metadataOf(sid));
    if (!recording) {
      this.empty(response, 404);
      return;
    }
    const body = this.recordingJson(recording);
    if (xml) {
      this.xml(response, recordingXml(body));
      return;
    }
    this.json(response, 200, body);
  }

  private remove(response: ServerResponse, sid: string): void {
    const recording = this.existing(sid);
    if (!recording) {
      this.empty(response, 404);
      return;
    }
    recording.deleted = true;
    this.empty(response, 200);
  }

  /** Restcomm answers the `.wav` resource with a temporary redirect to the file it serves. */
  private redirectToFile(request: IncomingMessage, response: ServerResponse, sid: string): void {
    if (!this.existing(sid)) {
      this.empty(response, 404);
      return;
    }
    const host = request.headers.host ?? '127.0.0.1';
    response.writeHead(307, {
      location: `http://${host}${CONTEXT_PATH}/recordings/${sid}.wav`,
      'content-length': 0,
    });
    response.end();
  }

  /** The file appears once the media server has written it (`readyAt`). */
  private async serveFile(response: ServerResponse, sid: string): Promise<void> {
    const recording = this.existing(sid);
    if (!recording || !this.isReady(recording)) return this.empty(response, 404);
    await this.sendAudio(response, sid, 'audio/x-wav');
  }

  private xml(response: ServerResponse, inner: string): void {
    this.text(
      response,
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<RestcommResponse>${inner}</RestcommResponse>`,
      'application/xml',
    );
  }

  /** Restcomm's 400/404 answers carry no body. */
  private empty(response: ServerResponse, status: number): void {
    response.writeHead(status, { 'content-length': 0 });
    response.end();
  }
}

/** Sample recordings with Restcomm-shaped sids (`RE` + 32 hex) and call sids (`CA…`). */
export function restcommRecordings(
  count: number,
  options: Omit<NonNullable<Parameters<typeof sampleRecordings>[1]>, 'makeId'> = {},
): SimRecording[] {
  const prefix = options.prefix ?? 'rec';
  return sampleRecordings(count, {
    ...options,
    makeId: (index) => restcommSid('RE', `${prefix}-${index}`),
  }).map((recording, index) => ({ ...recording, callId: restcommSid('CA', `${prefix}-call-${index}`) }));
}

/** A deterministic Restcomm sid: two letters and 32 hex digits. */
export function restcommSid(kind: 'RE' | 'CA', seed: string): string {
  return `${kind}${createHash('sha256').update(seed).digest('hex').slice(0, 32)}`;
}

export function restcommSimulatorAccount(sim: RestcommSimulator, id = 'restcomm-sim'): AccountOf<'restcomm'> {
  return {
    ...sim.accountBase(id),
    provider: 'restcomm',
    auth: { accountSid: sim.accountSid, authToken: sim.authToken },
  };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Mon, 6 Jan 2014 08:51:07 +0900`: RFC 2822, whole seconds, in the server's offset. */
export function restcommDate(date: Date, offsetMinutes: number): string {
  const local = new Date(Math.floor(date.getTime() / 1000) * 1000 + offsetMinutes * 60_000);
  const two = (value: number) => String(value).padStart(2, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const offset = Math.abs(offsetMinutes);
  return (
    `${DAYS[local.getUTCDay()]}, ${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()} ` +
    `${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())} ` +
    `${sign}${two(Math.floor(offset / 60))}${two(offset % 60)}`
  );
}

/**
 * StartTime/EndTime: `YYYY-MM-DDTHH:MM:SS` or `YYYY-MM-DD` (midnight), always UTC. Undefined when
 * absent, null when unparseable (a 400).
 */
function restcommFilterTime(value: string | null): number | undefined | null {
  if (value === null || value === '') return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2}))?$/.exec(value);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0));
  const ms = Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1, hour ?? 0, minute ?? 0, second ?? 0);
  return Number.isNaN(ms) ? null : ms;
}

type Order = (a: SimRecording, b: SimRecording) => number;

/** `SortBy=DateCreated|Duration|CallSid[:asc|:desc]`; ascending when no direction is given. */
/** The recordings up to and including the `limit`-th live one (deleted ones stay in between). */
function sortOrder(value: string | null): Order | undefined {
  const [attribute = 'DateCreated', direction = 'asc'] = (value ?? 'DateCreated:asc').split(':');
  const sign = direction === 'desc' ? -1 : direction === 'asc' ? 1 : 0;
  const compare: Record<string, Order> = {
    DateCreated: (a, b) => a.startedAt.getTime() - b.startedAt.getTime(),
    Duration: (a, b) => a.durationSec - b.durationSec,
    CallSid: (a, b) => a.callId.localeCompare(b.callId),
  };
  const byAttribute = compare[attribute];
  if (!byAttribute || sign === 0) return undefined;
  return (a, b) => sign * byAttribute(a, b) || a.id.localeCompare(b.id);
}

function recordingXml(fields: Record<string, string>): string {
  const element = (name: string, key: string) => `<${name}>${escapeXml(fields[key] ?? '')}</${name}>`;
  return (
    '<Recording>' +
    element('Sid', 'sid') +
    element('DateCreated', 'date_created') +
    element('DateUpdated', 'date_updated') +
    element('AccountSid', 'account_sid') +
    element('CallSid', 'call_sid') +
    element('Duration', 'duration') +
    element('ApiVersion', 'api_version') +
    element('Uri', 'uri') +
    element('FileUri', 'file_uri') +
    '</Recording>'
  );
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
