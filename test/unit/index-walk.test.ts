import { describe, expect, it } from 'vitest';
import { eachIndexEntry } from '../../lambdas/core/index-walk.ts';
import type { IndexQuery } from '../../lambdas/core/ports.ts';
import { FakeIndex } from './fakes.ts';

/** The fake index answering in pages of three, as DynamoDB does when a page fills its 1 MB. */
class PagedIndex extends FakeIndex {
  readonly queries: IndexQuery[] = [];
  override async query(query: IndexQuery) {
    this.queries.push(query);
    const all = [...this.entries.values()].filter((entry) => entry.accountId === query.accountId);
    const start = Number(query.cursor ?? 0);
    const items = all.slice(start, start + 3);
    return { items, ...(start + 3 < all.length ? { cursor: String(start + 3) } : {}) };
  }
}

describe('eachIndexEntry (what reconcile, delete-at-source and manifests walk)', () => {
  it('yields every entry of the account across pages, each page asked with the last cursor', async () => {
    const index = new PagedIndex();
    for (let at = 0; at < 8; at += 1) {
      await index.put({
        id: `id${at}`,
        accountId: 'a',
        provider: 'voipbin',
        providerRecordingId: `r${at}`,
        status: 'archived',
        updatedAt: '2026-12-03T00:00:00.000Z',
      });
    }
    const walked: string[] = [];
    for await (const entry of eachIndexEntry(index, { accountId: 'a' })) walked.push(entry.id);
    expect(walked).toEqual(['id0', 'id1', 'id2', 'id3', 'id4', 'id5', 'id6', 'id7']);
    expect(index.queries.map((query) => query.cursor)).toEqual([undefined, '3', '6']);
  });
});
