/**
 * What the commands share. Loaded by every command at start-up, so it imports nothing heavy:
 * the progress bar, the local stack and the harvest load when a command runs.
 */
import { resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import type { CallvaultConfig } from '../../lambdas/core/config.ts';
import { describeLogEvent, type Logger } from '../../lambdas/core/log.ts';
import type { HarvestProgress } from '../../local/harvest.ts';
import type { LocalArchive, LocalIndex } from '../../local/stack.ts';

export const DEFAULT_DATA_DIR = '.callvault';

/** `--data-dir`, as every command that reads or writes the local archive takes it. */
export function dataDirOption(): Option {
  return new Option('--data-dir <dir>', 'where the local archive lives').default(DEFAULT_DATA_DIR);
}

/** The data directory's index alone (no S3 server or client): for commands that only read entries. */
export async function withLocalIndex<T>(dataDir: string, use: (index: LocalIndex) => Promise<T>): Promise<T> {
  const { openLocalIndex } = await import('../../local/stack/local-index.ts');
  const index = await openLocalIndex(resolve(dataDir));
  try {
    return await use(index);
  } finally {
    await index.close();
  }
}

/** Opens the local archive in `dataDir` (the stack loads only now), uses it, and closes it. */
export async function withLocalArchive<T>(
  dataDir: string,
  use: (archive: LocalArchive) => Promise<T>,
): Promise<T> {
  const { openLocalArchive } = await import('../../local/stack.ts');
  const archive = await openLocalArchive(resolve(dataDir));
  try {
    return await use(archive);
  } finally {
    await archive.close();
  }
}

/** Warnings and errors as readable lines (each event's own sentence); `print` keeps the progress bar intact. */
export function terminalLogger(print: (line: string) => void, verbose = false): Logger {
  return {
    info: (event, fields) => verbose && print(describeLogEvent(event, fields)),
    warn: (event, fields) => print(`! ${describeLogEvent(event, fields)}`),
    error: (event, fields) => print(`✗ ${describeLogEvent(event, fields)}`),
  };
}

async function progressDisplay() {
  if (!process.stderr.isTTY) {
    return {
      logger: terminalLogger((line) => process.stderr.write(`${line}\n`)),
      update: (_progress: HarvestProgress) => {},
      stop: () => {},
    };
  }
  const { MultiBar, Presets } = await import('cli-progress');
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

/** One harvest on the local stack with a progress display; true when nothing failed. */
export async function runHarvest(config: CallvaultConfig, dataDir: string): Promise<boolean> {
  const [display, { openLocalStack }, { harvest, harvestSucceeded }, { formatSummary }] = await Promise.all([
    progressDisplay(),
    import('../../local/stack.ts'),
    import('../../local/harvest.ts'),
    import('../../local/report.ts'),
  ]);
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

/** An option parser accepting one of `allowed`. */
export function choice<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string) => {
    if (!allowed.includes(value as T))
      throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}`);
    return value as T;
  };
}

/** Resolves when the process is asked to stop (Ctrl-C, or a service manager's SIGTERM). */
export function untilInterrupted(): Promise<void> {
  return new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
