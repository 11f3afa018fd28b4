/**
 * `npx tsx bench/profile.ts [count=500] [concurrency=8] [out.cpuprofile]`: only the pipeline's
 * small-file harvest, CPU-profiled from the start of the harvest to its end (startup, CDK synth
 * and table creation are left out). Summarize with `node bench/summarize-profile.mjs <file>`.
 * Prints the timing and the mean time inside each handler.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import type { AccountConfig } from '../lambdas/core/config.ts';
import { startSimulators, timePipeline } from './pipeline.ts';

const count = Number(process.argv[2] ?? 500);
const concurrency = Number(process.argv[3] ?? 8);
const out = process.argv[4];
const work = join(import.meta.dirname, '.work-profile');
rmSync(work, { recursive: true, force: true });
const accounts = await startSimulators([{ accountId: 'small', count, durationSec: 0.5 }]);
const session = new Session();
session.connect();
const around = out
  ? {
      async before() {
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
      },
      async after() {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(out, JSON.stringify(profile));
      },
    }
  : undefined;
const run = await timePipeline(accounts.small as AccountConfig, {}, { work, concurrency, around });
console.log(
  JSON.stringify({
    count,
    concurrency,
    seconds: run.seconds,
    rate: run.recordings / run.seconds,
    msPerInvocation: Object.fromEntries(
      Object.entries(run.lambdas).map(([name, use]) => [name, Math.round(use.totalMs / use.invocations)]),
    ),
  }),
);
rmSync(work, { recursive: true, force: true });
process.exit(0);
