/**
 * `callvault backfill`: archive a window of history through the sweep workflow, locally (the
 * embedded stack, resumable) or `--deployed` (starts the deployed sweep workflow with the user's
 * AWS credentials, through the same SFN client code).
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { dataDirOption } from './common.ts';

interface BackfillOptions {
  config?: string;
  since: string;
  until?: string;
  account?: string[];
  dataDir: string;
  deployed?: boolean;
  stack?: string;
}

/** The options with the window resolved (UTC, `until` defaulted). */
type WindowedOptions = BackfillOptions & { until: string };

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .description('archive a window of history through the sweep workflow (resumable; --deployed for AWS)')
    .option('--config <file>', 'callvault config file (JSON); required unless --deployed with --account')
    .requiredOption('--since <time>', 'start of the window (UTC unless the time says otherwise)')
    .option(
      '--until <time>',
      'end of the window, exclusive (default: the end of today, UTC: run again the same day, it resumes)',
    )
    .option('--account <id>', 'only this account (repeatable)', collect)
    .addOption(dataDirOption())
    .option('--deployed', 'start the deployed sweep workflow instead of the local stack')
    .option('--stack <name>', 'with --deployed: the CloudFormation stack name', 'Callvault')
    .action(async (given: BackfillOptions) => {
      const options = { ...given, ...(await backfillWindow(given)) };
      process.exitCode = (options.deployed ? await deployedBackfill(options) : await localBackfill(options))
        ? 0
        : 1;
    });
}

/**
 * The window in UTC, whatever the host's zone: a time without an offset is UTC. Without
 * `--until` it ends with today (UTC), not now: the window, and so the sweep's name and checkpoint,
 * stay the same when the command runs again that day, and the run resumes instead of starting over.
 */
export async function backfillWindow(
  options: Pick<BackfillOptions, 'since' | 'until'>,
  now = Date.now(),
): Promise<{ since: string; until: string }> {
  // Loaded here, not at start-up: only backfill parses its times with it.
  const { toUtcIso } = await import('../../lambdas/core/time.ts');
  const parse = (name: string, value: string) => {
    const iso = toUtcIso(value);
    if (!iso) throw new InvalidArgumentError(`${name} must be a date or ISO-8601 time, got "${value}"`);
    return iso;
  };
  const since = parse('--since', options.since);
  const endOfToday = `${new Date(now + 86_400_000).toISOString().slice(0, 10)}T00:00:00.000Z`;
  const until = options.until === undefined ? endOfToday : parse('--until', options.until);
  if (until <= since) throw new InvalidArgumentError('--until must be after --since');
  return { since, until };
}

async function accountIds(options: BackfillOptions): Promise<string[]> {
  if (!options.config) {
    if (options.account?.length) return options.account;
    throw new InvalidArgumentError('--config is required (or --deployed with --account)');
  }
  const { loadConfigFile } = await import('../../lambdas/core/config.ts');
  const config = await loadConfigFile(options.config);
  const known = config.accounts.map((account) => account.id);
  for (const id of options.account ?? []) {
    if (!known.includes(id)) throw new InvalidArgumentError(`--account ${id} is not in ${options.config}`);
  }
  return options.account?.length ? options.account : known;
}

async function localBackfill(options: WindowedOptions): Promise<boolean> {
  if (!options.config) throw new InvalidArgumentError('--config is required');
  const [{ loadConfigFile }, { openLocalStack }, { backfill, backfillSucceeded }] = await Promise.all([
    import('../../lambdas/core/config.ts'),
    import('../../local/stack.ts'),
    import('../../local/backfill.ts'),
  ]);
  const config = await loadConfigFile(options.config);
  const ids = await accountIds(options);
  const display = await progressDisplay();
  const stack = await openLocalStack({ config, dataDir: resolve(options.dataDir), logger: display.logger });
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    display.line('stopping: the backfill resumes where it was when run again (Ctrl-C again to quit now)');
    void stack.close({ waitForExecutions: false }).then(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  try {
    const window = { since: options.since, until: options.until };
    display.line(`backfill ${window.since} .. ${window.until} of ${ids.join(', ')}`);
    const result = await backfill(stack, ids, window, display.update);
    display.stop();
    for (const error of result.sweepErrors) console.log(`${error.accountId}: sweep failed: ${error.reason}`);
    for (const problem of result.problems)
      console.log(`${problem.providerRecordingId}: ${problem.status}: ${problem.reason}`);
    console.log(
      `found ${result.found}, archived ${result.archived}, already archived ${result.alreadyDone}, skipped ${result.skipped}, failed ${result.failed}, ${(result.bytes / 1e6).toFixed(1)} MB`,
    );
    return backfillSucceeded(result);
  } finally {
    process.removeListener('SIGINT', stop);
    display.stop();
    if (!stopping) await stack.close();
  }
}

/** A progress bar on a terminal; plain lines (at most one a second, when something moved) otherwise. */
async function progressDisplay() {
  const started = Date.now();
  type Progress = import('../../local/backfill.ts').BackfillProgress;
  const figures = (progress: Progress) => {
    const done = progress.archived + progress.skipped + progress.failed + progress.alreadyDone;
    const seconds = (Date.now() - started) / 1000;
    const rate = done / Math.max(seconds, 0.001);
    const left = progress.found - done;
    const eta = progress.listed && rate > 0 ? `${Math.ceil(left / rate)}s` : '?';
    return { done, rate: rate.toFixed(1), mb: (progress.bytes / 1e6).toFixed(1), eta };
  };
  const logger = (print: (line: string) => void) => ({
    info: () => {},
    warn: (message: string, fields?: Record<string, unknown>) =>
      print(`! ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
    error: (message: string, fields?: Record<string, unknown>) =>
      print(`✗ ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
  });
  if (!process.stderr.isTTY) {
    let last = '';
    let lastAt = 0;
    const line = (text: string) => process.stderr.write(`${text}\n`);
    return {
      logger: logger(line),
      line,
      update: (progress: Progress) => {
        const f = figures(progress);
        const text = `found ${progress.found}${progress.listed ? '' : '+'}, archived ${progress.archived}, skipped ${progress.skipped}, failed ${progress.failed}, already archived ${progress.alreadyDone}, ${f.mb} MB, ${f.rate}/s, ETA ${f.eta}`;
        if (text === last || (Date.now() - lastAt < 1000 && !progress.listed)) return;
        last = text;
        lastAt = Date.now();
        line(text);
      },
      stop: () => {},
    };
  }
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar(
    {
      format:
        ' backfill [{bar}] {value}/{total} | archived {archived} skipped {skipped} failed {failed} | {mb} MB | {rate}/s | ETA {eta}',
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  // Total 1 until something is found: 0 of 0 would show as already full.
  bar.start(1, 0, { archived: 0, skipped: 0, failed: 0, mb: '0.0', rate: '0.0', eta: '?' });
  let stopped = false;
  return {
    logger: logger((text) => process.stderr.write(`\n${text}\n`)),
    line: (text: string) => process.stderr.write(`${text}\n`),
    update: (progress: Progress) => {
      const f = figures(progress);
      if (progress.found > 0) bar.setTotal(progress.found);
      bar.update(f.done, { ...progress, mb: f.mb, rate: f.rate, eta: f.eta });
    },
    stop: () => {
      if (!stopped) bar.stop();
      stopped = true;
    },
  };
}

/**
 * Deployed: finds the stack's sweep workflow (`{stack}-sweep`) and starts one execution per
 * account for the window, named as locally, then follows them to the end. The recordings'
 * outcomes are in the deployed index (`GET /recordings?status=failed`).
 */
async function deployedBackfill(options: WindowedOptions): Promise<boolean> {
  const [
    { ListStateMachinesCommand, SFNClient, DescribeExecutionCommand },
    { SfnWorkflowStarter },
    backfillModule,
  ] = await Promise.all([
    import('@aws-sdk/client-sfn'),
    import('../../lambdas/aws/sfn-starter.ts'),
    import('../../local/backfill.ts'),
  ]);
  const ids = await accountIds(options);
  const sfn = new SFNClient({});
  const machineName = `${options.stack}-sweep`;
  let arn: string | undefined;
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken }));
    arn = page.stateMachines?.find((machine) => machine.name === machineName)?.stateMachineArn;
    nextToken = page.nextToken;
  } while (!arn && nextToken);
  if (!arn)
    throw new InvalidArgumentError(
      `no state machine ${machineName}: is stack ${options.stack} deployed here?`,
    );
  const starter = new SfnWorkflowStarter(sfn, arn);
  const window = { since: options.since, until: options.until };
  let ok = true;
  for (const accountId of ids) {
    const request = { accountId, backfill: window, waitIfBusy: true };
    let name = await backfillModule.startBackfillSweep(starter, request, window);
    console.error(`${accountId}: sweep ${name} started`);
    for (;;) {
      const executionArn = `${arn.replace(':stateMachine:', ':execution:')}:${name}`;
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (described.status === 'RUNNING') {
        await new Promise((done) => setTimeout(done, 2_000));
        continue;
      }
      if (described.status !== 'SUCCEEDED') {
        ok = false;
        console.log(
          `${accountId}: sweep ${name} ${described.status?.toLowerCase()}: ${described.cause ?? ''}`,
        );
        break;
      }
      const state = JSON.parse(described.output ?? '{}') as import('../../lambdas/core/sweep.ts').SweepState;
      if (state.status === 'continued' && state.continuedAs) {
        name = state.continuedAs;
        continue;
      }
      const progress = state.progress;
      console.log(
        `${accountId}: found ${progress?.listed ?? 0}, handed over ${progress?.started ?? 0}, already archived ${progress?.alreadyDone ?? 0}, running ${progress?.alreadyRunning ?? 0}`,
      );
      break;
    }
  }
  sfn.destroy();
  return ok;
}
