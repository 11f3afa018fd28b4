/**
 * Step Functions on the laptop: the synthesized definition run by aws-local-stepfunctions, whose
 * Task states call the handlers in-process, behind a small HTTP endpoint that answers the two
 * Step Functions API calls callvault makes (StartExecution, DescribeExecution) so the same
 * SFNClient code runs unchanged. Execution names are remembered in the data directory, so a
 * duplicate start is refused across runs, as Step Functions does.
 */

import { once } from 'node:events';
import { appendFileSync, existsSync, readFileSync, truncateSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import pLimit, { type LimitFunction } from 'p-limit';
import { DataDirectoryError } from '../lambdas/core/errors.ts';
import { settledWithin } from './settle.ts';
import { type LocalCredentials, refuseJson, verifySigV4 } from './sigv4.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalDefinition } from './template.ts';

// aws-local-stepfunctions calls Promise.withResolvers, which Node 20 lacks.
if (!('withResolvers' in Promise)) {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      return { promise, resolve, reject };
    },
  });
}

const CLOSE_BOUND_MS = 10_000;

export type TaskHandler = (input: unknown) => Promise<unknown>;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

/** The `detail` of Step Functions' "Execution Status Change" event, as EventBridge delivers it. */
export interface ExecutionStatusChangeDetail {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  error: string | null;
  cause: string | null;
}

/** What one handler (one Lambda function) did: invocations and time spent inside the handler. */
export interface HandlerStats {
  invocations: number;
  totalMs: number;
}

export interface LocalExecution {
  name: string;
  executionArn: string;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  startDate: string;
  stopDate?: string;
  /** Every state entered, in order: its length is the execution's state transitions. */
  statesEntered: string[];
  /**
   * The last state that exited, and its output: all GetExecutionHistory answers locally, until
   * the execution has ended (and a stopped one was reported to the ended handler).
   */
  lastExited?: { name: string; output: unknown };
  done: Promise<LocalExecution>;
}

export interface LocalStepFunctionsOptions {
  local: LocalDefinition;
  /** Handler name → function, i.e. the Lambda code each Task state invokes. */
  handlers: Record<string, TaskHandler>;
  /** Journal of started and ended executions, so names stay taken and unfinished ones resume. */
  journalPath?: string;
  /**
   * Concurrent invocations per handler, like a Lambda's reserved concurrency. Default 8.
   */
  concurrency?: number;
  /** Multiplies every Retry interval (tests shorten them; 1 keeps the definition's). Default 1. */
  retryIntervalScale?: number;
  /** Told about every error a Task throws (the workflow then retries or catches it). */
  onTaskError?: (stateName: string, error: Error) => void;
  /** The state machine's name in its ARN. Default `callvault-ingest`. */
  machineName?: string;
  /** Wait states whose time is replaced, ms (the sweep's one-minute wait for another sweep). */
  waitOverridesMs?: Record<string, number>;
  /**
   * The execution timeout, instead of the definition's `TimeoutSeconds` (tests shorten it).
   */
  executionTimeoutSeconds?: number;
  /**
   * Told, before the execution counts as ended, about every execution that failed, timed out or
   * was aborted: what EventBridge's rule delivers to the deployed `ended` function.
   */
  onStopped?: (detail: ExecutionStatusChangeDetail) => Promise<unknown>;
  /** The endpoint answers only requests signed with these (its peers' calls included). */
  credentials: LocalCredentials;
}

export const LOCAL_STATE_MACHINE_ARN = localStateMachineArn('callvault-ingest');
export const LOCAL_SWEEP_STATE_MACHINE_ARN = localStateMachineArn('callvault-sweep');

export function localStateMachineArn(machineName: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${machineName}`;
}

export function localExecutionArn(name: string, machineName = 'callvault-ingest'): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${machineName}:${name}`;
}

/** One line of the execution journal (JSON Lines in the data directory). */
export type JournalEntry =
  | { event: 'started'; name: string; input: unknown }
  | { event: 'ended'; name: string; status: ExecutionStatus };

/**
 * The journal's entries. A process that crashed mid-append leaves a torn last line: it is cut off
 * the file (its execution either never started or is still marked started, and resumes), so the
 * next append starts on a line of its own. A bad line before the last is real damage: an error.
 */
export function readJournal(path: string): JournalEntry[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const entries: JournalEntry[] = [];
  let offset = 0;
  for (const [position, line] of lines.entries()) {
    const last = position === lines.length - 1 || (position === lines.length - 2 && lines.at(-1) === '');
    if (line.trim()) {
      const entry = parseEntry(line);
      if (!entry) {
        if (!last)
          throw new DataDirectoryError(`the execution journal ${path} is damaged at line ${position + 1}`);
        truncateSync(path, Buffer.byteLength(text.slice(0, offset)));
        return entries;
      }
      entries.push(entry);
    }
    offset += line.length + 1;
  }
  // A whole entry whose newline was not written yet: end its line before the next append.
  if (text && !text.endsWith('\n')) appendFileSync(path, '\n');
  return entries;
}

function parseEntry(line: string): JournalEntry | undefined {
  try {
    const entry = JSON.parse(line) as Partial<JournalEntry> | null;
    if (typeof entry?.name !== 'string') return undefined;
    if (entry.event === 'started' || (entry.event === 'ended' && typeof entry.status === 'string'))
      return entry as JournalEntry;
  } catch {
    // torn or foreign: the caller decides
  }
  return undefined;
}

export class LocalStepFunctions {
  readonly machineName: string;
  readonly stateMachineArn: string;
  readonly executions = new Map<string, LocalExecution>();
  /** Per handler name, counted as Lambda bills them (the benchmark's cost model reads this). */
  readonly handlerStats = new Map<string, HandlerStats>();
  private readonly machine: StateMachine;
  private readonly taskOverrides: Record<string, (input: unknown) => Promise<never>>;
  private readonly retryOverrides: Record<string, number[]>;
  private readonly knownNames = new Set<string>();
  /** Started by an earlier process that stopped before they ended: name → input. */
  private readonly unfinished = new Map<string, unknown>();
  /** How executions of earlier processes ended, for DescribeExecution. */
  private readonly endedEarlier = new Map<string, ExecutionStatus>();
  private readonly aborts = new Map<string, () => void>();
  /** Handler runs under way: an aborted execution does not stop the one its Task had started. */
  private readonly invocations = new Set<Promise<unknown>>();
  private stopping = false;
  private throttled = 0;
  private server: Server | undefined;

  constructor(private readonly options: LocalStepFunctionsOptions) {
    this.machineName = options.machineName ?? 'callvault-ingest';
    this.stateMachineArn = localStateMachineArn(this.machineName);
    // Every definition comes from a synthesis, which validated it (definitions.ts).
    this.machine = new StateMachine(options.local.definition as never, {
      validationOptions: { noValidate: true },
    });
    const limits = new Map<string, LimitFunction>();
    this.taskOverrides = {};
    for (const [stateName, handlerName] of Object.entries(options.local.taskHandlers)) {
      const handler = options.handlers[handlerName];
      if (!handler) throw new Error(`no local handler "${handlerName}" for Task state ${stateName}`);
      let limit = limits.get(handlerName);
      if (!limit) {
        limit = pLimit(options.concurrency ?? 8);
        limits.set(handlerName, limit);
      }
      const limited = limit;
      const stats = this.handlerStats.get(handlerName) ?? { invocations: 0, totalMs: 0 };
      this.handlerStats.set(handlerName, stats);
      // Timed inside the concurrency limit: queueing is not billed, the handler's run is.
      const timed = async (input: unknown) => {
        const started = performance.now();
        stats.invocations += 1;
        const invocation = handler(input);
        this.invocations.add(invocation);
        try {
          return await invocation;
        } finally {
          this.invocations.delete(invocation);
          stats.totalMs += performance.now() - started;
        }
      };
      this.taskOverrides[stateName] = (input) =>
        limited(() => timed(input)).catch((error: Error) => {
          options.onTaskError?.(stateName, error);
          throw error;
        }) as Promise<never>;
    }
    const scale = options.retryIntervalScale ?? 1;
    this.retryOverrides = {};
    const states = (
      options.local.definition as { States: Record<string, { Retry?: { IntervalSeconds?: number }[] }> }
    ).States;
    for (const [stateName, state] of Object.entries(states)) {
      if (state.Retry && scale !== 1) {
        this.retryOverrides[stateName] = state.Retry.map(
          (retrier) => (retrier.IntervalSeconds ?? 1) * 1000 * scale,
        );
      }
    }
    if (options.journalPath && existsSync(options.journalPath)) {
      for (const entry of readJournal(options.journalPath)) {
        this.knownNames.add(entry.name);
        if (entry.event === 'started') this.unfinished.set(entry.name, entry.input);
        else {
          this.unfinished.delete(entry.name);
          this.endedEarlier.set(entry.name, entry.status);
        }
      }
    }
  }

  /**
   * Runs again every execution that a previous process started but did not see end (it was
   * stopped or crashed). The ingest steps are idempotent, so a rerun finishes the job.
   */
  resumeUnfinished(): LocalExecution[] {
    const resumed = [...this.unfinished].map(([name, input]) => this.launch(name, input));
    this.unfinished.clear();
    return resumed;
  }

  /**
   * Fault knob: the next `count` StartExecution calls are refused with ThrottlingException, as
   * Step Functions does past its start quota.
   */
  throttleStarts(count: number): void {
    this.throttled += count;
  }

  /** Starts an execution; throws ExecutionAlreadyExists for a name used before. */
  start(name: string, input: unknown): LocalExecution {
    if (this.throttled > 0) {
      this.throttled -= 1;
      const error = new Error('Rate exceeded');
      error.name = 'ThrottlingException';
      throw error;
    }
    if (this.knownNames.has(name) || this.executions.has(name)) {
      const error = new Error(`Execution Already Exists: '${this.executionArn(name)}'`);
      error.name = 'ExecutionAlreadyExists';
      throw error;
    }
    this.knownNames.add(name);
    this.journal({ event: 'started', name, input });
    return this.launch(name, input);
  }

  private launch(name: string, input: unknown): LocalExecution {
    const timeoutSeconds =
      this.options.executionTimeoutSeconds ??
      (this.options.local.definition as { TimeoutSeconds?: number }).TimeoutSeconds;
    const run = this.machine.run(input as never, {
      noThrowOnAbort: true,
      overrides: {
        taskResourceLocalHandlers: this.taskOverrides as never,
        retryIntervalOverrides: this.retryOverrides,
        waitTimeOverrides: this.options.waitOverridesMs,
      },
      // What `$$.Execution` holds in AWS (the sweep passes its name as the lease holder).
      context: { Execution: { Name: name, Id: this.executionArn(name) } },
    });
    const execution: LocalExecution = {
      name,
      executionArn: this.executionArn(name),
      status: 'RUNNING',
      input,
      startDate: new Date().toISOString(),
      statesEntered: [],
      done: Promise.resolve(undefined as never),
    };
    const logged = (async () => {
      for await (const event of run.eventLogs) {
        if (event.type === 'StateEntered') execution.statesEntered.push(event.state.name);
        if (event.type === 'StateExited')
          execution.lastExited = { name: event.state.name, output: event.state.output };
      }
    })();
    let timedOut = false;
    // Beyond setTimeout's range (~24.8 days) the timer would fire at once: no local timeout then.
    const timer =
      timeoutSeconds === undefined || timeoutSeconds * 1000 > 2 ** 31 - 1
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            run.abort();
          }, timeoutSeconds * 1000);
    timer?.unref();
    const ended = run.result.then(
      (output) =>
        Object.assign(
          execution,
          timedOut
            ? { status: 'TIMED_OUT', error: 'States.Timeout', stopDate: new Date().toISOString() }
            : { status: 'SUCCEEDED', output, stopDate: new Date().toISOString() },
        ),
      (error: unknown) => {
        const cause = error instanceof ExecutionError ? (error.cause as Error | undefined) : (error as Error);
        return Object.assign(execution, {
          status: 'FAILED',
          error: cause?.name ?? 'States.Runtime',
          cause: cause?.message ?? String(error),
          stopDate: new Date().toISOString(),
        });
      },
    );
    this.aborts.set(name, run.abort);
    execution.done = Promise.all([ended, logged.catch(() => undefined)]).then(async () => {
      clearTimeout(timer);
      this.aborts.delete(name);
      // An execution aborted with the process is not over: the journal keeps it for resume.
      if (this.stopping && execution.status === 'SUCCEEDED' && execution.output === null) {
        execution.status = 'ABORTED';
        return execution;
      }
      if (execution.status !== 'SUCCEEDED') await this.reportStopped(execution);
      // Kept for the ended handler only: a long harvest holds no second copy of every state.
      execution.lastExited = undefined;
      this.journal({ event: 'ended', name, status: execution.status });
      return execution;
    });
    this.executions.set(name, execution);
    return execution;
  }

  /**
   * Serves StartExecution, DescribeExecution, ListExecutions, GetExecutionHistory (its newest
   * exited state only) and ListStateMachines for this state
   * machine and its peers on one loopback endpoint (JSON 1.0, X-Amz-Target, SigV4 verified).
   */
  async listen(port = 0, peers: readonly LocalStepFunctions[] = []): Promise<string> {
    const machines = [this, ...peers];
    this.server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const refusal = verifySigV4(request, this.options.credentials, { payload: Buffer.concat(chunks) });
      if (refusal) {
        refuseJson(response, refusal);
        return;
      }
      const target = String(request.headers['x-amz-target'] ?? '').split('.')[1];
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify(body));
      };
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>;
        if (target === 'ListStateMachines') {
          reply(200, {
            stateMachines: machines.map((machine) => ({
              stateMachineArn: machine.stateMachineArn,
              name: machine.machineName,
              type: 'STANDARD',
              creationDate: 0,
            })),
          });
          return;
        }
        // An execution ARN is the machine's with `execution` and the execution name.
        const machineOf = (arn: string) =>
          machines.find((machine) => arn.startsWith(machine.stateMachineArn)) ??
          machines.find((machine) =>
            arn.startsWith(`${machine.stateMachineArn.replace(':stateMachine:', ':execution:')}:`),
          );
        const machine = machineOf(String(body.stateMachineArn ?? body.executionArn ?? ''));
        if (!machine) {
          reply(400, {
            __type: 'com.amazonaws.swf.service.v2.model#StateMachineDoesNotExist',
            message: `no local state machine for ${body.stateMachineArn ?? body.executionArn}`,
          });
          return;
        }
        reply(200, machine.handle(target, body));
      } catch (error) {
        const name = (error as Error).name;
        const known = [
          'ExecutionAlreadyExists',
          'ExecutionDoesNotExist',
          'UnknownOperationException',
          'ThrottlingException',
        ];
        const type = known.includes(name) ? name : 'InvalidArn';
        reply(400, {
          __type: `com.amazonaws.swf.service.v2.model#${type}`,
          message: (error as Error).message,
        });
      }
    });
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** One API call on this state machine; throws errors named as the service names them. */
  handle(target: string | undefined, body: Record<string, string>): unknown {
    if (target === 'StartExecution') {
      const execution = this.start(String(body.name), JSON.parse(body.input ?? '{}'));
      return { executionArn: execution.executionArn, startDate: Date.parse(execution.startDate) / 1000 };
    }
    if (target === 'DescribeExecution') {
      const name = String(body.executionArn).split(':').pop() ?? '';
      const earlier = this.endedEarlier.get(name);
      if (earlier && !this.executions.has(name)) {
        // Ended in an earlier process: the journal keeps its name and how it ended.
        return {
          executionArn: body.executionArn,
          stateMachineArn: this.stateMachineArn,
          name,
          status: earlier,
        };
      }
      const execution = this.require(name);
      return {
        executionArn: execution.executionArn,
        stateMachineArn: this.stateMachineArn,
        name,
        status: execution.status,
        input: JSON.stringify(execution.input),
        output: execution.output === undefined ? undefined : JSON.stringify(execution.output),
        error: execution.error,
        cause: execution.cause,
        startDate: Date.parse(execution.startDate) / 1000,
        stopDate: execution.stopDate ? Date.parse(execution.stopDate) / 1000 : undefined,
      };
    }
    if (target === 'ListExecutions') {
      // What this process ran, newest first, as the service pages them (one page here).
      const executions = [...this.executions.values()]
        .filter((execution) => !body.statusFilter || execution.status === body.statusFilter)
        .sort((a, b) => b.startDate.localeCompare(a.startDate))
        .map((execution) => ({
          executionArn: execution.executionArn,
          stateMachineArn: this.stateMachineArn,
          name: execution.name,
          status: execution.status,
          startDate: Date.parse(execution.startDate) / 1000,
        }));
      return { executions };
    }
    if (target === 'GetExecutionHistory') {
      // Newest first, as `reverseOrder` asks: only the last exited state is kept (none for an
      // execution of an earlier process).
      const name = String(body.executionArn).split(':').pop() ?? '';
      const last =
        this.endedEarlier.has(name) && !this.executions.has(name) ? undefined : this.require(name).lastExited;
      if (!body.reverseOrder)
        throw new Error('GetExecutionHistory is emulated newest first only (reverseOrder)');
      const events = last
        ? [
            {
              id: 1,
              type: 'TaskStateExited',
              timestamp: Date.now() / 1000,
              stateExitedEventDetails: { name: last.name, output: JSON.stringify(last.output) },
            },
          ]
        : [];
      return { events };
    }
    const error = new Error(`${target} is not emulated locally`);
    error.name = 'UnknownOperationException';
    throw error;
  }

  /** Stops every running execution; they stay unfinished in the journal and resume next start. */
  abortRunning(): void {
    this.stopping = true;
    for (const abort of this.aborts.values()) abort();
  }

  /**
   * Stops serving, once the handler runs under way have ended (as a Lambda finishes its run), or
   * after a bound: a run waiting on a slow provider resumes with its execution next start.
   */
  async close(): Promise<void> {
    await settledWithin(this.invocations, CLOSE_BOUND_MS);
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** As EventBridge would: the status-change event, to the handler the stack's rule targets. */
  private async reportStopped(execution: LocalExecution): Promise<void> {
    try {
      await this.options.onStopped?.({
        executionArn: execution.executionArn,
        stateMachineArn: this.stateMachineArn,
        name: execution.name,
        status: execution.status,
        input: JSON.stringify(execution.input),
        error: execution.error ?? null,
        cause: execution.cause ?? null,
      });
    } catch (error) {
      this.options.onTaskError?.('ExecutionStatusChange', error as Error);
    }
  }

  private journal(entry: JournalEntry): void {
    if (this.options.journalPath) appendFileSync(this.options.journalPath, `${JSON.stringify(entry)}\n`);
  }

  private executionArn(name: string): string {
    return localExecutionArn(name, this.machineName);
  }

  private require(name: string): LocalExecution {
    const execution = this.executions.get(name);
    if (!execution) {
      const error = new Error(`Execution Does Not Exist: '${this.executionArn(name)}'`);
      error.name = 'ExecutionDoesNotExist';
      throw error;
    }
    return execution;
  }
}
