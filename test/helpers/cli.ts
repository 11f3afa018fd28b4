/** The CLI as a user runs it: bin/callvault.mjs on the built dist/, in a child process. */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export const CLI = join(import.meta.dirname, '../../bin/callvault.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; resolves with its exit code and output, whether or not it succeeded. */
export function runCli(
  args: string[],
  options: { timeout: number; env?: Record<string, string>; nodeArgs?: string[]; cwd?: string },
): Promise<CliResult> {
  return promisify(execFile)(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeout: options.timeout,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: CliResult) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

/** How many entries of that event (`started`, `ended`) a data directory's execution journal holds. */
export function journalEvents(dataDir: string, event: string): number {
  const journal = join(dataDir, 'executions.jsonl');
  if (!existsSync(journal)) return 0;
  const lines = readFileSync(journal, 'utf8').split('\n');
  lines.pop(); // empty, or a line still being written
  return lines.filter((line) => (JSON.parse(line) as { event: string }).event === event).length;
}

/**
 * Runs the CLI on a data directory and kills it hard (SIGKILL) `graceMs` after its journal
 * holds `started` executions, as a crash or an impatient operator would.
 */
export async function killedCli(
  args: string[],
  dataDir: string,
  options: { started: number; graceMs: number },
): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args, '--data-dir', dataDir], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: 'ignore',
  });
  for (let waited = 0; journalEvents(dataDir, 'started') < options.started && waited < 60_000; waited += 50) {
    await sleep(50);
  }
  await sleep(options.graceMs);
  child.kill('SIGKILL');
  await new Promise((done) => child.once('exit', done));
}
