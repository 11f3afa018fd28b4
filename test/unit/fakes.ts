/** In-memory fakes of the core ports and a scriptable provider adapter, for unit tests. */
import { Readable } from 'node:stream';
import type { AccountConfig } from '../../lambdas/core/config.ts';
import type {
  ArchiveStore,
  AudioDownload,
  ComplianceIndex,
  DeleteAnswer,
  IndexEntry,
  IndexPage,
  IndexQuery,
  ListPage,
  ListWindow,
  ProviderAdapter,
  StoredObject,
  SweepLedger,
  SweepRecord,
  WebhookRecording,
  WorkflowStarter,
} from '../../lambdas/core/ports.ts';
import type { Recording, RecordingRef } from '../../lambdas/core/recording.ts';
import { listPages } from '../../lambdas/providers/adapter.ts';
import { MeteredStream } from '../../lambdas/providers/metered-stream.ts';

export const ACCOUNT: AccountConfig = {
  id: 'vb-main',
  provider: 'voipbin',
  baseUrl: 'http://127.0.0.1:9',
  timeZone: 'UTC',
  schedule: 'rate(15 minutes)',
  auth: { token: 'secret-token' },
};

export class FakeIndex implements ComplianceIndex {
  readonly entries = new Map<string, IndexEntry>();
  readonly cursors = new Map<string, string>();
  readonly puts: IndexEntry[] = [];
  getManyCalls: string[][] = [];

  async get(id: string): Promise<IndexEntry | undefined> {
    return this.entries.get(id);
  }
  async getMany(ids: readonly string[]): Promise<Map<string, IndexEntry>> {
    this.getManyCalls.push([...ids]);
    const out = new Map<string, IndexEntry>();
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (entry) out.set(id, entry);
    }
    return out;
  }
  async put(entry: IndexEntry): Promise<boolean> {
    this.puts.push(entry);
    const existing = this.entries.get(entry.id);
    if (existing?.status === 'archived' || existing?.status === 'erased') return false;
    // As DynamoRecordingIndex: a later round wins, the same round and status count once.
    if (entry.status !== 'archived' && entry.round !== undefined && existing?.round !== undefined) {
      if (existing.round > entry.round) return false;
      if (existing.round === entry.round && existing.status === entry.status) return false;
    }
    const failures = (existing?.failures ?? 0) + (entry.status === 'failed' ? 1 : 0);
    this.entries.set(entry.id, {
      ...entry,
      round: entry.round ?? existing?.round,
      failures: failures || undefined,
    });
    return true;
  }
  async patch(
    id: string,
    fields: Partial<IndexEntry>,
    options: { remove?: (keyof IndexEntry)[]; expectStatus?: IndexEntry['status'] } = {},
  ): Promise<boolean> {
    const existing = this.entries.get(id);
    if (!existing || (options.expectStatus && existing.status !== options.expectStatus)) return false;
    const patched = { ...existing, ...fields };
    for (const field of options.remove ?? []) delete patched[field];
    this.entries.set(id, patched);
    return true;
  }
  async query(_query: IndexQuery): Promise<IndexPage> {
    return { items: [...this.entries.values()] };
  }
  async *archivedOn(day: string): AsyncGenerator<IndexEntry> {
    for (const entry of this.entries.values()) if (entry.archivedAt?.startsWith(day)) yield entry;
  }
  async listFailed(query: { accountId?: string }): Promise<IndexPage> {
    return {
      items: [...this.entries.values()].filter(
        (entry) => entry.status === 'failed' && (!query.accountId || entry.accountId === query.accountId),
      ),
    };
  }
  async getCursor(accountId: string): Promise<string | undefined> {
    return this.cursors.get(accountId);
  }
  async setCursor(accountId: string, cursor: string): Promise<void> {
    this.cursors.set(accountId, cursor);
  }
}

/** Sweep checkpoints and leases in memory, with a clock the test moves. */
export class FakeLedger implements SweepLedger {
  readonly records = new Map<string, SweepRecord>();
  readonly leases = new Map<string, { holder: string; expiresAt: number }>();
  /** Every checkpoint written, in order. */
  readonly puts: { accountId: string; pass: string; record: SweepRecord }[] = [];
  now = Date.UTC(2026, 10, 2, 12);

  async get(accountId: string, pass: string): Promise<SweepRecord | undefined> {
    const record = this.records.get(`${accountId}#${pass}`);
    return record && structuredClone(record);
  }
  async put(accountId: string, pass: string, record: SweepRecord): Promise<void> {
    this.puts.push({ accountId, pass, record: structuredClone(record) });
    this.records.set(`${accountId}#${pass}`, structuredClone(record));
  }
  async acquire(accountId: string, holder: string, ttlMs: number): Promise<boolean> {
    const lease = this.leases.get(accountId);
    if (lease && lease.holder !== holder && lease.expiresAt >= this.now) return false;
    this.leases.set(accountId, { holder, expiresAt: this.now + ttlMs });
    return true;
  }
  async release(accountId: string, holder: string): Promise<void> {
    if (this.leases.get(accountId)?.holder === holder) this.leases.set(accountId, { holder, expiresAt: 0 });
  }
  readonly inFlightCounts = new Map<string, number>();
  async inFlight(accountId: string): Promise<number> {
    return Math.max(0, this.inFlightCounts.get(accountId) ?? 0);
  }
  async addInFlight(accountId: string, delta: number): Promise<void> {
    this.inFlightCounts.set(accountId, (this.inFlightCounts.get(accountId) ?? 0) + delta);
  }
  async resetInFlight(accountId: string): Promise<void> {
    this.inFlightCounts.set(accountId, 0);
  }
}

export class FakeStore implements ArchiveStore {
  readonly bucket = 'archive-bucket';
  readonly objects = new Map<
    string,
    { body: Buffer; contentType: string; metadata: Record<string, string> }
  >();
  readonly writes: string[] = [];

  async find(keyPrefix: string): Promise<StoredObject | undefined> {
    for (const [key, object] of this.objects) {
      // As S3ArchiveStore: the prefix plus an extension, nothing longer.
      if (key.startsWith(keyPrefix) && /^[A-Za-z0-9]+$/.test(key.slice(keyPrefix.length))) {
        return {
          bucket: this.bucket,
          key,
          bytes: object.body.length,
          contentType: object.contentType,
          metadata: object.metadata,
        };
      }
    }
    return undefined;
  }
  write: ArchiveStore['write'] = async (key, body, contentType, metadata) => {
    this.writes.push(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
    // Only a body that ended cleanly becomes an object.
    this.objects.set(key, { body: Buffer.concat(chunks), contentType, metadata });
  };
  async read(key: string): Promise<Readable> {
    const object = this.objects.get(key);
    if (!object) throw new Error(`no object ${key}`);
    return Readable.from([object.body]);
  }
}

export class FakeStarter implements WorkflowStarter {
  readonly calls: { name: string; input: unknown }[] = [];
  /** What `status` answers per execution name; any other existing name is running. */
  readonly statuses = new Map<string, 'running' | 'ended' | 'unknown'>();
  constructor(private readonly answer: (name: string) => 'started' | 'exists' | Error = () => 'started') {}
  async start(name: string, input: unknown): Promise<'started' | 'exists'> {
    this.calls.push({ name, input });
    const outcome = this.answer(name);
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }
  async status(name: string): Promise<'running' | 'ended' | 'unknown'> {
    return this.statuses.get(name) ?? 'running';
  }
}

/** A download whose body yields the given chunks; `declared` sets Content-Length (short bodies fail). */
export function audioDownload(chunks: Buffer[], contentType = 'audio/wav', declared?: number): AudioDownload {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const body = new MeteredStream(declared ?? total);
  Readable.from(chunks).pipe(body);
  return { body, contentType, contentLength: declared ?? total };
}

export function recording(providerRecordingId: string, fields: Partial<Recording> = {}): Recording {
  return {
    accountId: ACCOUNT.id,
    provider: 'voipbin',
    providerRecordingId,
    direction: 'inbound',
    readiness: 'ready',
    raw: { id: providerRecordingId },
    ...fields,
  };
}

export class FakeAdapter implements ProviderAdapter {
  readonly account = ACCOUNT;
  readonly who = `voipbin account "${ACCOUNT.id}"`;
  canDelete(_ref: RecordingRef): boolean {
    return true;
  }
  windowedListing = true;
  readonly listWindows: ListWindow[] = [];
  /** Every listPage call: the window and the position asked for. */
  readonly pageCalls: { window: ListWindow; position?: string }[] = [];
  /** Recordings per page; `listed` is cut into pages of this size. */
  pageSize = 1000;
  /** Throws instead of answering the page at this position (a provider outage mid-listing). */
  failAt?: { position: string | undefined; error: Error };
  readonly gets: RecordingRef[] = [];
  readonly downloads: RecordingRef[] = [];
  listed: Recording[] = [];
  current: (ref: RecordingRef) => Recording = (ref) => recording(ref.providerRecordingId);
  body: () => AudioDownload = () => audioDownload([Buffer.from('RIFF\0\0\0\0WAVEfmt data')]);

  async listPage(window: ListWindow, position?: string): Promise<ListPage> {
    this.pageCalls.push({ window, position });
    if (position === undefined) this.listWindows.push(window);
    if (this.failAt && this.failAt.position === position) throw this.failAt.error;
    const start = position === undefined ? 0 : Number(position);
    const end = start + this.pageSize;
    return {
      recordings: this.listed.slice(start, end),
      next: end < this.listed.length ? String(end) : undefined,
    };
  }
  list(window: ListWindow): AsyncIterable<Recording> {
    return listPages((w, p) => this.listPage(w, p), window);
  }
  async get(ref: RecordingRef): Promise<Recording> {
    this.gets.push(ref);
    return this.current(ref);
  }
  async download(ref: RecordingRef): Promise<AudioDownload> {
    this.downloads.push(ref);
    return this.body();
  }
  async delete(_ref: RecordingRef): Promise<DeleteAnswer> {
    return { status: 204, alreadyGone: false };
  }
  parseWebhook(): WebhookRecording[] {
    return [];
  }
}
