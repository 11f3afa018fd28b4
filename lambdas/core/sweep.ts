/**
 * A sweep over one account: list what the provider has since the account's cursor (minus an
 * overlap window, so late arrivals and ties at the edge are seen again), hand every recording not
 * yet archived to the ingest workflow, and move the cursor only past what was handed over.
 */
import pMap from 'p-map';
import type { ProviderAdapter } from '../providers/adapter.ts';
import { SweepIncompleteError } from './errors.ts';
import { handOver, listedState } from './hand-over.ts';
import { recordingId } from './ids.ts';
import type { RecordingIndex, WorkflowStarter } from './ports.ts';
import type { Recording } from './recording.ts';

export interface SweepDeps {
  adapter: ProviderAdapter;
  index: RecordingIndex;
  starter: WorkflowStarter;
  /** How far before the cursor each sweep looks again. Default one hour. */
  overlapMs?: number;
  /** Parallel StartExecution calls. Default 8. */
  concurrency?: number;
}

export interface SweepResult {
  accountId: string;
  listed: number;
  /** Executions started by this sweep. */
  started: string[];
  /** Already archived, or skipped and still gone: nothing to do. */
  alreadyDone: number;
  /** An execution of that name existed: handed over before. */
  alreadyRunning: number;
  cursor?: string;
}

export async function sweepAccount(deps: SweepDeps): Promise<SweepResult> {
  const { adapter, index, starter } = deps;
  const accountId = adapter.account.id;
  const cursor = await index.getCursor(accountId);
  const since = cursor
    ? new Date(Date.parse(cursor) - (deps.overlapMs ?? 3_600_000)).toISOString()
    : undefined;

  const listed: Recording[] = [];
  for await (const recording of adapter.list({ since })) listed.push(recording);
  // Oldest first, so the cursor can stop at the first recording that could not be handed over.
  listed.sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));

  const known = await index.getMany(listed.map((recording) => recordingId(recording)));
  const result: SweepResult = {
    accountId,
    listed: listed.length,
    started: [],
    alreadyDone: 0,
    alreadyRunning: 0,
  };
  const startFailures: string[] = [];
  const handedOver = await pMap(
    listed,
    async (recording) => {
      const entry = known.get(recordingId(recording));
      // A recording skipped as gone is tried again only if the provider now lists it as ready.
      if (entry?.status === 'skipped' && recording.readiness !== 'ready') {
        result.alreadyDone += 1;
        return true;
      }
      const input = listedState(recording);
      try {
        const handed = await handOver(input, entry, starter);
        if (handed.outcome === 'started') result.started.push(handed.name);
        else if (handed.outcome === 'running') result.alreadyRunning += 1;
        else result.alreadyDone += 1;
        return true;
      } catch (error) {
        startFailures.push(`${recording.providerRecordingId}: ${(error as Error).message}`);
        return false;
      }
    },
    { concurrency: deps.concurrency ?? 8 },
  );

  let newCursor = cursor;
  for (const [position, recording] of listed.entries()) {
    if (!handedOver[position]) break;
    if (recording.startedAt && (!newCursor || recording.startedAt > newCursor))
      newCursor = recording.startedAt;
  }
  if (newCursor && newCursor !== cursor) await index.setCursor(accountId, newCursor);
  result.cursor = newCursor;
  if (startFailures.length > 0) {
    throw new SweepIncompleteError(
      `${adapter.http.who}: ${startFailures.length} of ${listed.length} recordings could not be handed to the workflow (first: ${startFailures[0]}); the cursor stays at ${newCursor ?? 'the beginning'}`,
    );
  }
  return result;
}
