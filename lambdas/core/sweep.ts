/**
 * A sweep of one account, in bounded units. Deployed, each unit is one task of the account's
 * sweep workflow: take the account's lease, read the pass's checkpoint, list one provider page
 * (or one Bandwidth time slice) from the checkpointed position, hand its recordings to the ingest
 * workflow as the account's in-flight executions make room, and store the next position before
 * the next unit. Memory and time per unit are bounded by the page, never by the account's
 * history. The cursor moves only once a pass has completed, so a pass interrupted anywhere
 * resumes from its last checkpoint and loses nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pMap from 'p-map';
import { type AccountConfig, maxConcurrencyOf } from './config.ts';
import { SweepIncompleteError } from './errors.ts';
import { firstRound, handOver, listedState } from './hand-over.ts';
import { recordingId } from './ids.ts';
import type {
  IndexEntry,
  ProviderAdapter,
  RecordingIndex,
  SweepCheckpoint,
  SweepLedger,
  SweepRecord,
  WorkflowStarter,
} from './ports.ts';
import type { Recording } from './recording.ts';

/**
 * How far back an incremental pass looks from the cursor, how often a pass is deep, and how many
 * handed-over executions may be in flight before the next page waits.
 */
export interface SweepSettings {
  lookbackMs: number;
  deepEveryMs: number;
  maxInFlight: number;
}

/** What starts a sweep execution: the scheduler's `{ accountId }`, or a backfill. */
export interface SweepRequest {
  accountId: string;
  /** A window of history to archive; a scheduled sweep has none. */
  backfill?: { since: string; until?: string };
  /** Wait for a sweep of the account that is running instead of ending (backfills do). */
  waitIfBusy?: boolean;
  /** Who holds the lease; the first unit takes the execution's name, continuations inherit it. */
  holder?: string;
  /** How many times this pass continued in a fresh execution (history stays bounded). */
  continuation?: number;
}

export interface SweepProgress {
  passId: string;
  kind: SweepCheckpoint['kind'];
  pages: number;
  listed: number;
  started: number;
  alreadyDone: number;
  alreadyRunning: number;
}

/** The sweep workflow's state between units (and its output). */
export interface SweepState extends SweepRequest {
  holder: string;
  /**
   * `running`: more units; `waiting`: the next unit after `waitSeconds` (the account has enough
   * executions in flight); `done`: the pass completed; `busy`: another sweep has the lease.
   */
  status: 'running' | 'waiting' | 'done' | 'busy' | 'continued';
  waitSeconds?: number;
  /** While waiting: the lowest in-flight count seen, and when it was first seen that low. */
  pacing?: { lowest: number; since: string };
  /** Units run by this execution. */
  units: number;
  progress?: SweepProgress;
  cursor?: string;
  /** The execution the pass continues in (`continued`). */
  continuedAs?: string;
}

export interface SweepStepDeps {
  adapter: ProviderAdapter;
  index: Pick<RecordingIndex, 'getMany' | 'getCursor' | 'setCursor'>;
  ledger: SweepLedger;
  /** Starts ingest executions. */
  starter: WorkflowStarter;
  /** Starts a sweep execution: the continuation of a pass that has run `maxUnits` units. */
  sweepStarter?: Pick<WorkflowStarter, 'start'>;
  settings: SweepSettings;
  /** Lease length; longer than one unit can take (its task timeout). Default 15 minutes. */
  leaseMs?: number;
  /** Units per execution before it continues in a new one (Step Functions' 25,000-event history). */
  maxUnits?: number;
  /** Parallel StartExecution calls. Default 8. */
  concurrency?: number;
  /**
   * How long a unit waits in-process for room to hand over the rest of its page before it
   * checkpoints where it got to and lets the workflow wait. Default 60 s.
   */
  unitBudgetMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

export const DEFAULT_LEASE_MS = 15 * 60_000;
export const DEFAULT_MAX_UNITS = 1_000;

/** The checkpoint key of a request: scheduled passes share one; each backfill window has its own. */
export function passKey(request: SweepRequest): string {
  return request.backfill
    ? `backfill#${request.backfill.since}#${request.backfill.until ?? ''}`
    : 'scheduled';
}

/** One unit of the account's sweep; returns the state for the next unit. */
export async function sweepStep(
  deps: SweepStepDeps,
  state: SweepRequest & Partial<SweepState>,
  executionName: string,
): Promise<SweepState> {
  const { adapter, ledger } = deps;
  const now = deps.now ?? Date.now;
  const accountId = state.accountId;
  const holder = state.holder ?? executionName;
  const { waitSeconds: _waited, pacing: _pacing, ...request } = state;
  const next: SweepState = { ...request, holder, status: 'running', units: (state.units ?? 0) + 1 };
  if (!(await ledger.acquire(accountId, holder, deps.leaseMs ?? DEFAULT_LEASE_MS))) {
    return { ...next, status: 'busy', units: state.units ?? 0 };
  }

  const key = passKey(state);
  const record: SweepRecord = (await ledger.get(accountId, key)) ?? {};
  if (!record.active) await ledger.resetInFlight(accountId);
  const active = record.active ?? (await newPass(deps, state, record, now()));

  // A new pass starts the count at zero: only a pass under way can have enough in flight. Its
  // checkpoint is stored already, so a waiting unit writes nothing.
  const paced = record.active ? await pace(deps, accountId, state.pacing, now()) : { inFlight: 0 };
  if ('status' in paced) return { ...next, ...paced, progress: progressOf(active) };

  if ((state.units ?? 0) >= (deps.maxUnits ?? DEFAULT_MAX_UNITS) && deps.sweepStarter) {
    // The checkpoint is stored: the continuation picks the pass up under the same lease holder.
    await ledger.put(accountId, key, { ...record, active });
    const continuation = (state.continuation ?? 0) + 1;
    const input: SweepRequest = {
      accountId,
      backfill: state.backfill,
      waitIfBusy: state.waitIfBusy,
      holder,
      continuation,
    };
    const continuedAs = `${holder.slice(0, 70)}-c${continuation}`;
    await deps.sweepStarter.start(continuedAs, input);
    return { ...next, status: 'continued', progress: progressOf(active), continuedAs };
  }

  const page = await adapter.listPage(active.window, active.position);
  const handedAll = await handOverAsRoomAllows(deps, accountId, active, page.recordings, paced.inFlight);
  if (!handedAll) {
    // The account stayed full for the unit's whole budget: the rest of the page waits.
    await ledger.put(accountId, key, { ...record, active });
    return { ...next, progress: progressOf(active) };
  }
  active.pages += 1;
  delete active.handedThrough;
  if (page.next !== undefined) {
    active.position = page.next;
    await ledger.put(accountId, key, { ...record, active });
    return { ...next, progress: progressOf(active) };
  }

  // The pass is complete: only now may the cursor move.
  let cursor: string | undefined;
  if (!state.backfill && active.newest) {
    await deps.index.setCursor(accountId, active.newest);
    cursor = active.newest;
  }
  await ledger.put(accountId, key, {
    lastDeepAt: active.kind === 'deep' ? active.startedAt : record.lastDeepAt,
    lastCompletedAt: new Date(now()).toISOString(),
  });
  await ledger.release(accountId, holder);
  return { ...next, status: 'done', progress: progressOf(active), cursor };
}

/**
 * A new pass. A backfill lists its window. A scheduled pass looks back from the cursor by the
 * look-back (the longest call plus the provider's delay: a recording is listed once the call has
 * ended, which may be long after the start the cursor counts from), unless a deep pass is due,
 * there is no cursor yet, or the provider filters client-side anyway: then the whole retention.
 */
async function newPass(
  deps: SweepStepDeps,
  request: SweepRequest,
  record: SweepRecord,
  now: number,
): Promise<SweepCheckpoint> {
  const base = { passId: new Date(now).toISOString(), startedAt: new Date(now).toISOString(), pages: 0 };
  const counts = { listed: 0, started: 0, alreadyDone: 0, alreadyRunning: 0 };
  if (request.backfill) return { ...base, ...counts, kind: 'backfill', window: { ...request.backfill } };
  const cursor = await deps.index.getCursor(request.accountId);
  const deepDue = !record.lastDeepAt || now - Date.parse(record.lastDeepAt) >= deps.settings.deepEveryMs;
  if (!cursor || deepDue || !deps.adapter.windowedListing)
    return { ...base, ...counts, kind: 'deep', window: {} };
  const since = new Date(Date.parse(cursor) - deps.settings.lookbackMs).toISOString();
  return { ...base, ...counts, kind: 'incremental', window: { since } };
}

/** How long a waiting sweep sleeps before it looks at the count again. */
export const PACING_WAIT_SECONDS = 10;
/** A count that has not fallen for this long is stale (a decrement was lost): it is reset. */
export const PACING_STALE_MS = 15 * 60_000;
/** How often a unit with recordings left to hand over looks at the count while it waits. */
const ROOM_POLL_MS = 500;
const DEFAULT_UNIT_BUDGET_MS = 60_000;

/**
 * A unit hands over only while the account has fewer than `maxInFlight` executions in flight:
 * a sweep that handed over a whole history at once would leave thousands of executions
 * contending for the provider's few slots, each backing off further, so that freed slots sit
 * idle. Returns the count when there is room, or the wait when there is none.
 */
async function pace(
  deps: SweepStepDeps,
  accountId: string,
  previous: SweepState['pacing'],
  now: number,
): Promise<{ inFlight: number } | Pick<SweepState, 'status' | 'waitSeconds' | 'pacing'>> {
  const inFlight = await deps.ledger.inFlight(accountId);
  if (inFlight < deps.settings.maxInFlight) return { inFlight };
  const pacing =
    previous && inFlight >= previous.lowest
      ? previous
      : { lowest: inFlight, since: new Date(now).toISOString() };
  if (now - Date.parse(pacing.since) >= PACING_STALE_MS) {
    await deps.ledger.resetInFlight(accountId);
    return { inFlight: 0 };
  }
  return { status: 'waiting', waitSeconds: PACING_WAIT_SECONDS, pacing };
}

/**
 * Hands the page's recordings over in chunks of the room left under `maxInFlight`, waiting
 * in-process for room while the unit's budget lasts, so the account's executions stay few and
 * each waits briefly for a provider slot. Counts into the checkpoint what it handed over; false
 * when the budget ran out first (`handedThrough` then says where the page resumes).
 */
async function handOverAsRoomAllows(
  deps: SweepStepDeps,
  accountId: string,
  active: SweepCheckpoint,
  recordings: readonly Recording[],
  inFlightAtStart: number,
): Promise<boolean> {
  const now = deps.now ?? Date.now;
  const wait = deps.sleep ?? sleep;
  const deadline = now() + (deps.unitBudgetMs ?? DEFAULT_UNIT_BUDGET_MS);
  const rest = notYetHandedOver(recordings, active.handedThrough);
  // One read for the page: what is archived already takes no room, so a page of archived
  // recordings goes by at once.
  const known = await deps.index.getMany(rest.map((recording) => recordingId(recording)));
  let inFlight = inFlightAtStart;
  for (let offset = 0; offset < rest.length; ) {
    const room = deps.settings.maxInFlight - inFlight;
    if (room <= 0) {
      if (now() >= deadline) return false;
      await wait(ROOM_POLL_MS);
      inFlight = await deps.ledger.inFlight(accountId);
      continue;
    }
    let end = offset;
    for (let starts = 0; end < rest.length && starts < room; end += 1) {
      if (mayStart(rest[end] as Recording, known)) starts += 1;
    }
    const chunk = rest.slice(offset, end);
    const counts = await handOverChunk(deps, chunk, known);
    // After the starts: a unit that dies between the two leaves the count low, never stuck high.
    await deps.ledger.addInFlight(accountId, counts.started);
    inFlight += counts.started;
    offset += chunk.length;
    active.listed += chunk.length;
    active.started += counts.started;
    active.alreadyDone += counts.alreadyDone;
    active.alreadyRunning += counts.alreadyRunning;
    if (counts.newest && (!active.newest || counts.newest > active.newest)) active.newest = counts.newest;
    active.handedThrough = recordingId(chunk[chunk.length - 1] as Recording);
  }
  return true;
}

/**
 * The page's recordings after the last one handed over, found by id: a page listed again may
 * have shifted since. Not found, the whole page goes again (a second hand-over finds the
 * executions that exist), so nothing is skipped.
 */
function notYetHandedOver(recordings: readonly Recording[], handedThrough?: string): readonly Recording[] {
  if (!handedThrough) return recordings;
  const last = recordings.findIndex((recording) => recordingId(recording) === handedThrough);
  return recordings.slice(last + 1);
}

interface PageCounts {
  started: number;
  alreadyDone: number;
  alreadyRunning: number;
  newest?: string;
}

/**
 * Whether handing the recording over may start an execution: not when it is archived or erased,
 * nor when it was skipped as gone and the provider does not list it as ready now.
 */
function mayStart(recording: Recording, known: ReadonlyMap<string, IndexEntry>): boolean {
  const entry = known.get(recordingId(recording));
  if (entry?.status === 'skipped' && recording.readiness !== 'ready') return false;
  return firstRound(entry) !== undefined;
}

/** Hands recordings over; any that could not be handed over fails the unit (it is retried). */
async function handOverChunk(
  deps: SweepStepDeps,
  recordings: readonly Recording[],
  known: ReadonlyMap<string, IndexEntry>,
): Promise<PageCounts> {
  const counts: PageCounts = { started: 0, alreadyDone: 0, alreadyRunning: 0 };
  const failures: string[] = [];
  await pMap(
    recordings,
    async (recording) => {
      const entry = known.get(recordingId(recording));
      if (recording.startedAt && (!counts.newest || recording.startedAt > counts.newest))
        counts.newest = recording.startedAt;
      if (!mayStart(recording, known)) {
        counts.alreadyDone += 1;
        return;
      }
      const input = { ...listedState(recording), paced: true };
      try {
        const handed = await handOver(input, entry, deps.starter);
        if (handed.outcome === 'started') counts.started += 1;
        else if (handed.outcome === 'running') counts.alreadyRunning += 1;
        else counts.alreadyDone += 1;
      } catch (error) {
        failures.push(`${recording.providerRecordingId}: ${(error as Error).message}`);
      }
    },
    { concurrency: deps.concurrency ?? 8 },
  );
  if (failures.length > 0) {
    throw new SweepIncompleteError(
      `${deps.adapter.who}: ${failures.length} of ${recordings.length} recordings of a page could not be handed to the workflow (first: ${failures[0]}); the pass resumes from its last checkpoint`,
    );
  }
  return counts;
}

function progressOf(active: SweepCheckpoint): SweepProgress {
  const { passId, kind, pages, listed, started, alreadyDone, alreadyRunning } = active;
  return { passId, kind, pages, listed, started, alreadyDone, alreadyRunning };
}

/**
 * Enough executions per provider slot that a freed slot is taken at once (the others are in
 * their other steps, or waiting), and few enough that none waits long for a slot.
 */
export const IN_FLIGHT_PER_SLOT = 4;

/** Longer than any call plus any provider's delay in listing it, by a wide margin. */
export const DEFAULT_LOOKBACK_HOURS = 24;
/** Weekly: well inside every provider's retention (Infobip keeps files two months). */
export const DEFAULT_DEEP_SWEEP_EVERY_HOURS = 168;

/** An account's sweep settings, from its `sweep` block. */
export function sweepSettings(
  account: Pick<AccountConfig, 'sweep' | 'provider' | 'maxConcurrency'>,
): SweepSettings {
  return {
    lookbackMs: (account.sweep?.lookbackHours ?? DEFAULT_LOOKBACK_HOURS) * 3_600_000,
    deepEveryMs: (account.sweep?.deepSweepEveryHours ?? DEFAULT_DEEP_SWEEP_EVERY_HOURS) * 3_600_000,
    maxInFlight: account.sweep?.maxInFlight ?? IN_FLIGHT_PER_SLOT * maxConcurrencyOf(account),
  };
}
