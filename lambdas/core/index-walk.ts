/** Walking the index without holding it: what reconcile, delete-at-source and manifests read it by. */
import type { IndexEntry, IndexQuery, RecordingIndex } from './ports.ts';

/** Every entry a query matches (an account's, say), page by page, in `listingOrder`. */
export async function* eachIndexEntry(
  index: RecordingIndex,
  query: Omit<IndexQuery, 'cursor' | 'limit'>,
): AsyncGenerator<IndexEntry> {
  let cursor: string | undefined;
  do {
    const page = await index.query({ ...query, cursor, limit: 500 });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}
