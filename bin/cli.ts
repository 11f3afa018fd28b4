/**
 * The callvault CLI. Everything runs on the embedded local stack in a data directory:
 *   harvest            sweep every configured account, archive, wait, summarize
 *   recordings list    query the index (same query code as the deployed API)
 *   recordings get     write an archived recording's bytes to a file, verified by SHA-256
 *   providers check    list and download from each configured account, archive nothing
 *   demo               simulators + harvest, end to end (what `npm start` runs)
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MultiBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { S3AudioUrlSigner } from '../lambdas/aws/s3-presigner.ts';
import { type CallvaultConfig, loadConfigFile, parseConfig } from '../lambdas/core/config.ts';
import { CallvaultError, UsageError } from '../lambdas/core/errors.ts';
import { describeLogEvent, type Logger } from '../lambdas/core/log.ts';
import type { EntryStatus, IndexEntry, IndexQuery } from '../lambdas/core/ports.ts';
import { audioLink } from '../lambdas/core/query.ts';
import { PROVIDERS, type ProviderName } from '../lambdas/core/recording.ts';
import { createAdapter } from '../lambdas/providers/index.ts';
import { toUtcIso } from '../lambdas/providers/parse.ts';
import { type HarvestProgress, harvest, harvestSucceeded } from '../local/harvest.ts';
import { formatEntries, formatSummary } from '../local/report.ts';
import { serve } from '../local/serve.ts';
import { startFleet } from '../local/simulators/fleet.ts';
import { openLocalArchive, openLocalStack, runningServe } from '../local/stack.ts';
import { registerDeployCheck } from './commands/deploy-check.ts';
import { registerStatus } from './commands/status.ts';

// The SDK's Node 22 notice is for maintainers, not for someone running the demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const DEFAULT_DATA_DIR = '.callvault';

/** Warnings and errors as readable lines (each event's own sentence); `print` lets the progress bar stay intact. */
function terminalLogger(print: (line: string) => void, verbose = false): Logger {
  return {
    info: (event, fields) => verbose && print(describeLogEvent(event, fields)),
    warn: (event, fields) => print(`! ${describeLogEvent(event, fields)}`),
    error: (event, fields) => print(`✗ ${describeLogEvent(event, fields)}`),
  };
}

function progressDisplay() {
  if (!process.stderr.isTTY) {
    return {
      logger: terminalLogger((line) => process.stderr.write(`${line}\n`)),
      update: () => {},
      stop: () => {},
    };
  }
  const bars = new MultiBar(
    {
      format: ' archiving [{bar}] {value}/{total} executions  {account}',
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  // Total 1 until the sweeps report: a bar of 0 of 0 would show as already full.
  const bar = bars.create(1, 0, { account: 'listing…' });
  return {
    logger: terminalLogger((line) => bars.log(`${line}\n`)),
    update: (progress: HarvestProgress) => {
      if (progress.started > 0) bar.setTotal(progress.started);
      bar.update(progress.finished, { account: progress.account ?? '' });
    },
    stop: () => bars.stop(),
  };
}

async function runHarvest(config: CallvaultConfig, dataDir: string): Promise<boolean> {
  const display = progressDisplay();
  const stack = await openLocalStack({ config, dataDir, logger: display.logger });
  try {
    const summaries = await harvest(stack, { onProgress: display.update });
    display.stop();
    console.log(`\n${formatSummary(summaries)}\n`);
    return harvestSucceeded(summaries);
  } finally {
    display.stop();
    await stack.close();
  }
}

function isoOption(name: string) {
  return (value: string) => {
    const iso = toUtcIso(value);
    if (!iso) throw new InvalidArgumentError(`${name} must be a date or ISO-8601 time, got "${value}"`);
    return iso;
  };
}

function choice<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string) => {
    if (!allowed.includes(value as T))
      throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}`);
    return value as T;
  };
}

/** Every entry matching the query, across pages. */
async function listAll(dataDir: string, query: IndexQuery): Promise<IndexEntry[]> {
  const archive = await openLocalArchive(dataDir);
  try {
    const entries: IndexEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await archive.index.query({ ...query, cursor, limit: 500 });
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
  } finally {
    await archive.close();
  }
}

const JSON_FIELDS = [
  'id',
  'accountId',
  'provider',
  'providerRecordingId',
  'callId',
  'status',
  'reason',
  'startedAt',
  'endedAt',
  'durationSec',
  'from',
  'to',
  'direction',
  'bytes',
  'sha256',
  'contentType',
  'container',
  'bucket',
  'key',
  'archivedAt',
] as const;

const program = new Command('callvault')
  .description('Archive call recordings from telephony providers into S3 + DynamoDB, exactly once.')
  .showHelpAfterError();

program
  .command('harvest')
  .description('sweep every configured account on the local stack and wait until all is archived')
  .requiredOption('--config <file>', 'callvault config file (JSON)')
  .option('--data-dir <dir>', 'where the local archive lives', DEFAULT_DATA_DIR)
  .action(async (options: { config: string; dataDir: string }) => {
    const config = await loadConfigFile(options.config);
    process.exitCode = (await runHarvest(config, resolve(options.dataDir))) ? 0 : 1;
  });

const recordings = program.command('recordings').description('find and fetch archived recordings');

recordings
  .command('list')
  .description('list index entries, oldest first')
  .option('--json', 'print a JSON array')
  .option('--data-dir <dir>', 'where the local archive lives', DEFAULT_DATA_DIR)
  .option('--account <id>', 'only this account')
  .option('--provider <name>', 'only this provider', choice('--provider', PROVIDERS))
  .option('--number <phone>', 'calls from or to this number (digits are compared)')
  .option(
    '--status <status>',
    'archived, skipped or failed',
    choice('--status', ['archived', 'skipped', 'failed']),
  )
  .option('--since <time>', 'started at or after (UTC unless the time says otherwise)', isoOption('--since'))
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
        const rows = entries.map((entry) =>
          Object.fromEntries(JSON_FIELDS.map((field) => [field, entry[field] ?? null])),
        );
        console.log(JSON.stringify(rows, null, 2));
      } else {
        console.log(formatEntries(entries));
      }
    },
  );

recordings
  .command('get <id>')
  .description("write a recording's archived bytes to a file (verified against the index's SHA-256)")
  .requiredOption('--output <file>', 'where to write the audio')
  .option('--data-dir <dir>', 'where the local archive lives', DEFAULT_DATA_DIR)
  .action(async (id: string, options: { output: string; dataDir: string }) => {
    const archive = await openLocalArchive(resolve(options.dataDir));
    try {
      const entry = await archive.index.get(id);
      if (!entry) throw new UsageError(`no recording with id ${id}`);
      if (entry.status !== 'archived' || !entry.key) {
        throw new UsageError(`recording ${id} is ${entry.status}: ${entry.reason ?? 'no audio archived'}`);
      }
      const hash = createHash('sha256');
      const tee = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      await pipeline(await archive.store.read(entry.key), tee, createWriteStream(options.output));
      const sha256 = hash.digest('hex');
      if (sha256 !== entry.sha256) {
        throw new UsageError(
          `${options.output}: SHA-256 ${sha256} does not match the index (${entry.sha256})`,
        );
      }
      console.log(`wrote ${entry.bytes} bytes (${entry.contentType}, sha256 ${sha256}) to ${options.output}`);
    } finally {
      await archive.close();
    }
  });

recordings
  .command('url <id>')
  .description("print a short-lived presigned URL to a recording's audio")
  .option('--expires <seconds>', 'how long the URL is valid', (value) => Number(value), 300)
  .option('--data-dir <dir>', 'where the local archive lives', DEFAULT_DATA_DIR)
  .action(async (id: string, options: { expires: number; dataDir: string }) => {
    const dataDir = resolve(options.dataDir);
    const archive = await openLocalArchive(dataDir);
    try {
      const link = await audioLink(id, {
        index: archive.index,
        signer: new S3AudioUrlSigner(archive.s3),
        expiresInSeconds: options.expires,
      });
      if (!link) throw new UsageError(`no recording with id ${id}`);
      console.log(link.url);
      if (!runningServe(dataDir)) {
        console.error(
          'note: the local S3 server stops with this command; run "callvault serve" to use the URL',
        );
      }
    } finally {
      await archive.close();
    }
  });

program
  .command('serve')
  .description('run the local stack as a service: webhooks, scheduled sweeps and the search API on one port')
  .requiredOption('--config <file>', 'callvault config file (JSON)')
  .option('--data-dir <dir>', 'where the local archive lives', DEFAULT_DATA_DIR)
  .option('--port <n>', 'port to listen on', (value) => Number(value), 8080)
  .action(async (options: { config: string; dataDir: string; port: number }) => {
    const config = await loadConfigFile(options.config);
    const dataDir = resolve(options.dataDir);
    const running = await serve({
      config,
      dataDir,
      port: options.port,
      logger: terminalLogger(console.error, true),
    });
    console.log(`callvault serving ${dataDir} on ${running.url}`);
    console.log(`  POST ${running.url}/webhooks/{accountId}    provider callbacks`);
    console.log(
      `  GET  ${running.url}/recordings              search (account, provider, number, status, since, until)`,
    );
    console.log(`  GET  ${running.url}/recordings/{id}/audio   302 to the audio`);
    for (const account of config.accounts) console.log(`  sweep ${account.id}: ${account.schedule}`);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    console.log('stopping: finishing running executions (the rest resume on the next start)…');
    await running.close();
  });

program
  .command('providers')
  .description('talk to the providers directly')
  .command('check')
  .description('list every configured account and download its first ready recording; archives nothing')
  .requiredOption('--config <file>', 'callvault config file (JSON)')
  .action(async (options: { config: string }) => {
    const config = await loadConfigFile(options.config);
    let ok = true;
    for (const account of config.accounts) {
      const adapter = createAdapter(account, { logger: terminalLogger(console.error) });
      try {
        const listed = [];
        for await (const recording of adapter.list({})) listed.push(recording);
        const ready = listed.filter((recording) => recording.readiness === 'ready');
        let downloaded = 'nothing ready to download';
        const first = ready[0];
        if (first) {
          const download = await adapter.download(first);
          download.body.resume();
          await new Promise((done, fail) => download.body.on('end', done).on('error', fail));
          downloaded = `downloaded ${first.providerRecordingId}: ${download.body.bytes} bytes, sha256 ${download.body.sha256}`;
        }
        console.log(
          `${account.id} (${account.provider}): ${listed.length} recordings, ${ready.length} ready; ${downloaded}`,
        );
      } catch (error) {
        ok = false;
        console.log(
          `${account.id} (${account.provider}): ${(error as Error).name}: ${(error as Error).message}`,
        );
      }
    }
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('simulators')
  .description('run the five provider simulators (as in the demo) until interrupted')
  .option('--write-config <file>', 'write a callvault config pointing at them', '.callvault/simulators.json')
  .option('--faults', "inject the demo's faults (a 429, a 503, a reset, a truncated download)")
  .action(async (options: { writeConfig: string; faults?: boolean }) => {
    const fleet = await startFleet({ faults: options.faults ?? false });
    const config = {
      accounts: fleet.accounts,
      readiness: { initialDelaySeconds: 1, maxDelaySeconds: 2, deadlineSeconds: 120 },
    };
    await mkdir(dirname(resolve(options.writeConfig)), { recursive: true });
    await writeFile(options.writeConfig, `${JSON.stringify(config, null, 2)}\n`);
    for (const account of fleet.accounts)
      console.log(`${account.id.padEnd(8)} ${account.provider.padEnd(10)} ${account.baseUrl}`);
    console.log(
      `config written to ${options.writeConfig}; try: npx callvault providers check --config ${options.writeConfig}`,
    );
    console.log('Ctrl-C stops the simulators.');
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await fleet.stop();
  });

program
  .command('demo')
  .description('start the five provider simulators and harvest them end to end on the local stack')
  .option('--data-dir <dir>', 'where the local archive lives', DEFAULT_DATA_DIR)
  .action(async (options: { dataDir: string }) => {
    const dataDir = resolve(options.dataDir);
    console.log('Starting the Infobip, DialogTech, VoIPBin, Restcomm and Bandwidth simulators…');
    const fleet = await startFleet();
    try {
      const config = parseConfig({
        accounts: fleet.accounts,
        readiness: { initialDelaySeconds: 1, maxDelaySeconds: 2, deadlineSeconds: 120 },
      });
      for (const account of fleet.accounts)
        console.log(`  ${account.id.padEnd(8)} ${account.provider.padEnd(10)} ${account.baseUrl}`);
      console.log(
        `Harvesting into ${dataDir} (some recordings are still processing; some requests will fail once)…\n`,
      );
      const ok = await runHarvest(config, dataDir);
      console.log('Look at what was archived:');
      console.log(`  npx callvault recordings list --data-dir ${options.dataDir}`);
      console.log(`  npx callvault recordings list --json --provider voipbin --data-dir ${options.dataDir}`);
      console.log(`  npx callvault recordings get <id> --output recording.wav --data-dir ${options.dataDir}`);
      console.log('Run the demo again: everything is already archived, nothing is downloaded twice.');
      process.exitCode = ok ? 0 : 1;
    } finally {
      await fleet.stop();
    }
  });

registerStatus(program);
registerDeployCheck(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const known = error instanceof CallvaultError;
  console.error(known ? `callvault: ${(error as Error).message}` : error);
  process.exitCode = 2;
}
