/**
 * Webhook intake: authenticate a provider's callback, turn it into recording references and
 * start one ingest execution per recording (the same deterministic name a sweep would use, so a
 * duplicate callback or an overlapping sweep starts nothing new). A 202 is only answered once the
 * executions exist, so an accepted callback is never lost.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AccountConfig } from './config.ts';
import { UnknownAccountError, WebhookParseError } from './errors.ts';
import { handOver } from './hand-over.ts';
import { recordingId } from './ids.ts';
import type {
  AccountDirectory,
  ProviderAdapter,
  RecordingIndex,
  WebhookRecording,
  WorkflowStarter,
} from './ports.ts';

/** Larger bodies are refused with 413: no provider's recording callback comes near it. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

export interface WebhookCall {
  accountId: string;
  /** The body as text, for parsing. */
  body: string;
  /** The body's bytes exactly as received, when they may differ from `body` in UTF-8 (signatures are over these). */
  bytes?: Buffer;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
}

export interface WebhookAnswer {
  statusCode: 202 | 400 | 401 | 404 | 413;
  body: {
    message: string;
    /** Executions started by this call. */
    started?: number;
    /** Recordings already archived, or whose execution already exists. */
    duplicates?: number;
    recordings?: string[];
  };
}

export interface IntakeDeps {
  accounts: AccountDirectory;
  adapterFor(accountId: string): Promise<ProviderAdapter>;
  index: RecordingIndex;
  starter: WorkflowStarter;
}

/**
 * One answer for every authentication failure, whether the account is unknown, takes no webhooks
 * or the credentials are wrong: account ids cannot be enumerated.
 */
const unauthenticated = (): WebhookAnswer => ({
  statusCode: 401,
  body: { message: 'missing or wrong webhook credentials' },
});

/** Compared against when there is no account secret, so an unknown account costs the same time. */
const DECOY_SECRET = randomBytes(32).toString('hex');

export async function receiveWebhook(call: WebhookCall, deps: IntakeDeps): Promise<WebhookAnswer> {
  const bytes = call.bytes ?? Buffer.from(call.body, 'utf8');
  if (bytes.length > MAX_WEBHOOK_BYTES) {
    return { statusCode: 413, body: { message: `the body is larger than ${MAX_WEBHOOK_BYTES} bytes` } };
  }
  let account: AccountConfig | undefined;
  try {
    account = await deps.accounts.get(call.accountId);
  } catch (error) {
    // An unknown account is answered like a wrong secret. One whose secret is broken is not:
    // that throws (a 500, its fields named in the log), and the provider sends the callback again.
    if (!(error instanceof UnknownAccountError)) throw error;
  }
  const webhook = account?.webhook ?? { secret: DECOY_SECRET };
  if (!authenticated(webhook, call.headers, bytes) || !account?.webhook) return unauthenticated();

  let recordings: WebhookRecording[];
  try {
    const adapter = await deps.adapterFor(account.id);
    const minimal = minimalBody(account, call.body);
    for (const recording of minimal ?? []) {
      const problem = adapter.unaddressable?.(recording);
      if (problem) throw new WebhookParseError(problem);
    }
    recordings = minimal ?? adapter.parseWebhook(call);
  } catch (error) {
    if (error instanceof WebhookParseError) return { statusCode: 400, body: { message: error.message } };
    throw error;
  }
  if (recordings.length === 0) {
    return {
      statusCode: 202,
      body: { message: 'nothing to archive in this event', started: 0, duplicates: 0 },
    };
  }

  const known = await deps.index.getMany(recordings.map((recording) => recordingId(recording)));
  let started = 0;
  let duplicates = 0;
  for (const recording of recordings) {
    const { hints, ...ref } = recording;
    // The provider says it is ready: even a recording skipped as gone earlier is tried again.
    const handed = await handOver({ ref, hints }, known.get(recordingId(recording)), deps.starter);
    if (handed.outcome === 'started') started += 1;
    else duplicates += 1;
  }
  return {
    statusCode: 202,
    body: {
      message: 'accepted',
      started,
      duplicates,
      recordings: recordings.map((recording) => recordingId(recording)),
    },
  };
}

/**
 * `{ "recordingId": "...", "callId"?: "..." }`, accepted for every provider (Infobip file id,
 * DialogTech sid…). Anything else is the provider's own format, parsed by its adapter.
 */
function minimalBody(account: AccountConfig, body: string): WebhookRecording[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || !('recordingId' in json)) return undefined;
  const { recordingId: id, callId } = json as { recordingId: unknown; callId?: unknown };
  // Bandwidth's own callbacks carry `recordingId` too, with `eventType`: those go to the adapter.
  if ('eventType' in json) return undefined;
  if (typeof id !== 'string' || id.trim() === '') {
    throw new WebhookParseError('"recordingId" must be a non-empty string');
  }
  if (callId !== undefined && typeof callId !== 'string')
    throw new WebhookParseError('"callId" must be a string');
  return [{ accountId: account.id, provider: account.provider, providerRecordingId: id.trim(), callId }];
}

/**
 * The account's webhook secret (or the previous one, during a rotation) as the HTTP Basic
 * password, or VoIPBin's `X-VoIPBIN-Signature`: hex HMAC-SHA256 of the raw body. Compared in
 * constant time.
 */
function authenticated(
  webhook: NonNullable<AccountConfig['webhook']>,
  headers: WebhookCall['headers'],
  bytes: Buffer,
): boolean {
  const secrets = [webhook.secret, webhook.previousSecret].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length > 0,
  );
  const password = basicPassword(headers.authorization);
  const signature = headers['x-voipbin-signature']?.trim().toLowerCase();
  return secrets.some(
    (secret) =>
      (password !== undefined && sameSecret(password, secret)) ||
      (signature !== undefined &&
        sameSecret(signature, createHmac('sha256', secret).update(bytes).digest('hex'))),
  );
}

function basicPassword(header: string | undefined): string | undefined {
  const match = header?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Constant-time comparison of two strings of any length (digests have equal length). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
