/**
 * Child process of the benchmark: archives the one recording of the account it is given through
 * the full local pipeline and prints its peak RSS. A fresh process per file size, so one size's
 * heap does not carry into the next.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { callvaultConfig } from '../lambdas/core/config.ts';
import { silentLogger } from '../lambdas/core/log.ts';
import { harvest } from '../local/harvest.ts';
import { startLocalStack } from '../local/stack.ts';

const [accountJson, dataDir] = process.argv.slice(2);
const config = callvaultConfig.parse({ accounts: [JSON.parse(accountJson ?? '{}')] });
const stack = await startLocalStack({ config, dataDir: dataDir ?? '', logger: silentLogger });

const kib = (field: string) =>
  Number(readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`))?.[1]) * 1024;
// Start the high-water mark from the idle stack: the peak is then what archiving adds to it.
global.gc?.();
writeFileSync('/proc/self/clear_refs', '5');
const idleRss = kib('VmRSS');
const [summary] = await harvest(stack);
const peakRss = kib('VmHWM');
await stack.close();
if (summary?.archived !== 1) throw new Error(`expected one archived recording: ${JSON.stringify(summary)}`);
process.stdout.write(`${JSON.stringify({ idleRss, peakRss })}\n`);
