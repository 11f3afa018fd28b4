/**
 * Child process of the benchmark: archives the one recording of the account it is given and
 * prints its peak RSS. A fresh process per file size, so one size's heap does not carry into the
 * next. Two modes:
 * - `stack`: the full local pipeline (`startLocalStack`, which synthesizes the CDK app in this
 *   process, then a harvest), as `callvault harvest` runs it;
 * - `archive`: only the archive step (`archiveRecording`: provider download → S3 upload, counted
 *   and hashed) against the local S3 server, no CDK synth, no workflow: what archiving costs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type AccountConfig, callvaultConfig } from '../lambdas/core/config.ts';
import { archiveRecording } from '../lambdas/core/ingest.ts';
import { silentLogger } from '../lambdas/core/log.ts';
import type { Recording } from '../lambdas/core/recording.ts';
import { createAdapter } from '../lambdas/providers/index.ts';
import { harvest } from '../local/harvest.ts';
import { openLocalArchive, startLocalStack } from '../local/stack.ts';

const [accountJson, dataDir = '', mode = 'stack'] = process.argv.slice(2);
const account = JSON.parse(accountJson ?? '{}') as AccountConfig;

const kib = (field: string) =>
  Number(readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`))?.[1]) * 1024;
// Start the high-water mark from the idle process: the peak is then what archiving adds to it.
const resetPeak = () => {
  global.gc?.();
  writeFileSync('/proc/self/clear_refs', '5');
  return kib('VmRSS');
};

let idleRss: number;
let peakRss: number;
if (mode === 'archive') {
  const archive = await openLocalArchive(dataDir);
  const adapter = createAdapter(account, { logger: silentLogger });
  let recording: Recording | undefined;
  for await (const listed of adapter.list({})) recording ??= listed;
  if (!recording) throw new Error('the account lists no recording');
  idleRss = resetPeak();
  const result = await archiveRecording(
    { ref: recording, recording: { ...recording, raw: undefined } },
    { adapterFor: async () => adapter, index: archive.index, store: archive.store },
  );
  peakRss = kib('VmHWM');
  await archive.close();
  if (result.bytes === 0) throw new Error('nothing archived');
} else {
  const config = callvaultConfig.parse({ accounts: [account] });
  const stack = await startLocalStack({ config, dataDir, logger: silentLogger });
  idleRss = resetPeak();
  const [summary] = await harvest(stack);
  peakRss = kib('VmHWM');
  await stack.close();
  if (summary?.archived !== 1) throw new Error(`expected one archived recording: ${JSON.stringify(summary)}`);
}
process.stdout.write(`${JSON.stringify({ idleRss, peakRss })}\n`);
