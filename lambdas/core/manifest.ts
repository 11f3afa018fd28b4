/**
 * Tamper-evident manifests (chain of custody): `manifests/{yyyy}/{mm}/{dd}.jsonl`, one line per
 * recording archived (or erased) that UTC day — `id, key, versionId, bytes, sha256, archivedAt`
 * (and `erasedAt`) — and a last line with the key and SHA-256 of the manifest before it, so the
 * manifests form a hash chain. Verify recomputes the chain and re-hashes every object named.
 */
import { createHash } from 'node:crypto';
import pMap from 'p-map';
import { UsageError } from './errors.ts';
import { eachIndexEntry } from './index-walk.ts';
import { hashStream } from './ingest.ts';
import type { ComplianceStore, RecordingIndex } from './ports.ts';

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
}

export function manifestKey(date: string): string {
  const [year, month, day] = date.split('-');
  return `${MANIFEST_PREFIX}${year}/${month}/${day}.jsonl`;
}

/** The UTC day before `now`, `yyyy-mm-dd`: what the daily schedule writes. */
export function previousUtcDay(now: Date): string {
  return new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
}

export function parseManifestDate(value: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (
    !match ||
    Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ||
    new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value
  ) {
    throw new UsageError(`--date must be a day as yyyy-mm-dd, got "${value}"`);
  }
  return value;
}

async function readText(store: ComplianceStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
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
    if (/^manifests\/\d{4}\/\d{2}\/\d{2}\.jsonl$/.test(object.key)) keys.push(object.key);
  }
  return keys.sort();
}

/**
 * Writes the manifest of one UTC day, chained to the latest manifest before it. A manifest is
 * written once: the chain only grows forward, so a day that already has one, or that lies before
 * the newest manifest, is refused.
 */
export async function writeManifest(
  date: string,
  deps: ManifestDeps,
): Promise<{ key: string; recordings: number; sha256: string; previousManifest: string | null }> {
  const key = manifestKey(date);
  const existing = await manifestKeys(deps.store);
  const later = existing.filter((other) => other >= key);
  if (later.length > 0) {
    throw new UsageError(
      `${later[0]} already exists: a manifest is written once, and the chain only grows forward (from ${existing.at(-1)})`,
    );
  }
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
  const previous = existing.at(-1) ?? null;
  const chain: ChainLine = {
    previousManifest: previous,
    previousSha256: previous ? sha256Of(await readText(deps.store, previous)) : null,
  };
  lines.push(JSON.stringify(chain));
  const text = `${lines.join('\n')}\n`;
  await deps.store.putDocument(key, text, 'application/x-ndjson');
  return { key, recordings: day.length, sha256: sha256Of(text), previousManifest: previous };
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
}

/**
 * Recomputes the chain (each manifest's last line names the manifest before it and its SHA-256)
 * and re-hashes every object the manifests name. A recording erased since it was listed is
 * checked against its tombstone (the same SHA-256) instead of its deleted bytes.
 */
export async function verifyManifests(deps: ManifestDeps): Promise<VerifyResult> {
  const result: VerifyResult = { manifests: 0, recordings: 0, failures: [] };
  let previous: { key: string; sha256: string } | undefined;
  for (const key of await manifestKeys(deps.store)) {
    result.manifests += 1;
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
  return result;
}
