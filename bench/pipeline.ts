/** The pipeline's side of the benchmark, shared by run.ts and profile.ts: simulators and one timed harvest. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type AccountConfig, callvaultConfig } from '../lambdas/core/config.ts';
import { silentLogger } from '../lambdas/core/log.ts';
import { harvest } from '../local/harvest.ts';
import { startLocalStack } from '../local/stack.ts';
import { type CostModel, costModel, countDynamo, countS3, emptyCounts, type LambdaUse } from './cost.ts';
import type { SimSpec } from './sim-server.ts';

/** Starts the simulators in a child process; they live until this process exits. */
export async function startSimulators(specs: SimSpec[]): Promise<Record<string, AccountConfig>> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'sim-server.ts'), JSON.stringify(specs)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  process.on('exit', () => child.kill());
  const [line] = await createInterface({ input: child.stdout })
    [Symbol.asyncIterator]()
    .next()
    .then((r) => [r.value as string]);
  const accounts = JSON.parse(line ?? '[]') as AccountConfig[];
  return Object.fromEntries(accounts.map((account) => [account.id, account]));
}

export interface Timing {
  seconds: number;
  recordings: number;
  bytes: number;
}

export interface PipelineRun extends Timing {
  cost: CostModel;
  /** State transitions of each execution, sorted: a ready recording takes the minimum. */
  transitions: number[];
  /** Invocations and in-handler time per Lambda. */
  lambdas: Record<string, LambdaUse>;
}

export async function timePipeline(
  account: AccountConfig,
  memoryOf: Record<string, number>,
  options: {
    work: string;
    concurrency: number;
    /** Called right before and after the timed harvest (the profiler brackets it). */
    around?: { before(): Promise<void>; after(): Promise<void> };
  },
): Promise<PipelineRun> {
  const dataDir = join(options.work, `pipeline-${account.id}`);
  const config = callvaultConfig.parse({ accounts: [account] });
  const stack = await startLocalStack({
    config,
    dataDir,
    logger: silentLogger,
    concurrency: options.concurrency,
  });
  const counts = emptyCounts();
  countS3(stack.archive.s3, counts);
  countDynamo(stack.archive.dynamo, counts);
  await options.around?.before();
  const started = performance.now();
  const [summary] = await harvest(stack);
  const seconds = (performance.now() - started) / 1000;
  await options.around?.after();
  if (!summary || summary.archived !== summary.listed || summary.listed === 0)
    throw new Error(`the pipeline did not archive everything: ${JSON.stringify(summary)}`);
  const executions = [...stack.stepFunctions.executions.values()];
  const transitions = executions.map((execution) => execution.statesEntered.length).sort((a, b) => a - b);
  // The sweep's units run in the sweep workflow: its handler is counted with the others.
  const lambdas: Record<string, LambdaUse> = {};
  for (const [name, stats] of stack.stepFunctions.handlerStats)
    lambdas[name] = { ...stats, memoryMiB: memoryOf[name] ?? 0 };
  const bytes = executions.reduce(
    (total, execution) => total + ((execution.output as { archive?: { bytes: number } }).archive?.bytes ?? 0),
    0,
  );
  await stack.close();
  return {
    seconds,
    recordings: summary.archived,
    bytes,
    transitions,
    lambdas,
    cost: costModel(
      summary.archived,
      transitions.reduce((a, b) => a + b, 0),
      lambdas,
      counts,
    ),
  };
}
