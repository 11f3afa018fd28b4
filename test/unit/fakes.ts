/** In-memory fakes of the core ports and a scriptable provider adapter, for unit tests. */
import { Readable } from 'node:stream';
import type { AccountConfig } from '../../lambdas/core/config.ts';
import type {
  ArchiveStore,
  IndexEntry,
  IndexPage,
  IndexQuery,
  RecordingIndex,
  StoredObject,
  WorkflowStarter,
} from '../../lambdas/core/ports.ts';
import type { Recording, RecordingRef } from '../../lambdas/core/recording.ts';
import type {
  DeleteAnswer,
  ListWindow,
  ProviderAdapter,
  WebhookRecording,
} from '../../lambdas/providers/adapter.ts';
import { type AudioDownload, MeteredStream, ProviderHttp } from '../../lambdas/providers/http.ts';

export const ACCOUNT: AccountConfig = {
  id: 'vb-main',
  provider: 'voipbin',
  baseUrl: 'http://127.0.0.1:9',
  timeZone: 'UTC',
  schedule: 'rate(15 minutes)',
  auth: { token: 'secret-token' },
};

export class FakeIndex implements RecordingIndex {
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
    if (existing?.status === 'archived') return false;
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
  async query(_query: IndexQuery): Promise<IndexPage> {
    return { items: [...this.entries.values()] };
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
  async write(
    key: string,
    body: Readable,
    contentType: string,
    metadata: Record<string, string>,
  ): Promise<void> {
    this.writes.push(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
    // Only a body that ended cleanly becomes an object.
    this.objects.set(key, { body: Buffer.concat(chunks), contentType, metadata });
  }
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
  readonly http = new ProviderHttp({
    accountId: ACCOUNT.id,
    provider: 'voipbin',
    baseUrl: ACCOUNT.baseUrl,
    secrets: ['secret-token'],
  });
  readonly supportsDelete = true;
  readonly listWindows: ListWindow[] = [];
  readonly gets: RecordingRef[] = [];
  readonly downloads: RecordingRef[] = [];
  listed: Recording[] = [];
  current: (ref: RecordingRef) => Recording = (ref) => recording(ref.providerRecordingId);
  body: () => AudioDownload = () => audioDownload([Buffer.from('RIFF\0\0\0\0WAVEfmt data')]);

  async *list(window: ListWindow): AsyncIterable<Recording> {
    this.listWindows.push(window);
    yield* this.listed;
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
