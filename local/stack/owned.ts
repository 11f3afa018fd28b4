/**
 * The owned stack: this process starts the S3 and DynamoDB servers and runs both synthesized
 * workflows in-process, on one local Step Functions endpoint that `serve` publishes.
 */
import { join } from 'node:path';
import { DynamoProviderSlots } from '../../lambdas/aws/dynamo-slots.ts';
import type { IngestState } from '../../lambdas/core/ingest.ts';
import type { WorkflowStarter } from '../../lambdas/core/ports.ts';
import type { RecordEvent } from '../../lambdas/handlers/record.ts';
import type { SweepStepEvent } from '../../lambdas/handlers/sweep-step.ts';
import { type LocalServers, startLocalServers } from '../servers.ts';
import { type LocalCredentials, randomCredentials } from '../sigv4.ts';
import type { EndedExecution, LocalStackOptions, OwnedLocalStack } from '../stack.ts';
import type { LocalStepFunctionsOptions, TaskHandler } from '../step-functions.ts';
import { LOCAL_REGION, SWEEP_STATE_MACHINE_PATH } from '../template.ts';
import { archiveOf, LOCAL_BUCKET } from './archive.ts';
import { clients } from './clients.ts';
import { LOCAL_TABLE } from './local-index.ts';
import { runtimeFor, stackApi, workflowModules } from './wiring.ts';

/** Starts the servers and runs the synthesized workflow in this process. */
export async function startLocalStack(options: LocalStackOptions): Promise<OwnedLocalStack> {
  const credentials = randomCredentials();
  const serversStarting = startLocalServers(options.dataDir, [LOCAL_BUCKET], credentials, { worker: true });
  const opened: Array<() => Promise<void>> = [];
  try {
    return await openStack(options, credentials, serversStarting, opened);
  } catch (error) {
    // A stack that fails to open (a damaged journal, a failed synthesis) closes what it started:
    // the servers' worker thread and the listening sockets would keep the process running.
    for (const close of opened.reverse()) await close().catch(() => undefined);
    await serversStarting.then(
      (servers) => servers.close(),
      () => undefined,
    );
    throw error;
  }
}

async function openStack(
  options: LocalStackOptions,
  credentials: LocalCredentials,
  serversStarting: Promise<LocalServers>,
  opened: Array<() => Promise<void>>,
): Promise<OwnedLocalStack> {
  const [modules, workflows, { stateMachineAt }, servers, { ensureIndexTable }] = await Promise.all([
    workflowModules(),
    import('../definitions.ts').then(({ loadWorkflows }) => loadWorkflows(options.config, options.dataDir)),
    import('../template.ts'),
    serversStarting,
    import('../table-migration.ts'),
  ]);
  const {
    createArchiveHandler,
    createCheckHandler,
    createRecordHandler,
    createEndedHandler,
    createSweepStepHandler,
    LocalStepFunctions,
    SFNClient,
    SfnExecutionHistory,
    SfnWorkflowStarter,
  } = modules;
  const { s3, dynamo } = await clients({
    s3: servers.s3Endpoint,
    dynamodb: servers.dynamoEndpoint,
    credentials,
  });
  const archive = archiveOf(s3, dynamo, () => servers.close(), options.config.retention);
  await ensureIndexTable(
    dynamo,
    { TableName: LOCAL_TABLE, ...workflows.table },
    options.dataDir,
    options.logger ?? modules.jsonLogger,
  );

  // The handlers need a starter and the local Step Functions need the handlers: the starter is
  // wired once the Step Functions endpoint listens.
  const starters: { ingest?: WorkflowStarter; sweep?: WorkflowStarter } = {};
  const wired = (which: 'ingest' | 'sweep') => {
    const starter = starters[which];
    if (!starter) throw new Error('the local Step Functions endpoint is not listening yet');
    return starter;
  };
  const lateStarter = (which: 'ingest' | 'sweep'): WorkflowStarter => ({
    start: (name, input) => wired(which).start(name, input),
    status: (name) => wired(which).status(name),
  });
  const runtime = runtimeFor(modules, options, archive, lateStarter('ingest'), lateStarter('sweep'));
  const check = createCheckHandler(runtime);
  const archiveTask = createArchiveHandler(runtime);
  const record = createRecordHandler(runtime);
  const sweepStep = createSweepStepHandler(runtime);
  const handlers: Record<string, TaskHandler> = {
    check: (input) => check(input as IngestState),
    archive: (input) => archiveTask(input as IngestState),
    record: (input) => record(input as RecordEvent),
    'sweep-step': (input) => sweepStep(input as SweepStepEvent),
  };
  const machine = (
    path: string | undefined,
    machineName: string,
    journal: string,
    extra: Pick<LocalStepFunctionsOptions, 'executionTimeoutSeconds' | 'onStopped'> = {},
  ) =>
    new LocalStepFunctions({
      ...extra,
      local: stateMachineAt(workflows, path),
      machineName,
      handlers,
      journalPath: join(options.dataDir, journal),
      retryIntervalScale: options.retryIntervalScale,
      concurrency: options.concurrency,
      credentials,
      // Another sweep of the account is waited for in seconds, not the deployed minute.
      waitOverridesMs: { WaitForOtherSweep: 1_000 },
      onTaskError: (state, error) =>
        runtime.logger.warn('workflow task failed', { state, error: error.name, reason: error.message }),
    });
  const stepFunctions = machine(undefined, 'callvault-ingest', 'executions.jsonl', {
    executionTimeoutSeconds: options.executionTimeoutSeconds,
    // What the deployed EventBridge rule does with an ingest execution that ended without an
    // outcome; the sweep has no outcome to record: its checkpoint resumes on the next run.
    onStopped: (detail) => ended({ 'detail-type': 'Step Functions Execution Status Change', detail }),
  });
  const sweepFunctions = machine(SWEEP_STATE_MACHINE_PATH, 'callvault-sweep', 'sweeps.jsonl');
  // One endpoint for both, as Step Functions is one service for every state machine.
  const stepFunctionsEndpoint = await stepFunctions.listen(0, [sweepFunctions]);
  opened.push(() => stepFunctions.close());
  const sfn = new SFNClient({ region: LOCAL_REGION, credentials, endpoint: stepFunctionsEndpoint });
  starters.ingest = new SfnWorkflowStarter(sfn, stepFunctions.stateMachineArn);
  starters.sweep = new SfnWorkflowStarter(sfn, sweepFunctions.stateMachineArn);
  // Declared before any execution runs (and so before onStopped can be called).
  const ended = createEndedHandler({ ...runtime, history: new SfnExecutionHistory(sfn) });
  // A run killed mid-download leaves its provider slots leased for their 90 s: this process owns
  // the data directory now, so nobody else holds them.
  const slots = new DynamoProviderSlots(archive.dynamo, LOCAL_TABLE);
  for (const account of options.config.accounts) await slots.releaseAll(account.id);
  const resumed = [...stepFunctions.resumeUnfinished(), ...sweepFunctions.resumeUnfinished()];
  if (resumed.length > 0) {
    runtime.logger.info('resumed executions a previous run left unfinished', { count: resumed.length });
  }
  const ingestStartedSince = async (accountId: string, since: string) =>
    [...stepFunctions.executions.values()]
      .filter(
        (execution) =>
          execution.startDate >= since &&
          (execution.input as IngestState | undefined)?.ref?.accountId === accountId,
      )
      .map((execution) => execution.name);

  return {
    ...stackApi(modules, options, { runtime, archive, sfn, ingestStartedSince }, async (name) => {
      const execution = stepFunctions.executions.get(name);
      if (!execution) throw new Error(`execution ${name} is not known locally`);
      return (await execution.done) as EndedExecution;
    }),
    stepFunctions,
    sweepFunctions,
    endpoints: {
      s3: servers.s3Endpoint,
      dynamodb: servers.dynamoEndpoint,
      stepFunctions: stepFunctionsEndpoint,
      credentials,
    },
    async close({ waitForExecutions = true } = {}) {
      if (!waitForExecutions) {
        sweepFunctions.abortRunning();
        stepFunctions.abortRunning();
      }
      await Promise.allSettled(
        [...sweepFunctions.executions.values(), ...stepFunctions.executions.values()].map(
          (execution) => execution.done,
        ),
      );
      await stepFunctions.close();
      sfn.destroy();
      await archive.close();
    },
  };
}
