import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { parseSchedule } from './schedule.ts';

const timeZone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as "America/Chicago"' },
);

const baseUrl = z
  .string()
  .url()
  .refine((url) => /^https?:\/\//.test(url), { message: 'must start with http:// or https://' })
  .transform((url) => url.replace(/\/+$/, ''));

const nonEmpty = z.string().min(1, { message: 'is required' });

/** `storage.example.com`, `storage.example.com:8443`, `10.0.0.7:9000`, `*.example.com`. */
const ALLOWED_HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i;

const webhook = z.strictObject({
  secret: nonEmpty,
  /** Still accepted during a rotation window. */
  previousSecret: nonEmpty.optional(),
});

/** An EventBridge `rate(...)` / `cron(...)` expression, checked as the schedules read it. */
const scheduleExpression = z.string().superRefine((expression, ctx) => {
  try {
    parseSchedule(expression);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `is invalid: ${(error as Error).message}` });
  }
});

const common = {
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, {
    message: 'must be 1-64 letters, digits, "-" or "_"',
  }),
  baseUrl,
  /** Zone for provider timestamps that carry none (DialogTech, VoIPBin). */
  timeZone: timeZone.default('UTC'),
  /** EventBridge `rate(...)` / `cron(...)` expression for sweeps. */
  schedule: scheduleExpression.default('rate(15 minutes)'),
  webhook: webhook.optional(),
  /** How sweeps list this account; defaults in `sweepSettings` (lambdas/core/sweep.ts). */
  sweep: z
    .strictObject({
      /**
       * How far before the cursor an incremental sweep lists again: at least the longest call plus
       * the provider's processing delay, since a recording is listed only once its call has ended.
       */
      lookbackHours: z.number().positive().optional(),
      /** How often a sweep lists the provider's whole retention instead (catches anything missed). */
      deepSweepEveryHours: z.number().positive().optional(),
      /** Handed-over executions in flight before the next page waits (default 25 × maxConcurrency). */
      maxInFlight: z.number().int().min(1).optional(),
    })
    .strict()
    .optional(),
  /**
   * Readiness checks and downloads in flight at once at this account's provider, across every
   * execution (deployed: across Lambdas). Default per provider: `DEFAULT_MAX_CONCURRENCY`.
   */
  maxConcurrency: z.number().int().min(1).max(100).optional(),
  /**
   * Hosts a download may be sent to although they resolve to a private, loopback or link-local
   * address (on-premises storage). The configured host and public hosts need no entry.
   */
  allowedDownloadHosts: z
    .array(
      z.string().regex(ALLOWED_HOST, {
        message: 'must be a host name or IP address, optionally with ":port", or "*.domain"',
      }),
    )
    .optional(),
  /** The largest audio file a download may reach; a body that grows past it is refused. */
  maxDownloadBytes: z.number().int().positive().optional(),
  /**
   * Deployed stack only: the Secrets Manager secret (name or ARN) holding this account's
   * `{ "auth": {...}, "webhook": {...} }`. Default `callvault/{id}`.
   */
  secret: z.string().min(1).optional(),
  /** Days the provider keeps a recording (default per provider: Infobip 60, Bandwidth 30). */
  retentionDays: z.number().int().min(1).optional(),
  /** Reconcile reports a recording not yet archived this many days before it expires (default 7). */
  expiryWarningDays: z.number().int().min(0).optional(),
  /** Delete at the provider, once the archive verifies, recordings archived this long ago. Off by default. */
  deleteAtSource: z.strictObject({ afterDays: z.number().int().min(0) }).optional(),
  /** Deployed only: storage classes and expiration for this account's `recordings/{id}/` prefix. */
  lifecycle: z
    .strictObject({
      glacierInstantRetrievalAfterDays: z.number().int().min(0).optional(),
      deepArchiveAfterDays: z.number().int().min(1).optional(),
      expireAfterDays: z.number().int().min(1).optional(),
    })
    .optional(),
  /** Deployed only: the customer-managed KMS key the account's secret is encrypted with. */
  secretKmsKeyArn: z.string().startsWith('arn:', { message: 'must be a KMS key ARN' }).optional(),
};

export const infobipAccount = z.strictObject({
  ...common,
  provider: z.literal('infobip'),
  auth: z.union([
    z.strictObject({ username: nonEmpty, password: nonEmpty }),
    z.strictObject({ apiKey: nonEmpty }),
  ]),
});

export const dialogtechAccount = z.strictObject({
  ...common,
  provider: z.literal('dialogtech'),
  auth: z.strictObject({ accessKey: nonEmpty, secretAccessKey: nonEmpty }),
  lists: z
    .array(z.strictObject({ type: nonEmpty, id: z.union([z.number().int(), z.string().regex(/^\d+$/)]) }))
    .min(1, { message: 'needs at least one { "type", "id" } pair to list recordings from' }),
  /** `wav` or `mp3`, what recording.download is asked for. */
  format: z.enum(['wav', 'mp3']).default('wav'),
});

export const voipbinAccount = z.strictObject({
  ...common,
  provider: z.literal('voipbin'),
  /**
   * An access key (`GET /accesskeys`, sent as `?accesskey=`) lives until its own expiry and is the
   * credential for a deployment; a login token expires after 7 days.
   */
  auth: z
    .strictObject({ accesskey: nonEmpty.optional(), token: nonEmpty.optional() })
    .superRefine((auth, ctx) => {
      if (auth.accesskey === undefined && auth.token === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['token'],
          message: 'is required (or "accesskey", the credential for a deployment)',
        });
      } else if (auth.accesskey !== undefined && auth.token !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['token'], message: 'cannot be set beside "accesskey"' });
      }
    })
    .transform((auth): { accesskey: string } | { token: string } =>
      auth.accesskey !== undefined ? { accesskey: auth.accesskey } : { token: auth.token ?? '' },
    ),
});

export const restcommAccount = z.strictObject({
  ...common,
  provider: z.literal('restcomm'),
  auth: z.strictObject({ accountSid: nonEmpty, authToken: nonEmpty }),
});

export const bandwidthAccount = z.strictObject({
  ...common,
  provider: z.literal('bandwidth'),
  auth: z.strictObject({ accountId: nonEmpty, username: nonEmpty, password: nonEmpty }),
});

export const accountConfig = z.discriminatedUnion('provider', [
  infobipAccount,
  dialogtechAccount,
  voipbinAccount,
  restcommAccount,
  bandwidthAccount,
]);

/**
 * An account as the deployed stack sees it at synth time: no credentials, those stay in Secrets
 * Manager. Inline `auth`/`webhook` blocks are accepted and dropped, so one file serves both.
 */
const secretless = { auth: true, webhook: true } as const;
export const deployAccountConfig = z.preprocess(
  withoutSecrets,
  z.discriminatedUnion('provider', [
    infobipAccount.omit(secretless),
    dialogtechAccount.omit(secretless),
    voipbinAccount.omit(secretless),
    restcommAccount.omit(secretless),
    bandwidthAccount.omit(secretless),
  ]),
);

/** An account's fields but `auth` and `webhook`, which never reach a template. */
function withoutSecrets(account: unknown): unknown {
  if (typeof account !== 'object' || account === null || Array.isArray(account)) return account;
  const { auth: _auth, webhook: _webhook, ...rest } = account as Record<string, unknown>;
  return rest;
}
export type DeployAccountConfig = z.infer<typeof deployAccountConfig>;

export const readinessConfig = z
  .strictObject({
    initialDelaySeconds: z.number().int().min(1).default(30),
    maxDelaySeconds: z.number().int().min(1).default(900),
    deadlineSeconds: z.number().int().min(1).default(172_800),
  })
  .refine((r) => r.maxDelaySeconds >= r.initialDelaySeconds, {
    message: 'maxDelaySeconds must be at least initialDelaySeconds',
    path: ['maxDelaySeconds'],
  });

const defaultReadiness = { initialDelaySeconds: 30, maxDelaySeconds: 900, deadlineSeconds: 172_800 };

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Deployed stack only: where alarms go, cost-allocation tags, how long logs are kept. */
const deploymentSettings = {
  /** Every alarm notifies this SNS topic: an existing one (`topicArn`) or one the stack creates. */
  alarms: z
    .strictObject({
      email: z.string().email({ message: 'must be an email address' }).optional(),
      topicArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, {
          message: 'must be an SNS topic ARN (arn:aws:sns:region:account:name)',
        })
        .optional(),
      /** Alarm when an account's archive was not re-read in full by reconcile for this long. Default 7. */
      verificationMaxAgeDays: z.number().int().min(1).max(3653).optional(),
    })
    .optional(),
  /** Tags on every resource of the stack, for cost allocation. */
  tags: z
    .record(
      z.string().regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u, { message: 'is not a valid tag key' }),
      z.string().max(256),
    )
    .optional(),
  /** Days every log group keeps its events (function, execution and access logs). Default 365. */
  logRetentionDays: z
    .number()
    .int()
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    })
    .optional(),
};

/**
 * The retry job for failed recordings (from the index, whatever their age): the n-th retry is
 * due `initialDelaySeconds × 2^(n-1)` (at most `maxDelaySeconds`) after the last failure, until
 * `maxAttempts` executions have failed; then the entry stays `failed` with its reason.
 */
export const retryConfig = z
  .strictObject({
    maxAttempts: z.number().int().min(1).default(8),
    initialDelaySeconds: z.number().int().min(1).default(900),
    maxDelaySeconds: z.number().int().min(1).default(86_400),
    /** EventBridge `rate(...)` / `cron(...)` expression the job runs on. */
    schedule: scheduleExpression.default('rate(1 hour)'),
  })
  .refine((r) => r.maxDelaySeconds >= r.initialDelaySeconds, {
    message: 'maxDelaySeconds must be at least initialDelaySeconds',
    path: ['maxDelaySeconds'],
  });

const defaultRetry = {
  maxAttempts: 8,
  initialDelaySeconds: 900,
  maxDelaySeconds: 86_400,
  schedule: 'rate(1 hour)',
};

/** Default retention at the bucket (S3 Object Lock): decided when the bucket is first created. */
export const retentionConfig = z.strictObject({
  mode: z.enum(['governance', 'compliance']),
  days: z.number().int().min(1),
});
export type RetentionConfig = z.infer<typeof retentionConfig>;

/** A customer-managed KMS key for the bucket, the table and the log groups. */
export const encryptionConfig = z.union([
  z.strictObject({ kmsKeyArn: z.string().startsWith('arn:', { message: 'must be a KMS key ARN' }) }),
  z.strictObject({ createKey: z.literal(true) }),
]);
export type EncryptionConfig = z.infer<typeof encryptionConfig>;

/** Provider retention when the account does not say: how long the provider keeps a recording. */
const PROVIDER_RETENTION_DAYS: Partial<Record<AccountConfig['provider'], number>> = {
  infobip: 60,
  bandwidth: 30,
};

export function providerRetentionDays(account: {
  provider: AccountConfig['provider'];
  retentionDays?: number;
}): number | undefined {
  return account.retentionDays ?? PROVIDER_RETENTION_DAYS[account.provider];
}

type ComplianceFields = {
  accounts: { provider: string; deleteAtSource?: unknown; lifecycle?: { expireAfterDays?: number } }[];
  retention?: RetentionConfig;
};

function compliance(config: ComplianceFields, ctx: z.RefinementCtx): void {
  config.accounts.forEach((account, index) => {
    if (account.provider === 'infobip' && account.deleteAtSource) {
      ctx.addIssue({
        code: 'custom',
        path: ['accounts', index, 'deleteAtSource'],
        message: ': infobip cannot delete recordings',
      });
    }
    const expire = account.lifecycle?.expireAfterDays;
    if (expire !== undefined && config.retention && expire < config.retention.days) {
      ctx.addIssue({
        code: 'custom',
        path: ['accounts', index, 'lifecycle', 'expireAfterDays'],
        message: `must be at least retention.days (${config.retention.days})`,
      });
    }
  });
}

function uniqueAccountIds(config: { accounts: { id: string }[] }, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  config.accounts.forEach((account, index) => {
    if (seen.has(account.id)) {
      ctx.addIssue({
        code: 'custom',
        path: ['accounts', index, 'id'],
        message: `"${account.id}" is used twice`,
      });
    }
    seen.add(account.id);
  });
}

/** The whole configuration around its accounts: with credentials (a run) or without (a deployment). */
function configWith<Account extends typeof accountConfig | typeof deployAccountConfig>(account: Account) {
  return z
    .strictObject({
      accounts: z.array(account).min(1, { message: 'needs at least one account' }),
      readiness: readinessConfig.default(defaultReadiness),
      ...deploymentSettings,
      retry: retryConfig.default(defaultRetry),
      retention: retentionConfig.optional(),
      encryption: encryptionConfig.optional(),
    })
    .superRefine(uniqueAccountIds)
    .superRefine(compliance);
}

export const callvaultConfig = configWith(accountConfig);

export const deployConfig = configWith(deployAccountConfig);
export type DeployConfig = z.infer<typeof deployConfig>;

export type AccountConfig = z.infer<typeof accountConfig>;

/**
 * Four at once suits APIs documented without a limit. DialogTech's is one PHP endpoint that
 * renders each download on request: two. Bandwidth allows 3,500 requests per 5 minutes per IP
 * (its OpenAPI), about 11 a second, which eight short requests in flight stay under.
 */
export const DEFAULT_MAX_CONCURRENCY: Record<AccountConfig['provider'], number> = {
  infobip: 4,
  dialogtech: 2,
  voipbin: 4,
  restcomm: 4,
  bandwidth: 8,
};

export function maxConcurrencyOf(account: Pick<AccountConfig, 'provider' | 'maxConcurrency'>): number {
  return account.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY[account.provider];
}
export type AccountOf<P extends AccountConfig['provider']> = Extract<AccountConfig, { provider: P }>;
export type ReadinessConfig = z.infer<typeof readinessConfig>;
export type RetryConfig = z.infer<typeof retryConfig>;
export type CallvaultConfig = z.infer<typeof callvaultConfig>;

/** `accounts[2].auth.token` */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, '');
}

/** Parses and validates a config object; the error lists every problem with its field path. */
export function parseConfig(input: unknown, source = 'config'): CallvaultConfig {
  return validate(callvaultConfig, input, source);
}

export function parseDeployConfig(input: unknown, source = 'config'): DeployConfig {
  return validate(deployConfig, input, source);
}

function validate<T extends z.ZodType>(schema: T, input: unknown, source: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    // Every object is strict: a misspelt field (`timezone`) is an error, not a silent default.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map(
        (key) => `  ${fieldPath([...issue.path, key])} is not a field callvault knows (misspelt?)`,
      );
    }
    const where = fieldPath(issue.path) || '(top level)';
    const message =
      issue.code === 'invalid_type' ? typeProblem(issue, valueAt(input, issue.path)) : issue.message;
    // A message of its own punctuation (`: …`) follows the field path directly.
    return [`  ${where}${message.startsWith(':') ? '' : ' '}${message}`];
  });
  throw new ConfigError(`${source} is invalid:\n${problems.join('\n')}`);
}

/**
 * The fields a failed parse of an account with its secret names, and never their values (they
 * are secrets): `auth.token`, or `webhooks (unknown field)` for one callvault does not know.
 */
export function problemFields(error: z.ZodError): string[] {
  const fields = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${[...issue.path, key].join('.')} (unknown field)`)
      : [issue.path.join('.')],
  );
  return [...new Set(fields)];
}

/** What is at `path` in the raw input (zod 4 does not keep it on the issue). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** `is required` when absent; otherwise what it must be and what it is (never its value: it may be a secret). */
function typeProblem(issue: { expected: string }, value: unknown): string {
  if (value === undefined) return 'is required';
  const actual = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
  return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}, not ${actual}`;
}

export async function loadConfigFile(path: string): Promise<CallvaultConfig> {
  return parseConfig(await readJson(path), `config file ${path}`);
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // Only where it is: V8's message may quote the text around it, and the file holds credentials.
    const place = jsonErrorPlace(text, error as Error);
    throw new ConfigError(`config file ${path} is not valid JSON${place ? ` (${place})` : ''}`);
  }
}

/**
 * `line 3, column 14` from a JSON.parse error that gives a position; `unexpected end of file` (or
 * of `whole`) if it ran out. Never the text around it: V8's message may quote it.
 */
export function jsonErrorPlace(text: string, error: Error, whole = 'file'): string | undefined {
  if (/end of (JSON|data) input/i.test(error.message)) return `unexpected end of ${whole}`;
  const position = /at position (\d+)/.exec(error.message)?.[1];
  if (position === undefined) return undefined;
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  const column = Number(position) - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}
