/**
 * Tamper-evident manifests (chain of custody): `manifests/{yyyy}/{mm}/{dd}.jsonl`, one line per
 * recording archived (or erased) that UTC day — `id, key, versionId, bytes, sha256, archivedAt`
 * (and `erasedAt`) — and a last line with the key and SHA-256 of the manifest before it, so the
 * manifests form a hash chain. Verify recomputes the chain and re-hashes every object named.
 */
import { createHash } from 'node:crypto';
import pMap from 'p-map';
import { ArchiveVerificationError, UsageError } from './errors.ts';
import { eachIndexEntry } from './index-walk.ts';
import { hashStream, readText } from './ingest.ts';
import type { ComplianceStore, RecordingIndex } from './ports.ts';
import { isSpent, type TimeBox } from './time-box.ts';

export const MANIFEST_PREFIX = 'manifests/';

export interface ManifestLine {
  id: string;
  key: string | null;
  versionId: string | null;
  bytes: number | null;
  sha256: string | null;
  archivedAt: string | null;
  erasedAt?: string;
}

export interface ChainLine {
  previousManifest: string | null;
  previousSha256: string | null;
}

export interface ManifestDeps {
  index: RecordingIndex;
  store: ComplianceStore;
  /** What "today" is (UTC); tests move it. */
  now?: () => Date;
}

export function manifestKey(date: string): string {
  const [year, month, day] = date.split('-');
  return `${MANIFEST_PREFIX}${year}/${month}/${day}.jsonl`;
}

const DAY_MS = 86_400_000;
const MANIFEST_KEY = /^manifests\/(\d{4})\/(\d{2})\/(\d{2})\.jsonl$/;

const utcDay = (time: number) => new Date(time).toISOString().slice(0, 10);
const dayStart = (date: string) => Date.parse(`${date}T00:00:00Z`);
const nextDay = (date: string) => utcDay(dayStart(date) + DAY_MS);
/** Days from `from` through `through`, both counted. */
const daysFrom = (from: string, through: string) =>
  Math.round((dayStart(through) - dayStart(from)) / DAY_MS) + 1;
/** `manifests/2025/03/10.jsonl` → `2025-03-10`. */
const dayOf = (key: string) => key.replace(MANIFEST_KEY, '$1-$2-$3');

/** The UTC day before `now`, `yyyy-mm-dd`: the newest day that has ended. */
export function previousUtcDay(now: Date): string {
  return utcDay(now.getTime() - DAY_MS);
}

/**
 * Refuses a day that has not ended in UTC. A manifest is written once, so one written for today
 * would leave out the rest of the day's archives for good, and one for a later day would refuse
 * every day before it (the chain only grows forward).
 */
function assertDayEnded(date: string, now: Date): void {
  const today = utcDay(now.getTime());
  if (date < today) return;
  throw new UsageError(
    date === today
      ? `${date} has not ended yet (UTC): its manifest would leave out the rest of the day's archives; the newest day that can be written is ${previousUtcDay(now)}`
      : `${date} is in the future (today is ${today}, UTC): a manifest for it would refuse every day before it; the newest day that can be written is ${previousUtcDay(now)}`,
  );
}

/** A `--date`: a real calendar day, as `yyyy-mm-dd`, that has ended in UTC. */
export function parseManifestDate(value: string, now: Date = new Date()): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match || Number.isNaN(dayStart(value)) || utcDay(dayStart(value)) !== value) {
    throw new UsageError(`--date must be a day as yyyy-mm-dd, got "${value}"`);
  }
  assertDayEnded(value, now);
  return value;
}

/** Objects whose version is read at once: a day of a busy contact centre is tens of thousands. */
const HEAD_CONCURRENCY = 16;

async function* concat<T>(...sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  for (const source of sources) yield* source;
}

const sha256Of = (text: string) => createHash('sha256').update(text).digest('hex');

async function manifestKeys(store: ComplianceStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(MANIFEST_PREFIX)) {
    if (MANIFEST_KEY.test(object.key)) keys.push(object.key);
  }
  return keys.sort();
}

/** Manifests deleted after they were written: hidden behind a delete marker, their versions kept. */
async function hiddenManifestKeys(store: ComplianceStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.hiddenKeys(MANIFEST_PREFIX)) if (MANIFEST_KEY.test(key)) keys.push(key);
  return keys.sort();
}

const hiddenDetail = (key: string) =>
  `${key} was deleted (a delete marker hides it, its version is kept): restore it by deleting the marker (\`aws s3api list-object-versions --prefix ${key}\` names it)`;

export interface WrittenManifest {
  date: string;
  key: string;
  recordings: number;
  sha256: string;
  previousManifest: string | null;
}

async function writeDay(date: string, deps: ManifestDeps, previous: string | null): Promise<WrittenManifest> {
  const key = manifestKey(date);
  // The day's archives from the index of archive times, and its erasures from the (rare) erased
  // entries: a busy day costs its own entries, not the whole index. Each object's version is
  // read from the store, HEAD_CONCURRENCY at a time.
  const erasedThatDay = async function* () {
    for await (const entry of eachIndexEntry(deps.index, { status: 'erased' }))
      if (entry.erasedAt?.startsWith(date) && !entry.archivedAt?.startsWith(date)) yield entry;
  };
  const day = await pMap(
    concat(deps.index.archivedOn(date), erasedThatDay()),
    async (entry): Promise<ManifestLine> => {
      const erased = entry.status === 'erased';
      const head = !erased && entry.key ? await deps.store.head(entry.key) : undefined;
      const line: ManifestLine = {
        id: entry.id,
        key: entry.key ?? null,
        versionId: head?.versionId ?? null,
        bytes: entry.bytes ?? null,
        sha256: entry.sha256 ?? null,
        archivedAt: entry.archivedAt ?? null,
      };
      if (erased && entry.erasedAt) line.erasedAt = entry.erasedAt;
      return line;
    },
    { concurrency: HEAD_CONCURRENCY },
  );
  day.sort((a, b) => (a.archivedAt ?? '').localeCompare(b.archivedAt ?? '') || a.id.localeCompare(b.id));
  const lines = day.map((line) => JSON.stringify(line));
  const chain: ChainLine = {
    previousManifest: previous,
    previousSha256: previous ? sha256Of(await readText(deps.store, previous)) : null,
  };
  lines.push(JSON.stringify(chain));
  const text = `${lines.join('\n')}\n`;
  await deps.store.putDocument(key, text, 'application/x-ndjson');
  return { date, key, recordings: day.length, sha256: sha256Of(text), previousManifest: previous };
}

export interface ManifestRun {
  /** Oldest first, each chained to the one before. */
  written: WrittenManifest[];
  /** Days due but left to the next run (time box or `maxDays` reached), oldest first. */
  remaining: { from: string; through: string; days: number } | null;
}

export interface ManifestRunOptions {
  /** The last day to write; without it, yesterday (UTC), and nothing to write is no error. */
  through?: string;
  /** Start no further day once the time left is less than the slowest day so far took. */
  timeBox?: TimeBox;
  /** Days written at most in one run. */
  maxDays?: number;
}

/**
 * Writes every day from the one after the newest manifest through `through`, oldest first, each
 * chained to the one before, so a missed run is made up by the next and the chain stays
 * contiguous. With no manifest yet, only `through` (the chain starts there). At least one day is
 * written per run; the rest of a long catch-up waits for the next run once the time box or
 * `maxDays` says so.
 */
export async function writeManifests(
  deps: ManifestDeps,
  options: ManifestRunOptions = {},
): Promise<ManifestRun> {
  const now = deps.now?.() ?? new Date();
  const through =
    options.through === undefined ? previousUtcDay(now) : parseManifestDate(options.through, now);
  const existing = await manifestKeys(deps.store);
  const newest = existing.at(-1);
  if (newest && dayOf(newest) >= utcDay(now.getTime())) {
    // Written early (before days were checked): every day before it would be refused.
    throw new UsageError(
      `${newest} is for a day that has not ended, so no earlier day can be written: the chain is blocked until ${dayOf(newest)} has passed`,
    );
  }
  // A manifest hidden past the newest one would be written again, or passed over, unseen.
  const hidden = (await hiddenManifestKeys(deps.store)).filter((key) => !newest || key > newest);
  if (hidden.length > 0) {
    throw new ArchiveVerificationError(
      `${hiddenDetail(hidden[0] as string)}${hidden.length > 1 ? ` (and ${hidden.length - 1} later ones)` : ''}; no manifest is written until it is back, so the chain is not continued over it`,
    );
  }
  if (newest && dayOf(newest) >= through) {
    if (options.through === undefined) return { written: [], remaining: null };
    const later = existing.find((key) => key >= manifestKey(through)) ?? newest;
    throw new UsageError(
      `${later} already exists: a manifest is written once, and the chain only grows forward (from ${newest})`,
    );
  }
  const written: WrittenManifest[] = [];
  const maxDays = options.maxDays ?? Number.POSITIVE_INFINITY;
  const box = options.timeBox;
  const clock = box?.clock ?? Date.now;
  let previous = newest ?? null;
  let slowest = 0;
  for (let date = newest ? nextDay(dayOf(newest)) : through; date <= through; date = nextDay(date)) {
    const outOfTime = box !== undefined && isSpent({ deadline: box.deadline - slowest, clock });
    if (written.length > 0 && (written.length >= maxDays || outOfTime)) {
      return { written, remaining: { from: date, through, days: daysFrom(date, through) } };
    }
    const started = clock();
    const day = await writeDay(date, deps, previous);
    slowest = Math.max(slowest, clock() - started);
    written.push(day);
    previous = day.key;
  }
  return { written, remaining: null };
}

export interface VerifyFailure {
  manifest: string;
  id?: string;
  detail: string;
}

export interface VerifyResult {
  manifests: number;
  recordings: number;
  failures: VerifyFailure[];
  /** Not failures: what verify cannot tell from a run not made yet (a stale newest manifest). */
  warnings: VerifyFailure[];
}

/** Missing days of one hole named each; a longer hole (years) ends with one line for the rest. */
export const NAMED_MISSING_DAYS = 31;

/**
 * Recomputes the chain (each manifest's last line names the manifest before it and its SHA-256)
 * and re-hashes every object the manifests name. A recording erased since it was listed is
 * checked against its tombstone (the same SHA-256) instead of its deleted bytes. The chain only
 * sees the manifests listed, so the days are checked too: a day with no manifest between the
 * first and the newest fails (the chain would skip it unseen), as does a manifest of a day that
 * had not ended, and so does every manifest hidden behind a delete marker. A newest manifest older
 * than yesterday is a warning, not a failure: it is what a run not made yet looks like (before
 * 00:30 UTC, a local archive written now and then), as much as a newest manifest removed.
 */
export async function verifyManifests(deps: ManifestDeps): Promise<VerifyResult> {
  const result: VerifyResult = { manifests: 0, recordings: 0, failures: [], warnings: [] };
  const now = deps.now?.() ?? new Date();
  const today = utcDay(now.getTime());
  const yesterday = previousUtcDay(now);
  const keys = await manifestKeys(deps.store);
  const hidden = new Set(await hiddenManifestKeys(deps.store));
  for (const key of hidden) result.failures.push({ manifest: key, detail: hiddenDetail(key) });
  let previous: { key: string; sha256: string } | undefined;
  for (const key of keys) {
    result.manifests += 1;
    const date = dayOf(key);
    if (previous) missingDays(dayOf(previous.key), date, yesterday, previous.key, key, hidden, result);
    if (date >= today) {
      result.failures.push({
        manifest: key,
        detail: `is for ${date}, a day that had not ended (today is ${today}, UTC): archives of that day after it was written are in no manifest`,
      });
    }
    const text = await readText(deps.store, key);
    const fail = (detail: string, id?: string) => result.failures.push({ manifest: key, id, detail });
    let parsed: unknown[];
    try {
      parsed = text
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as unknown);
    } catch {
      fail('is not JSON lines');
      previous = { key, sha256: sha256Of(text) };
      continue;
    }
    const chain = parsed.at(-1) as Partial<ChainLine> | undefined;
    const expected = { previousManifest: previous?.key ?? null, previousSha256: previous?.sha256 ?? null };
    if (
      !chain ||
      chain.previousManifest !== expected.previousManifest ||
      chain.previousSha256 !== expected.previousSha256
    ) {
      if (chain?.previousManifest && hidden.has(chain.previousManifest)) {
        fail(`chain broken: its last line names ${chain.previousManifest}, which was deleted`);
      } else
        fail(
          `chain broken: its last line names ${chain?.previousManifest ?? 'no manifest'} (${chain?.previousSha256 ?? 'no hash'}), ` +
            `the manifest before it is ${expected.previousManifest ?? 'none'} (${expected.previousSha256 ?? 'no hash'})`,
        );
    }
    for (const line of parsed.slice(0, -1) as ManifestLine[]) {
      result.recordings += 1;
      if (line.erasedAt || !line.key) continue;
      const entry = await deps.index.get(line.id);
      if (entry?.status === 'erased') {
        if (entry.sha256 !== line.sha256)
          fail(`erased, but its tombstone's SHA-256 ${entry.sha256} differs from ${line.sha256}`, line.id);
        continue;
      }
      const head = await deps.store.head(line.key);
      if (!head) {
        fail(`object ${line.key} is missing`, line.id);
        continue;
      }
      const stored = await hashStream(await deps.store.readVersion(line.key, line.versionId ?? undefined));
      if (stored.sha256 !== line.sha256 || stored.bytes !== line.bytes) {
        fail(
          `object ${line.key} holds ${stored.bytes} bytes with SHA-256 ${stored.sha256}, the manifest says ${line.bytes} bytes, ${line.sha256}`,
          line.id,
        );
      }
    }
    previous = { key, sha256: sha256Of(text) };
  }
  const newest = keys.at(-1);
  if (newest && dayOf(newest) < yesterday) {
    result.warnings.push({
      manifest: newest,
      detail: `the newest manifest is of ${dayOf(newest)}, none of ${nextDay(dayOf(newest))} … ${yesterday}: the next run has not written them yet, or a newer manifest was removed or hidden (a delete marker)`,
    });
  }
  return result;
}

/** The days strictly between two consecutive manifests, up to yesterday: each is a failure. */
function missingDays(
  after: string,
  before: string,
  yesterday: string,
  previousKey: string,
  key: string,
  hidden: ReadonlySet<string>,
  result: VerifyResult,
): void {
  const last = before <= yesterday ? utcDay(dayStart(before) - DAY_MS) : yesterday;
  let named = 0;
  for (let date = nextDay(after); date <= last; date = nextDay(date)) {
    if (named === NAMED_MISSING_DAYS) {
      result.failures.push({
        manifest: manifestKey(date),
        detail: `no manifest for ${date} … ${last} either (${daysFrom(date, last)} more days)`,
      });
      return;
    }
    if (hidden.has(manifestKey(date))) continue; // named as hidden already
    named += 1;
    result.failures.push({
      manifest: manifestKey(date),
      detail: `no manifest for ${date}: the chain goes from ${previousKey} straight to ${key}`,
    });
  }
}
