/**
 * `npm run bench [-- --quick]`: whole-process start-up timings (startup.ts), the pipeline against
 * the plain ways of doing the same job, peak memory per file size, and the cost model, in one run
 * on loopback. Writes bench/results.md and bench/results.json. `-- --startup` measures only the
 * start-up table and replaces that section of both files. See bench/README.md.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { type AccountConfig, callvaultConfig } from '../lambdas/core/config.ts';
import { silentLogger } from '../lambdas/core/log.ts';
import { LOCAL_BUCKET, startLocalStack } from '../local/stack.ts';
import {
  baseline,
  type Contender,
  rawCopy,
  rclone,
  rcloneVersion,
  sdkDefaultMultipart,
  storageLimit,
  streamedPut,
  type Target,
} from './contenders.ts';
import { type CostModel, PRICES } from './cost.ts';
import { type PipelineRun, startSimulators, type Timing, timePipeline } from './pipeline.ts';
import { type StartupResult, startupReport, startupResult } from './startup.ts';

const quick = process.argv.includes('--quick');
const startupOnly = process.argv.includes('--startup');
const plan = quick
  ? { small: 100, large: 6, memoryMB: [30, 300, 1000] }
  : { small: 500, large: 20, memoryMB: [30, 300, 1000] };
const CONCURRENCY = 8; // the local stack's default per handler
const BYTES_PER_SECOND = 16_000; // the simulators' 8 kHz 16-bit mono PCM
const work = join(import.meta.dirname, '.work');
const mb = (bytes: number) => bytes / 1e6;

async function timeContender(
  contender: Contender,
  account: AccountConfig,
  s3Endpoint: string,
  credentials: Target['credentials'],
) {
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const started = performance.now();
  await contender(account, { s3, s3Endpoint, credentials, bucket: LOCAL_BUCKET, concurrency: CONCURRENCY });
  s3.destroy();
  return (performance.now() - started) / 1000;
}

/** The deployed bundles, as `cdk synth` builds them: minified handler size per function. */
async function bundles(): Promise<{ bytes: Record<string, number>; memoryMiB: Record<string, number> }> {
  const out = join(work, 'cdk.out');
  rmSync(out, { recursive: true, force: true });
  await promisify(execFile)('npx', ['cdk', 'synth', '--quiet', '--output', out], {
    cwd: join(import.meta.dirname, '..'),
  });
  const template = JSON.parse(readFileSync(join(out, 'Callvault.template.json'), 'utf8')) as {
    Resources: Record<
      string,
      { Type: string; Properties: Record<string, never>; Metadata?: Record<string, string> }
    >;
  };
  const bytes: Record<string, number> = {};
  const memoryMiB: Record<string, number> = {};
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const handler = (resource.Properties.Environment as { Variables?: Record<string, string> } | undefined)
      ?.Variables?.CALLVAULT_HANDLER;
    const asset = resource.Metadata?.['aws:asset:path'];
    if (!handler || !asset) continue;
    bytes[handler] = statSync(join(out, asset, 'index.mjs')).size;
    memoryMiB[handler] = resource.Properties.MemorySize ?? 128;
  }
  return { bytes, memoryMiB };
}

/**
 * Peak RSS of archiving one recording of `sizeMB`, in a fresh process: `stack` runs the whole
 * local pipeline (CDK synth included), `archive` only the archive step (see memory-child.ts).
 */
async function peakRss(account: AccountConfig, sizeMB: number, mode: 'stack' | 'archive') {
  const child = promisify(execFile)(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      join(import.meta.dirname, 'memory-child.ts'),
      JSON.stringify(account),
      join(work, `memory-${mode}-${sizeMB}`),
      mode,
    ],
    { maxBuffer: 1 << 20 },
  );
  const { stdout } = await child;
  const { idleRss, peakRss } = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, number>;
  return { sizeMB, idleMB: mb(idleRss ?? 0), peakMB: mb(peakRss ?? 0) };
}

const STARTUP_BEGIN = '<!-- startup -->';
const STARTUP_END = '<!-- /startup -->';

function startupSection(startup: StartupResult): string {
  const beforeFile = join(import.meta.dirname, 'startup-before.json');
  const before = existsSync(beforeFile)
    ? (JSON.parse(readFileSync(beforeFile, 'utf8')) as StartupResult)
    : undefined;
  return `${STARTUP_BEGIN}\n${startupReport(startup, before)}${STARTUP_END}\n`;
}

/** `--startup`: the start-up table alone, replacing its section of the last full run's report. */
async function startupOnlyRun() {
  const startup = await startupResult(join(work, 'startup'));
  const resultsFile = join(import.meta.dirname, 'results.json');
  const markdownFile = join(import.meta.dirname, 'results.md');
  const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
  writeFileSync(resultsFile, `${JSON.stringify({ ...results, startup }, null, 2)}\n`);
  const markdown = existsSync(markdownFile) ? readFileSync(markdownFile, 'utf8') : '';
  const section = startupSection(startup);
  const begin = markdown.indexOf(STARTUP_BEGIN);
  const end = markdown.indexOf(STARTUP_END);
  const updated =
    begin >= 0 && end > begin
      ? markdown.slice(0, begin) + section + markdown.slice(end + STARTUP_END.length + 1)
      : markdown.replace(/\n\n/, `\n\n${section}\n`);
  writeFileSync(markdownFile, updated);
  console.log(section);
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

async function main() {
  const began = performance.now();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  console.log('start-up: whole processes…');
  const startup = await startupResult(join(work, 'startup'));
  const rcloneInstalled = await rcloneVersion();
  const large = 1800; // 30 min of PCM: 28.8 MB
  const accounts = await startSimulators([
    { accountId: 'small', count: plan.small, durationSec: 0.5 },
    { accountId: 'large', count: plan.large, durationSec: large },
    ...plan.memoryMB.map((size) => ({
      accountId: `mem-${size}`,
      count: 1,
      durationSec: (size * 1e6) / BYTES_PER_SECOND,
    })),
  ]);
  console.log('building the deployed bundles (cdk synth)…');
  const built = await bundles();

  const throughput: Record<string, Record<string, Timing & { note?: string }>> = {};
  const pipelines: Record<string, PipelineRun> = {};
  for (const size of ['small', 'large'] as const) {
    const account = accounts[size] as AccountConfig;
    console.log(`${size}: pipeline…`);
    const pipeline = await timePipeline(account, built.memoryMiB, { work, concurrency: CONCURRENCY });
    pipelines[size] = pipeline;
    const rows: Record<string, Timing & { note?: string }> = { pipeline };
    // The contenders write into a stack of their own (same s3rver build, same process layout).
    const dataDir = join(work, `contenders-${size}`);
    const stack = await startLocalStack({
      config: callvaultConfig.parse({ accounts: [account] }),
      dataDir,
      logger: silentLogger,
    });
    const endpoint = await stack.archive.s3.config.endpoint?.();
    const s3Endpoint = `${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`;
    // The local servers take only this run's credentials.
    const { accessKeyId, secretAccessKey } = await stack.archive.s3.config.credentials();
    const contenders: Record<string, Contender | undefined> = {
      baseline,
      'storage limit': storageLimit,
      'SDK multipart, defaults': sdkDefaultMultipart,
      'streamed PutObject': streamedPut,
      'rclone copyurl': rcloneInstalled ? rclone : undefined,
      'raw copy': rawCopy,
    };
    for (const [name, contender] of Object.entries(contenders)) {
      if (!contender) {
        rows[name] = {
          seconds: Number.NaN,
          recordings: 0,
          bytes: 0,
          note: 'rclone not installed (apt-get install rclone)',
        };
        continue;
      }
      console.log(`${size}: ${name}…`);
      rows[name] = {
        seconds: await timeContender(contender, account, s3Endpoint, { accessKeyId, secretAccessKey }),
        recordings: pipeline.recordings,
        bytes: pipeline.bytes,
      };
    }
    await stack.close();
    throughput[size] = rows;
  }

  const memory = [];
  for (const size of plan.memoryMB) {
    console.log(`memory: ${size} MB…`);
    const account = accounts[`mem-${size}`] as AccountConfig;
    const stack = await peakRss(account, size, 'stack');
    const archive = await peakRss(account, size, 'archive');
    memory.push({ ...stack, archiveIdleMB: archive.idleMB, archivePeakMB: archive.peakMB });
  }

  const ratio = (size: string, other: string) =>
    (throughput[size]?.pipeline?.seconds ?? Number.NaN) / (throughput[size]?.[other]?.seconds ?? Number.NaN);
  const rate = (row: Timing | undefined) => (row ? row.recordings / row.seconds : Number.NaN);
  const results = {
    mode: quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    machine: describeMachine(rcloneInstalled),
    plan,
    largeTimeVsLimit: ratio('large', 'storage limit'),
    largeTimeVsBaseline: ratio('large', 'baseline'),
    largeTimeVsRclone: ratio('large', 'rclone copyurl'),
    largeTimeVsRaw: ratio('large', 'raw copy'),
    smallRateVsBaseline: rate(throughput.small?.pipeline) / rate(throughput.small?.baseline),
    peakRssMB: Object.fromEntries(memory.map((row) => [`${row.sizeMB}MB`, round(row.peakMB)])),
    idleRssMB: Object.fromEntries(memory.map((row) => [`${row.sizeMB}MB`, round(row.idleMB)])),
    archivePeakRssMB: Object.fromEntries(memory.map((row) => [`${row.sizeMB}MB`, round(row.archivePeakMB)])),
    archiveIdleRssMB: Object.fromEntries(memory.map((row) => [`${row.sizeMB}MB`, round(row.archiveIdleMB)])),
    transitionsPerRecording: pipelines.large?.cost.perRecording.transitions,
    transitionsReadyAtFirstCheck: pipelines.large?.transitions[0],
    costPer1000Usd: pipelines.large?.cost.per1000Usd.total,
    cost: { small: pipelines.small?.cost, large: pipelines.large?.cost, prices: PRICES },
    bundleBytes: built.bytes,
    lambdaMemoryMiB: built.memoryMiB,
    throughput,
    startup,
    benchSeconds: (performance.now() - began) / 1000,
  };
  writeFileSync(join(import.meta.dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const markdown = report(results);
  writeFileSync(join(import.meta.dirname, 'results.md'), markdown);
  console.log(markdown);
  // The archived test data is over a gigabyte.
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

function round(value: number, digits = 1) {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

function describeMachine(rcloneInstalled: string | undefined) {
  const cpu = cpus();
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    memoryGB: round(totalmem() / 1e9),
    node: process.version,
    rclone: rcloneInstalled ?? 'not installed',
    s3rver: JSON.parse(readFileSync(join(import.meta.dirname, '../node_modules/s3rver/package.json'), 'utf8'))
      .version as string,
    disk: existsSync('/proc/mounts') ? 'local filesystem (see bench/README.md)' : 'unknown',
  };
}

type Results = Record<string, unknown> & {
  throughput: Record<string, Record<string, Timing & { note?: string }>>;
  startup: StartupResult;
};

function report(results: Results): string {
  const lines: string[] = [];
  const fixed = (value: number | undefined, digits = 2) =>
    value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);
  const machine = results.machine as Record<string, unknown>;
  lines.push(`# callvault benchmark (${results.mode} mode, ${results.date})`, '');
  lines.push(
    `Machine: ${machine.cpu}, ${machine.memoryGB} GB RAM, Node ${machine.node}, s3rver ${machine.s3rver}, ${machine.rclone}.`,
    '',
  );
  lines.push(startupSection(results.startup));
  for (const [size, rows] of Object.entries(results.throughput)) {
    const pipeline = rows.pipeline as Timing;
    lines.push(
      `## Throughput: ${size} recordings (${pipeline.recordings} × ${fixed(mb(pipeline.bytes) / pipeline.recordings, 3)} MB, concurrency ${CONCURRENCY})`,
      '',
    );
    lines.push(
      '| contender | seconds | recordings/s | MB/s | pipeline time ÷ this |',
      '| --- | ---: | ---: | ---: | ---: |',
    );
    for (const [name, row] of Object.entries(rows)) {
      lines.push(
        `| ${name} | ${fixed(row.seconds)} | ${fixed(row.recordings / row.seconds, 1)} | ${fixed(mb(row.bytes) / row.seconds, 1)} | ${row.note ?? fixed(pipeline.seconds / row.seconds)} |`,
      );
    }
    lines.push('');
  }
  const peak = results.peakRssMB as Record<string, number>;
  const idle = results.idleRssMB as Record<string, number>;
  const archivePeak = results.archivePeakRssMB as Record<string, number>;
  const archiveIdle = results.archiveIdleRssMB as Record<string, number>;
  lines.push('## Peak RSS archiving one recording (a fresh process per size and mode)', '');
  lines.push(
    'Whole stack: `startLocalStack` (CDK synth in the process) and a harvest. Archive step only:',
    '`archiveRecording` (download → S3) against s3rver, no synth, no workflow. Peak = VmHWM reset',
    'to the idle process just before archiving.',
    '',
  );
  lines.push(
    `| file | ${Object.keys(peak).join(' | ')} |`,
    `| --- |${Object.keys(peak)
      .map(() => ' ---: |')
      .join('')}`,
  );
  const rows: [string, number[]][] = [
    ['archive step only: peak RSS (MB)', Object.values(archivePeak)],
    ['archive step only: idle RSS before (MB)', Object.values(archiveIdle)],
    [
      'archive step only: peak − idle (MB)',
      Object.keys(archivePeak).map((key) => round((archivePeak[key] ?? 0) - (archiveIdle[key] ?? 0))),
    ],
    ['whole stack: peak RSS (MB)', Object.values(peak)],
    ['whole stack: idle RSS before (MB)', Object.values(idle)],
    [
      'whole stack: peak − idle (MB)',
      Object.keys(peak).map((key) => round((peak[key] ?? 0) - (idle[key] ?? 0))),
    ],
  ];
  for (const [label, values] of rows) lines.push(`| ${label} | ${values.join(' | ')} |`);
  lines.push('');
  const cost = results.cost as Record<string, CostModel | undefined>;
  lines.push('## Cost model per archived recording (counted in this run)', '');
  lines.push('| | small | large |', '| --- | ---: | ---: |');
  const perRecording = (cost.large?.perRecording ?? {}) as Record<string, number>;
  for (const key of Object.keys(perRecording)) {
    const small = (cost.small?.perRecording as Record<string, number> | undefined)?.[key];
    lines.push(`| ${key} | ${fixed(small, 3)} | ${fixed(perRecording[key], 3)} |`);
  }
  for (const [key, value] of Object.entries(cost.large?.per1000Usd ?? {})) {
    const small = (cost.small?.per1000Usd as Record<string, number> | undefined)?.[key];
    lines.push(`| $ per 1,000 recordings: ${key} | ${fixed(small, 4)} | ${fixed(value, 4)} |`);
  }
  lines.push('');
  lines.push('## Lambda bundles (cdk synth, minified index.mjs without its source map)', '');
  lines.push('| function | bytes | memory (MiB) |', '| --- | ---: | ---: |');
  const memoryMiB = results.lambdaMemoryMiB as Record<string, number>;
  for (const [name, bytes] of Object.entries(results.bundleBytes as Record<string, number>))
    lines.push(`| ${name} | ${bytes.toLocaleString('en-US')} | ${memoryMiB[name]} |`);
  lines.push('', `Bench run took ${fixed(results.benchSeconds as number, 0)} s.`, '');
  lines.push(readFileSync(join(import.meta.dirname, 'findings.md'), 'utf8'));
  return `${lines.join('\n')}\n`;
}

await (startupOnly ? startupOnlyRun() : main());
