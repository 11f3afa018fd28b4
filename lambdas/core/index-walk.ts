/** Walking the index without holding it: what reconcile, delete-at-source and manifests read it by. */
import type { IndexEntry, RecordingIndex } from './ports.ts';

/** Entries of the account (or of the whole index), page by page, in `listingOrder`. */
export async function* eachIndexEntry(index: RecordingIndex, accountId?: string): AsyncGenerator<IndexEntry> {
  let cursor: string | undefined;
  do {
    const page = await index.query({ accountId, cursor, limit: 500 });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}
