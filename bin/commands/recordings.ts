/** `recordings list | get | url`: the archive only. No workflow, CDK, simulator or provider code loads. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { UsageError } from '../../lambdas/core/errors.ts';
import type { EntryStatus, IndexEntry, IndexQuery } from '../../lambdas/core/ports.ts';
import { CALL_FIELDS, ENTRY_STATUSES, PROVIDERS, type ProviderName } from '../../lambdas/core/recording.ts';
import type { LocalArchive } from '../../local/stack.ts';
import { choice, dataDirOption, withLocalArchive, withLocalIndex } from './common.ts';
import { registerRecordingCompliance } from './recordings-compliance.ts';
import { registerRetryCommand } from './retry.ts';

const JSON_FIELDS = [
  'id',
  'accountId',
  'provider',
  'providerRecordingId',
  'callId',
  'status',
  'reason',
  ...CALL_FIELDS,
  'bytes',
  'sha256',
  'contentType',
  'container',
  'bucket',
  'key',
  'archivedAt',
] as const;

/** Compliance fields, printed only where set. */
const OPTIONAL_JSON_FIELDS = ['legalHold', 'deletedAtSourceAt', 'erasedAt'] as const;

// Commander parses option values synchronously: the time parser (luxon) is loaded before
// `recordings`' subcommands parse theirs (the preSubcommand hook), not at start-up.
let toUtcIso: ((value: string) => string | undefined) | undefined;

/** Whole seconds from 1 to a week, the most a SigV4 presigned URL allows. */
function secondsOption(name: string) {
  return (value: string) => {
    const seconds = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 604_800)
      throw new InvalidArgumentError(`${name} must be whole seconds from 1 to 604800, got "${value}"`);
    return seconds;
  };
}

function isoOption(name: string) {
  return (value: string) => {
    const iso = toUtcIso?.(value);
    if (!iso) throw new InvalidArgumentError(`${name} must be a date or ISO-8601 time, got "${value}"`);
    return iso;
  };
}

/** Every entry matching the query, across pages. */
async function listAll(dataDir: string, query: IndexQuery): Promise<IndexEntry[]> {
  return withLocalIndex(dataDir, async ({ index }) => {
    try {
      const entries: IndexEntry[] = [];
      let cursor: string | undefined;
      do {
        const page = await index.query({ ...query, cursor, limit: 500 });
        entries.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
      return entries.sort(
        (a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? '') || a.id.localeCompare(b.id),
      );
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') {
        throw new UsageError(`no archive in ${dataDir}: run "callvault harvest" or "callvault demo" first`);
      }
      throw error;
    }
  });
}

/** Writes an archived recording's bytes to `output`, verified against the index's SHA-256. */
export async function writeRecording(archive: LocalArchive, id: string, output: string): Promise<void> {
  const { notArchivedError } = await import('../../lambdas/core/query.ts');
  const entry = await archive.index.get(id);
  if (!entry) throw new UsageError(`no recording with id ${id}`);
  if (entry.status !== 'archived' || !entry.key) throw notArchivedError(entry);
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(await archive.store.read(entry.key), tee, createWriteStream(output));
  const sha256 = hash.digest('hex');
  if (sha256 !== entry.sha256) {
    throw new UsageError(`${output}: SHA-256 ${sha256} does not match the index (${entry.sha256})`);
  }
  console.log(`wrote ${entry.bytes} bytes (${entry.contentType}, sha256 ${sha256}) to ${output}`);
}

export function registerRecordings(program: Command): void {
  const recordings = program
    .command('recordings')
    .description('find and fetch archived recordings')
    .hook('preSubcommand', async () => {
      ({ toUtcIso } = await import('../../lambdas/core/time.ts'));
    });
  registerRetryCommand(recordings);

  recordings
    .command('list')
    .description('list index entries, oldest first')
    .option('--json', 'print a JSON array')
    .addOption(dataDirOption())
    .option('--account <id>', 'only this account')
    .option('--provider <name>', 'only this provider', choice('--provider', PROVIDERS))
    .option('--number <phone>', 'calls from or to this number (digits are compared)')
    .option('--status <status>', 'archived, skipped, failed or erased', choice('--status', ENTRY_STATUSES))
    .option(
      '--since <time>',
      'started at or after (UTC unless the time says otherwise)',
      isoOption('--since'),
    )
    .option('--until <time>', 'started before', isoOption('--until'))
    .action(
      async (options: {
        json?: boolean;
        dataDir: string;
        account?: string;
        provider?: ProviderName;
        number?: string;
        status?: EntryStatus;
        since?: string;
        until?: string;
      }) => {
        const entries = await listAll(resolve(options.dataDir), {
          accountId: options.account,
          provider: options.provider,
          number: options.number,
          status: options.status,
          since: options.since,
          until: options.until,
        });
        if (options.json) {
          const rows = entries.map((entry) => ({
            ...Object.fromEntries(JSON_FIELDS.map((field) => [field, entry[field] ?? null])),
            ...Object.fromEntries(
              OPTIONAL_JSON_FIELDS.filter((field) => entry[field] !== undefined).map((field) => [
                field,
                entry[field],
              ]),
            ),
          }));
          console.log(JSON.stringify(rows, null, 2));
        } else {
          const { formatEntries } = await import('../../local/report.ts');
          console.log(formatEntries(entries));
        }
      },
    );

  registerRecordingCompliance(recordings);

  recordings
    .command('get <id>')
    .description("write a recording's archived bytes to a file (verified against the index's SHA-256)")
    .requiredOption('--output <file>', 'where to write the audio')
    .addOption(dataDirOption())
    .action((id: string, options: { output: string; dataDir: string }) =>
      withLocalArchive(options.dataDir, (archive) => writeRecording(archive, id, options.output)),
    );

  recordings
    .command('url <id>')
    .description("print a short-lived presigned URL to a recording's audio")
    .option('--expires <seconds>', 'how long the URL is valid (1 to 604800)', secondsOption('--expires'), 300)
    .addOption(dataDirOption())
    .action(async (id: string, options: { expires: number; dataDir: string }) => {
      const [{ runningServe }, { S3AudioUrlSigner }, { audioLink }] = await Promise.all([
        import('../../local/stack.ts'),
        import('../../lambdas/aws/s3-presigner.ts'),
        import('../../lambdas/core/query.ts'),
      ]);
      const dataDir = resolve(options.dataDir);
      const link = await withLocalArchive(dataDir, (archive) =>
        audioLink(id, {
          index: archive.index,
          signer: new S3AudioUrlSigner(archive.s3),
          expiresInSeconds: options.expires,
        }),
      );
      if (!link) throw new UsageError(`no recording with id ${id}`);
      console.log(link.url);
      if (!(await runningServe(dataDir))) {
        console.error(
          'note: the local S3 server stops with this command; run "callvault serve" to use the URL',
        );
      }
    });
}
