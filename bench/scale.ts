/**
 * The scale section of `npm run bench`: a harvest of 1,000 and of 10,000 small recordings on one
 * account (rate and peak RSS side by side), and a simulated first sweep of 1,000,000 listed
 * recordings, all already archived (peak RSS, seconds per 100,000). Each in a fresh process
 * (bench/scale-child.ts). Returns the section's Markdown.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

interface HarvestRun {
  count: number;
  seconds: number;
  rate: number;
  idleRss: number;
  peakRss: number;
}
interface SweepRun {
  count: number;
  seconds: number;
  units: number;
  idleRss: number;
  peakRss: number;
  secondsPer100k: number[];
}

const child = async <T>(work: string, ...args: string[]): Promise<T> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'scale-child.ts'), ...args, work],
    { maxBuffer: 1 << 20, timeout: 3_600_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T;
};

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

export async function scaleSection(
  work: string,
  sizes = [1_000, 10_000],
  listed = 1_000_000,
): Promise<string> {
  const harvests: HarvestRun[] = [];
  for (const size of sizes) harvests.push(await child<HarvestRun>(work, 'harvest', String(size)));
  const sweep = await child<SweepRun>(work, 'first-sweep', String(listed));
  const [small, large] = harvests as [HarvestRun, HarvestRun];
  const lines = [
    `## Scale: one account growing ${large.count / small.count}× (harvest, small recordings, fresh process each)`,
    '',
    '| recordings | seconds | recordings/s | idle RSS MiB | peak RSS MiB |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...harvests.map(
      (run) =>
        `| ${run.count} | ${run.seconds.toFixed(1)} | ${run.rate.toFixed(1)} | ${mib(run.idleRss)} | ${mib(run.peakRss)} |`,
    ),
    '',
    `Peak RSS ${(large.peakRss / small.peakRss).toFixed(2)}× (goal ≤ 1.3×), rate ${(large.rate / small.rate).toFixed(2)}× (goal ≥ 0.8×).`,
    '',
    `## Scale: a simulated first sweep of ${listed.toLocaleString('en-US')} listed recordings, all already archived`,
    '',
    'The sweep engine alone (lambdas/core/sweep.ts), one unit per 1,000-recording page, the index answering',
    '"archived" from memory: what listing and checking cost the sweep itself, without DynamoDB or provider latency.',
    '',
    '| units | seconds | seconds per 100,000 (min / median / max) | idle RSS MiB | peak RSS MiB |',
    '| ---: | ---: | ---: | ---: | ---: |',
    (() => {
      const sorted = [...sweep.secondsPer100k].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
      return `| ${sweep.units} | ${sweep.seconds.toFixed(1)} | ${(sorted[0] ?? 0).toFixed(2)} / ${median.toFixed(2)} / ${(sorted.at(-1) ?? 0).toFixed(2)} | ${mib(sweep.idleRss)} | ${mib(sweep.peakRss)} |`;
    })(),
    '',
  ];
  return lines.join('\n');
}

// `tsx bench/scale.ts`: the section alone, printed.
if (process.argv[1]?.endsWith('scale.ts')) {
  const quick = process.argv.includes('--quick');
  process.stdout.write(
    await scaleSection(
      join(import.meta.dirname, '.work'),
      quick ? [200, 2_000] : [1_000, 10_000],
      quick ? 100_000 : 1_000_000,
    ),
  );
}
