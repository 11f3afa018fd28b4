/**
 * Whole processes timed from outside, start-up included: what a user waits for. Each command is
 * a fresh `node bin/callvault.mjs …` (median of 3; wall time from spawn to exit, peak RSS from
 * /usr/bin/time when installed, else from the process's own getrusage at exit). The 8 × 28.8 MB
 * harvest is set against a bare SDK stream (a plain-JavaScript process, bare-stream.mjs) and
 * `rclone copyurl` into one s3rver of their own (s3-server.ts).
 *
 * `npx tsx bench/startup.ts --save <file>` writes the figures as JSON (how bench/startup-before.json
 * was made, on the code before the build existed); `npm run bench` calls measureStartup().
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { AccountConfig } from '../lambdas/core/config.ts';
import { basicAuth } from '../lambdas/providers/http.ts';
import { listDownloads, rclone, rcloneVersion } from './contenders.ts';
import type { StartupSimSpec } from './startup-sims.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin/callvault.mjs');
const RUNS = 3;
const LARGE_SECONDS = 1800; // 30 min of 8 kHz 16-bit PCM: 28.8 MB
const LARGE_COUNT = 8;
const CONCURRENCY = 8;
const BUCKET = 'startup-contenders';

export interface ProcessFigure {
  /** Wall time, spawn to exit. */
  seconds: number;
  /** User + system CPU time: steadier than wall time on a machine other work shares. */
  cpuSeconds: number;
  rssMB: number;
}

export interface StartupRow extends ProcessFigure {
  command: string;
  /** Every run, for the record. */
  runs: ProcessFigure[];
  note?: string;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** Without /usr/bin/time: the process reports its own getrusage as it exits (same format). */
const RSS_PROBE =
  "data:text/javascript,process.on('exit',()=>{const u=process.resourceUsage();process.getBuiltinModule('node:fs').writeFileSync(process.env.STARTUP_RSS_FILE,[u.maxRSS,u.userCPUTime/1e6,u.systemCPUTime/1e6].join(' '))})";

/** Runs one process to its end; fails on a non-zero exit unless `allowFailure`. */
async function timeProcess(
  command: string,
  args: string[],
  work: string,
  allowFailure = false,
): Promise<ProcessFigure> {
  const rssFile = join(work, `rss-${process.hrtime.bigint()}`);
  const useTime = existsSync('/usr/bin/time');
  const [file, argv] = useTime
    ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, command, ...args]]
    : [command, args];
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', STARTUP_RSS_FILE: rssFile };
  if (!useTime && command === process.execPath) env.NODE_OPTIONS = `--import=${RSS_PROBE}`;
  const started = performance.now();
  await new Promise<number>((done, fail) => {
    const child = spawn(file, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('exit', (exitCode) => {
      if (exitCode !== 0 && !allowFailure)
        fail(new Error(`${command} ${args.join(' ')} exited ${exitCode}: ${stderr.slice(-2000)}`));
      done(exitCode ?? -1);
    });
  });
  const seconds = (performance.now() - started) / 1000;
  // time(1) writes "Command exited with non-zero status" first when it did: the figures are last.
  const [kib, user, system] = existsSync(rssFile)
    ? (readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number)
    : [];
  rmSync(rssFile, { force: true });
  return {
    seconds,
    cpuSeconds: (user ?? Number.NaN) + (system ?? Number.NaN),
    rssMB: ((kib ?? Number.NaN) * 1024) / 1e6,
  };
}

async function repeat(
  command: string,
  runs: number,
  once: (run: number) => Promise<ProcessFigure>,
  note?: string,
): Promise<StartupRow> {
  const figures: ProcessFigure[] = [];
  for (let run = 0; run < runs; run += 1) figures.push(await once(run));
  return {
    command,
    seconds: median(figures.map((figure) => figure.seconds)),
    cpuSeconds: median(figures.map((figure) => figure.cpuSeconds)),
    rssMB: median(figures.map((figure) => figure.rssMB)),
    runs: figures,
    note,
  };
}

/** A child process that prints one line when ready; it ends when its stdin closes. */
async function startChild(script: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  process.on('exit', () => child.kill());
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => String((await lines.next()).value);
  return { first: await next(), next, write: (line: string) => child.stdin.write(`${line}\n`), child };
}

export async function measureStartup(work: string): Promise<StartupRow[]> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const small = Array.from({ length: 5 }, (_, index) => `small-${index + 1}`);
  const specs: StartupSimSpec[] = [
    ...small.map((accountId) => ({ accountId, count: 6, durationSec: 0.5 })),
    { accountId: 'large', count: LARGE_COUNT, durationSec: LARGE_SECONDS },
    { accountId: 'stream', count: LARGE_COUNT, durationSec: LARGE_SECONDS },
  ];
  const sims = await startChild('startup-sims.ts', [JSON.stringify(specs)]);
  const accounts = Object.fromEntries(
    (JSON.parse(sims.first) as AccountConfig[]).map((account) => [account.id, account]),
  );
  const writeConfig = (name: string, ids: string[]) => {
    const file = join(work, `${name}.json`);
    writeFileSync(file, JSON.stringify({ accounts: ids.map((id) => accounts[id]) }));
    return file;
  };
  const smallConfig = writeConfig('small', small);
  const largeConfig = writeConfig('large', ['large']);
  const cli = (args: string[], allowFailure = false) =>
    timeProcess(process.execPath, [CLI, ...args], work, allowFailure);
  const rows: StartupRow[] = [];

  console.log('startup: --help…');
  rows.push(await repeat('callvault --help', RUNS, () => cli(['--help'])));

  console.log('startup: recordings list…');
  rows.push(
    await repeat(
      'callvault recordings list (new data dir)',
      RUNS,
      (run) => cli(['recordings', 'list', '--data-dir', join(work, `empty-${run}`)], true),
      'answers "no archive"',
    ),
  );
  const smallDir = join(work, 'small-archive');
  const firstSmall = await cli(['harvest', '--config', smallConfig, '--data-dir', smallDir]);
  rows.push({
    command: 'callvault harvest, first run (5 accounts, 30 × 0.5 s calls, new data dir)',
    ...firstSmall,
    runs: [firstSmall],
  });
  rows.push(
    await repeat('callvault recordings list (small archive: 30 entries)', RUNS, () =>
      cli(['recordings', 'list', '--data-dir', smallDir]),
    ),
  );
  console.log('startup: harvest with nothing new…');
  rows.push(
    await repeat('callvault harvest with nothing new (5 accounts)', RUNS, () =>
      cli(['harvest', '--config', smallConfig, '--data-dir', smallDir]),
    ),
  );

  console.log('startup: harvest of 8 × 28.8 MB…');
  const largeDir = join(work, 'large-archive');
  const firstLarge = await cli(['harvest', '--config', largeConfig, '--data-dir', largeDir]);
  rows.push({
    command: 'callvault harvest of 8 × 28.8 MB calls, first run of this config (new data dir)',
    ...firstLarge,
    runs: [firstLarge],
  });
  rmSync(join(largeDir, 's3'), { recursive: true, force: true }); // the disk is not endless
  rows.push(
    await repeat('callvault harvest of 8 new × 28.8 MB calls (data dir in use)', RUNS, async () => {
      sims.write(JSON.stringify({ accountId: 'large', count: LARGE_COUNT, durationSec: LARGE_SECONDS }));
      await sims.next();
      const figure = await cli(['harvest', '--config', largeConfig, '--data-dir', largeDir]);
      rmSync(join(largeDir, 's3'), { recursive: true, force: true });
      return figure;
    }),
  );

  const s3 = await startChild('s3-server.ts', [join(work, 'contenders-s3'), BUCKET]);
  const stream = accounts.stream as AccountConfig;
  const auth = stream.auth as { username: string; password: string };
  rows.push(
    await repeat('bare SDK stream of the same 8 × 28.8 MB (plain-JS process)', RUNS, async (run) => {
      const downloads = (await listDownloads(stream, `bare-${run}`)).map(({ key, url }) => ({
        key,
        url: url.href,
      }));
      return timeProcess(
        process.execPath,
        [
          join(import.meta.dirname, 'bare-stream.mjs'),
          JSON.stringify({
            s3Endpoint: s3.first,
            bucket: BUCKET,
            authorization: basicAuth(auth.username, auth.password),
            concurrency: CONCURRENCY,
            downloads,
          }),
        ],
        work,
      );
    }),
  );
  if (existsSync(join(ROOT, 'dist/local/servers.js'))) {
    rows.push(
      await repeat(
        'bare SDK stream, s3rver in a worker thread of its process, as in callvault',
        RUNS,
        async (run) => {
          const dataDir = join(work, `bare-in-process-${run}`);
          const figure = await timeProcess(
            process.execPath,
            [
              join(import.meta.dirname, 'bare-stream.mjs'),
              JSON.stringify({
                dataDir,
                bucket: BUCKET,
                authorization: basicAuth(auth.username, auth.password),
                concurrency: CONCURRENCY,
                downloads: (await listDownloads(stream, `bare-${run}`)).map(({ key, url }) => ({
                  key,
                  url: url.href,
                })),
              }),
            ],
            work,
          );
          rmSync(dataDir, { recursive: true, force: true });
          return figure;
        },
        'the build in dist/ runs the s3rver',
      ),
    );
  }
  if (await rcloneVersion()) {
    rows.push(
      await repeat('rclone copyurl of the same 8 × 28.8 MB (8 at a time)', RUNS, async () => {
        const started = performance.now();
        await rclone(stream, {
          s3: undefined as never,
          s3Endpoint: s3.first,
          // What bench/s3-server.ts (the server this row writes to) takes.
          credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
          bucket: BUCKET,
          concurrency: CONCURRENCY,
        });
        return { seconds: (performance.now() - started) / 1000, cpuSeconds: Number.NaN, rssMB: Number.NaN };
      }),
    );
  } else {
    rows.push({
      command: 'rclone copyurl',
      seconds: Number.NaN,
      cpuSeconds: Number.NaN,
      rssMB: Number.NaN,
      runs: [],
      note: 'rclone not installed (apt-get install rclone)',
    });
  }
  s3.child.stdin.end();
  sims.child.stdin.end();
  rmSync(work, { recursive: true, force: true });
  return rows;
}

/** Measures and stamps the figures with the commit and the machine's load. */
export async function startupResult(work: string): Promise<StartupResult> {
  const loadAverage = loadavg();
  const rows = await measureStartup(work);
  const { stdout } = await promisify(execFile)('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT });
  return { date: new Date().toISOString(), commit: stdout.trim(), loadAverage, rows };
}

if (process.argv[1] === import.meta.filename) {
  const save = process.argv[process.argv.indexOf('--save') + 1];
  const result = await startupResult(mkdtempSync(join(ROOT, 'bench/.work-startup-')));
  console.log(JSON.stringify(result, null, 2));
  if (process.argv.includes('--save') && save) writeFileSync(save, `${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}

export interface StartupResult {
  date: string;
  commit: string;
  /** Load average at the start: wall times on a shared machine move with it, CPU times less. */
  loadAverage?: number[];
  rows: StartupRow[];
}

const GOALS: Record<string, string> = {
  'callvault --help': '≤ 0.5 s',
  'callvault recordings list (new data dir)': '≤ 1 s, ≤ 200 MB',
  'callvault recordings list (small archive: 30 entries)': '≤ 1 s, ≤ 200 MB',
  'callvault harvest with nothing new (5 accounts)': '≤ 2 s, ≤ 250 MB',
  'callvault harvest of 8 new × 28.8 MB calls (data dir in use)': '≤ 1.15 × bare stream, < rclone',
  'bare SDK stream of the same 8 × 28.8 MB (plain-JS process)': 's3rver in another process',
};

/** The start-up table: before (the tsx + synth-per-run code, bench/startup-before.json) and now. */
export function startupReport(now: StartupResult, before?: StartupResult): string {
  // JSON turns NaN (not measured) into null.
  const fixed = (value: number | null | undefined, digits = 2) =>
    value === undefined || value === null || Number.isNaN(value) ? '—' : value.toFixed(digits);
  const figures = (row: StartupRow | undefined) =>
    row ? `${fixed(row.seconds)} | ${fixed(row.cpuSeconds)} | ${fixed(row.rssMB, 0)}` : '— | — | —';
  const lines = [
    '## Start-up: whole processes, timed from outside (median of 3)',
    '',
    `Each row is a fresh process (\`node bin/callvault.mjs …\`), wall time from spawn to exit, CPU`,
    'time (user + system) and peak RSS from `/usr/bin/time`. Before: the code that ran TypeScript',
    `through tsx and synthesized the CDK stack in every command (commit ${before?.commit ?? '—'},`,
    `${before?.date ?? 'not measured'}, load average ${before?.loadAverage?.map((x) => x.toFixed(1)).join(' / ') ?? '—'}).`,
    `Now: the build in dist/, definitions cached per code + config (commit ${now.commit}, ${now.date},`,
    `load average ${now.loadAverage?.map((x) => x.toFixed(1)).join(' / ') ?? '—'}). On a shared machine the wall`,
    'time moves with the load; the CPU time is the steadier figure.',
    '',
    '| command | before: s | CPU s | MB | now: s | CPU s | MB | goal |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of now.rows) {
    const old = before?.rows.find((candidate) => candidate.command === row.command);
    lines.push(
      `| ${row.command} | ${figures(old)} | ${figures(row)} | ${GOALS[row.command] ?? row.note ?? ''} |`,
    );
  }
  const seconds = (name: string) => now.rows.find((row) => row.command.startsWith(name))?.seconds;
  const harvest = seconds('callvault harvest of 8 new');
  lines.push(
    '',
    `Harvest of 8 new × 28.8 MB ÷ bare SDK stream: ${fixed((harvest ?? Number.NaN) / (seconds('bare SDK stream of') ?? Number.NaN))} (s3rver in another process), ${fixed((harvest ?? Number.NaN) / (seconds('bare SDK stream, s3rver') ?? Number.NaN))} (s3rver in a worker thread, as in callvault); ÷ rclone copyurl: ${fixed((harvest ?? Number.NaN) / (seconds('rclone copyurl') ?? Number.NaN))}.`,
    'The first run of a config synthesizes its definitions once (the "first run" rows); later runs,',
    'in any data directory that holds them, read `workflows.json`.',
    '',
  );
  return lines.join('\n');
}
