/**
 * The transport every adapter shares: timeouts, retries with exponential backoff and jitter for
 * 429/5xx/network errors (honouring Retry-After), 401/403 as a non-retryable auth error naming
 * the account, redirects, and streamed downloads that count and hash bytes on the way.
 * Credentials never leave this file in a message: every URL and error text is redacted first.
 * Every connection goes through the account's DestinationPolicy (destinations.ts), and a body
 * from any host but the configured one is never quoted in a message.
 */
import pRetry from 'p-retry';
import { Agent, type Dispatcher } from 'undici';
import type { AccountConfig } from '../core/config.ts';
import {
  DownloadTooLargeError,
  ForbiddenAddressError,
  IncompleteDownloadError,
  ProviderAuthError,
  ProviderBusyError,
  ProviderResponseError,
  ProviderUnavailableError,
} from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/log.ts';
import type { AudioDownload } from '../core/ports.ts';
import type { ProviderName } from '../core/recording.ts';
import { DestinationPolicy, guardedConnector, type Resolver } from './destinations.ts';
import { DEFAULT_MAX_DOWNLOAD_BYTES, MeteredStream } from './metered-stream.ts';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails as unavailable. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 4,
  minDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
};

export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The longest one request can take with its retries: every attempt waiting out the headers and
 * then a silent body, every pause p-retry's largest (randomized ×2, capped) plus a Retry-After
 * at the limit. Workflow task timeouts are sized above it.
 */
export function worstCaseRequestMs(
  policy: RetryPolicy = DEFAULT_RETRY,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): number {
  let pauses = 0;
  for (let retry = 0; retry < policy.retries; retry += 1)
    pauses += Math.min(policy.maxDelayMs, 2 * policy.minDelayMs * 2 ** retry) + policy.maxRetryAfterMs;
  return (policy.retries + 1) * 2 * timeoutMs + pauses;
}

export interface ProviderHttpOptions {
  accountId: string;
  provider: ProviderName;
  /** Scheme, host, port and (Restcomm) context path; relative paths resolve under it. */
  baseUrl: string;
  /** Values that must never appear in a message: passwords, tokens, query-string keys. */
  secrets: readonly string[];
  /** Sent with every request to the provider's own host (auth, Accept). */
  headers?: Record<string, string>;
  retry?: Partial<RetryPolicy>;
  /** Time allowed for response headers, and for any silence inside a body. */
  timeoutMs?: number;
  logger?: Logger;
  dispatcher?: Dispatcher;
  /** `accounts[].allowedDownloadHosts`: hosts downloads may reach at non-public addresses. */
  allowedDownloadHosts?: readonly string[];
  /** `accounts[].maxDownloadBytes`; default DEFAULT_MAX_DOWNLOAD_BYTES. */
  maxDownloadBytes?: number;
  /** Name resolution for the destination check; tests point names at chosen addresses. */
  resolve?: Resolver;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

/**
 * The largest API answer read (listings, metadata, a DELETE's reply). A page of a listing is
 * kilobytes to a few megabytes; anything past 16 MiB is not an answer to parse but a body that
 * would exhaust a Lambda's memory, so the call fails instead of buffering it.
 */
export const MAX_API_BODY_BYTES = 16 * 1024 * 1024;

/**
 * The most of an error body read: a 5xx's, or a document where audio was expected. Such a body
 * is only measured, quoted in 200 characters or parsed for a provider's error envelope, which
 * are all small; the rest is left unread and the connection closed.
 */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface TextResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  contentType: string;
  /** Answered by a host other than the configured one (a redirect to storage): not the provider's word. */
  foreign?: boolean;
}

export interface RequestOptions {
  method?: 'GET' | 'DELETE' | 'POST';
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Keep-alive agents, one per destination policy (configured endpoint and allowed hosts), so an
 * adapter rebuilt for rotated credentials keeps its connections.
 */
const agents = new Map<string, Dispatcher>();
function agentFor(baseUrl: URL, allowedHosts: readonly string[] = []): Dispatcher {
  const key = JSON.stringify([baseUrl.origin, allowedHosts]);
  let agent = agents.get(key);
  if (!agent) {
    const policy = new DestinationPolicy({ baseUrl, allowedHosts });
    agent = new Agent({ connections: 64, connect: guardedConnector(policy) });
    agents.set(key, agent);
  }
  return agent;
}

/** A response and the URL that answered it, after any redirects. */
interface Answer {
  response: Dispatcher.ResponseData;
  url: URL;
}

/** Thrown inside an attempt to ask for a retry, possibly after the server's Retry-After. */
class RetryableAttemptError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

export class ProviderHttp {
  readonly accountId: string;
  readonly provider: ProviderName;
  readonly baseUrl: URL;
  private readonly options: ProviderHttpOptions;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private readonly dispatcher: Dispatcher;
  private readonly secretForms: readonly string[];
  private readonly maxDownloadBytes: number;

  constructor(options: ProviderHttpOptions) {
    this.options = options;
    this.accountId = options.accountId;
    this.provider = options.provider;
    this.baseUrl = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.logger = options.logger ?? silentLogger;
    this.dispatcher =
      options.dispatcher ??
      (options.resolve
        ? new Agent({
            connect: guardedConnector(
              new DestinationPolicy({
                baseUrl: this.baseUrl,
                allowedHosts: options.allowedDownloadHosts,
                resolve: options.resolve,
              }),
            ),
          })
        : agentFor(this.baseUrl, options.allowedDownloadHosts));
    this.secretForms = redactionForms(options.secrets);
    this.maxDownloadBytes = options.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  }

  /** Who is talking, for messages: `voipbin account "vb-main"`. */
  get who(): string {
    return `${this.provider} account "${this.accountId}"`;
  }

  /**
   * Resolves a path against the base URL, keeping the base's own path (Restcomm's `/restcomm`):
   * `2012-04-24/Accounts` and `/2012-04-24/Accounts` both land under it, unless an absolute path
   * already starts with the base path (a `next_page_uri` like `/restcomm/2012-04-24/…`).
   */
  url(pathOrUrl: string, query?: RequestOptions['query']): URL {
    let url: URL;
    if (/^https?:\/\//i.test(pathOrUrl)) {
      url = new URL(pathOrUrl);
    } else {
      const basePath = this.baseUrl.pathname.replace(/\/$/, '');
      const path = pathOrUrl.startsWith('/') ? pathOrUrl : `/${pathOrUrl}`;
      const full =
        basePath && (path === basePath || path.startsWith(`${basePath}/`)) ? path : basePath + path;
      url = new URL(full, this.baseUrl.origin);
    }
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** Whether a URL points at the account's configured host (scheme, host and port). */
  isOwnHost(url: URL): boolean {
    return url.origin === this.baseUrl.origin;
  }

  /** Text with every secret replaced by `***`. */
  redact(text: string): string {
    let out = text;
    for (const form of this.secretForms) out = out.split(form).join('***');
    return out;
  }

  describe(url: URL): string {
    return this.redact(`${url.origin}${url.pathname}${url.search}`);
  }

  /**
   * A request whose body is read as text. Auth failures throw ProviderAuthError; 429/5xx and
   * network failures are retried and finally throw ProviderUnavailableError. Any other status is
   * returned for the adapter to interpret (DialogTech's 202, a 404 that means "gone").
   */
  async requestText(pathOrUrl: string, options: RequestOptions = {}): Promise<TextResponse> {
    const url = this.url(pathOrUrl, options.query);
    return this.withRetries(url, options.method ?? 'GET', async () => {
      // API answers are parsed and quoted in messages: only the configured host may give them.
      const { response } = await this.send(url, options, { foreignRedirects: false });
      const tooLarge = () =>
        new ProviderResponseError(
          `${this.who} answered ${this.describe(url)} with a body of more than ${MAX_API_BODY_BYTES} bytes, the most an API answer is read to; it was not read further`,
        );
      if (Number(headerValue(response.headers['content-length'])) > MAX_API_BODY_BYTES) {
        response.body.destroy();
        throw tooLarge();
      }
      let body: CappedBody;
      try {
        body = await readCapped(response.body, MAX_API_BODY_BYTES);
      } catch (error) {
        // A body cut mid-response (SocketError, a reset) is a network failure like any other.
        throw new RetryableAttemptError(`network error while reading the body: ${(error as Error).message}`);
      }
      if (body.truncated) throw tooLarge();
      return {
        status: response.statusCode,
        headers: response.headers,
        text: body.text,
        contentType: headerValue(response.headers['content-type']),
      };
    });
  }

  /** GET a JSON document; a body that is not JSON is a ProviderResponseError naming the account. */
  async getJson(pathOrUrl: string, options: RequestOptions = {}): Promise<{ status: number; json: unknown }> {
    const response = await this.requestText(pathOrUrl, {
      ...options,
      headers: { accept: 'application/json', ...options.headers },
    });
    if (response.status === 404) return { status: 404, json: undefined };
    this.expectOk(response, pathOrUrl, options.query);
    return {
      status: response.status,
      json: this.parseJson(response.text, this.url(pathOrUrl, options.query)),
    };
  }

  parseJson(text: string, url: URL): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new ProviderResponseError(
        `${this.who} answered ${this.describe(url)} with a body that is not JSON: ${this.snippet(text)}`,
      );
    }
  }

  /** Throws ProviderResponseError for any non-2xx status left after the transport's handling. */
  expectOk(response: TextResponse, pathOrUrl: string, query?: RequestOptions['query']): void {
    if (response.status >= 200 && response.status < 300) return;
    throw new ProviderResponseError(
      `${this.who} answered ${this.describe(this.url(pathOrUrl, query))} with HTTP ${response.status}: ${this.snippet(response.text)}`,
    );
  }

  /**
   * The first 200 characters of a body, redacted, for error messages. Only for bodies from the
   * configured host: see `bodyFrom`.
   */
  snippet(text: string): string {
    const flat = text.replace(/\s+/g, ' ').trim();
    return this.redact(flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || '(empty body)');
  }

  /**
   * Opens an audio download. Establishing the response is retried like any request; the body is
   * then a MeteredStream that counts and hashes bytes and fails with IncompleteDownloadError when
   * it ends short of Content-Length or the connection breaks. A 2xx answer whose content type is
   * JSON, XML, HTML or text is an error document, not audio. `onStatus` lets an adapter turn a
   * provider-specific status (DialogTech's 202, a 404) into its own error before that check.
   */
  async openAudio(
    pathOrUrl: string,
    options: RequestOptions & { onStatus?: (response: TextResponse) => void } = {},
  ): Promise<AudioDownload> {
    const url = this.url(pathOrUrl, options.query);
    const { response, url: answeredBy } = await this.withRetries(url, 'GET', () =>
      this.send(url, options, { foreignRedirects: true }),
    );
    const foreign = !this.isOwnHost(answeredBy);
    const contentType = headerValue(response.headers['content-type']);
    if (response.statusCode !== 200 || /json|xml|html|text\//i.test(contentType)) {
      const body = await readCapped(response.body, MAX_ERROR_BODY_BYTES).catch(() => NO_BODY);
      // A foreign host's words stay out of adapters' messages too.
      const text = foreign ? '' : body.text;
      const answer = { status: response.statusCode, headers: response.headers, text, contentType, foreign };
      options.onStatus?.(answer);
      if (response.statusCode === 200) {
        throw new IncompleteDownloadError(
          `${this.who} answered the audio request ${this.describe(url)} with a ${contentType} document instead of audio: ${this.bodyFrom(answeredBy, body)}`,
        );
      }
      if (foreign) {
        throw new ProviderResponseError(
          `${this.who}: the audio request ${this.describe(url)} ended at ${answeredBy.host} with HTTP ${response.statusCode}: ${this.bodyFrom(answeredBy, body)}`,
        );
      }
      this.expectOk(answer, pathOrUrl, options.query);
    }
    const lengthHeader = headerValue(response.headers['content-length']);
    const contentLength = lengthHeader ? Number(lengthHeader) : undefined;
    if (contentLength !== undefined && contentLength > this.maxDownloadBytes) {
      response.body.destroy();
      throw new DownloadTooLargeError(
        `${this.who}: the audio download ${this.describe(url)} announces ${contentLength} bytes, more than the account's maxDownloadBytes (${this.maxDownloadBytes})`,
      );
    }
    const body = new MeteredStream(contentLength, () => this.describe(url), this.who, this.maxDownloadBytes);
    response.body.on('error', (error) => {
      // The stream's own refusal (too large) stays what it is.
      if (body.destroyed) return;
      body.destroy(
        new IncompleteDownloadError(
          `${this.who}: the audio download ${this.describe(url)} broke after ${body.bytes} bytes: ${this.redact(error.message)}`,
        ),
      );
    });
    response.body.pipe(body);
    // A consumer that stops early (a readiness probe, a failed upload) frees the connection.
    body.once('close', () => response.body.destroy());
    return { body, contentType: contentType || 'application/octet-stream', contentLength, foreign };
  }

  /**
   * One attempt: the request and its redirects, each hop its own connection check (the agent's
   * DestinationPolicy). The account's headers go to the configured host only. API requests
   * follow redirects on the configured host only; downloads may leave it (signed storage URLs).
   */
  private async send(
    url: URL,
    options: RequestOptions,
    { foreignRedirects }: { foreignRedirects: boolean },
  ): Promise<Answer> {
    let current = url;
    let method = options.method ?? 'GET';
    for (let hop = 0; ; hop += 1) {
      const response = await this.sendOnce(current, method, options.headers);
      const location = headerValue(response.headers.location);
      if (!REDIRECT_STATUS.has(response.statusCode) || !location) return { response, url: current };
      await response.body.dump().catch(() => undefined);
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new ProviderResponseError(
          `${this.who} answered ${this.hop(current)} with a redirect to an unusable location`,
        );
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new ForbiddenAddressError(
          `${this.who}: ${this.hop(current)} redirected to a ${next.protocol} URL; only http and https are followed`,
        );
      }
      if (!foreignRedirects && !this.isOwnHost(next)) {
        throw new ProviderResponseError(
          `${this.who}: the API request ${this.describe(url)} was redirected to ${next.host}; API requests are followed on the configured host (${this.baseUrl.host}) only: check the account's baseUrl`,
        );
      }
      if (hop >= MAX_REDIRECTS) {
        throw new ProviderResponseError(
          `${this.who}: ${this.describe(url)} redirected more than ${MAX_REDIRECTS} times`,
        );
      }
      if (response.statusCode === 303) method = 'GET';
      current = next;
    }
  }

  private async sendOnce(
    url: URL,
    method: NonNullable<RequestOptions['method']>,
    extraHeaders: Record<string, string> | undefined,
  ): Promise<Dispatcher.ResponseData> {
    const own = this.isOwnHost(url);
    const headers = { ...(own ? this.options.headers : {}), ...extraHeaders };
    let response: Dispatcher.ResponseData;
    try {
      response = await this.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (error) {
      if (error instanceof ForbiddenAddressError) {
        throw new ForbiddenAddressError(`${this.who}: ${this.redact(error.message)}`);
      }
      throw new RetryableAttemptError(`network error: ${(error as Error).message}`);
    }
    const status = response.statusCode;
    if ((status === 401 || status === 403) && own) {
      await response.body.dump();
      throw new ProviderAuthError(
        `${this.who} was refused by the provider (HTTP ${status}) for ${this.describe(url)}: check the account's credentials`,
      );
    }
    if (status === 401 || status === 403) {
      // Storage refusing a signed URL (expired, say): the next attempt gets a fresh one.
      await response.body.dump().catch(() => undefined);
      throw new RetryableAttemptError(`HTTP ${status} from ${url.host}`);
    }
    if (RETRYABLE_STATUS.has(status) || status >= 500) {
      const body = await readCapped(response.body, MAX_ERROR_BODY_BYTES).catch(() => NO_BODY);
      throw new RetryableAttemptError(
        `HTTP ${status}${own ? '' : ` from ${url.host}`}: ${this.bodyFrom(url, body)}`,
        retryAfterMs(headerValue(response.headers['retry-after'])),
        status,
      );
    }
    return response;
  }

  /** A body for a message: quoted (redacted) from the configured host, only measured from others. */
  private bodyFrom(url: URL, body: CappedBody): string {
    const size = body.truncated ? `more than ${body.bytes}` : String(body.bytes);
    if (this.isOwnHost(url))
      return body.truncated ? `${this.snippet(body.text)} (${size} bytes)` : this.snippet(body.text);
    return `(${size} bytes from ${url.host}, not shown)`;
  }

  /**
   * A hop of a redirect chain, for messages. Past the configured host it is a URL the provider
   * handed out (a signed storage URL whose query is a credential): its scheme and host only.
   */
  private hop(url: URL): string {
    return this.isOwnHost(url) ? this.describe(url) : this.redact(url.origin);
  }

  private async withRetries<T>(url: URL, method: string, attempt: () => Promise<T>): Promise<T> {
    const policy = this.retry;
    try {
      return await pRetry(attempt, {
        retries: policy.retries,
        minTimeout: policy.minDelayMs,
        maxTimeout: policy.maxDelayMs,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) =>
          error instanceof RetryableAttemptError &&
          (error.retryAfterMs === undefined || error.retryAfterMs <= policy.maxRetryAfterMs),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!(error instanceof RetryableAttemptError)) return;
          this.logger.warn('provider request failed', {
            account: this.accountId,
            provider: this.provider,
            request: `${method} ${this.describe(url)}`,
            reason: this.redact(error.message),
            attempt: attemptNumber,
            retriesLeft,
          });
          // p-retry adds its own jittered backoff on top; Retry-After is the floor. A Retry-After
          // beyond the limit is not waited for: shouldRetry (asked after this) gives up at once.
          const wait = error.retryAfterMs;
          if (retriesLeft > 0 && wait && wait <= policy.maxRetryAfterMs) await sleep(wait);
        },
      });
    } catch (error) {
      if (error instanceof RetryableAttemptError && error.status === 429) {
        // The provider asks callvault to slow down: not a failure of this recording.
        throw new ProviderBusyError(
          `${this.who} is rate-limited by the provider (HTTP 429) for ${method} ${this.describe(url)}`,
          { throttled: true, retryAfterMs: error.retryAfterMs },
        );
      }
      if (error instanceof RetryableAttemptError) {
        throw new ProviderUnavailableError(
          `${this.who} did not answer ${method} ${this.describe(url)} successfully: ${this.redact(error.message)}`,
        );
      }
      throw error;
    }
  }
}

/** A body read up to a cap, in its raw byte count. */
interface CappedBody {
  text: string;
  bytes: number;
  /** More followed than the cap: `bytes` were kept and the rest was never read. */
  truncated: boolean;
}

/** What an error body that broke while being read counts as: nothing to show. */
const NO_BODY: CappedBody = { text: '', bytes: 0, truncated: false };

/**
 * Reads a body as UTF-8 text (a BOM dropped, as undici's text() does), keeping at most `limit`
 * bytes. Past the limit the body is destroyed, which closes the connection, so a body that never
 * ends costs `limit` bytes of memory rather than all of it.
 */
async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<CappedBody> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (bytes + chunk.length > limit) {
      chunks.push(chunk.subarray(0, limit - bytes));
      body.destroy();
      return { text: new TextDecoder().decode(Buffer.concat(chunks)), bytes: limit, truncated: true };
    }
    chunks.push(chunk);
    bytes += chunk.length;
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), bytes, truncated: false };
}

export function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
export function retryAfterMs(value: string): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Every credential of an account, for redaction: its whole `auth` block (account ids included:
 * they appear in URLs) and its webhook secrets.
 */
export function accountSecrets(account: AccountConfig): string[] {
  return [...Object.values(account.auth), account.webhook?.secret, account.webhook?.previousSecret].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length > 0,
  );
}

/** `Basic …` for a user and password; its encoded credentials are a secret of their own. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * Every form a secret can take in a message: as written, as a path segment, and as
 * URLSearchParams writes a query value (`+`, `%7E`). Longest first, so a secret that contains
 * another is masked whole rather than around the shorter one's `***`.
 */
function redactionForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
