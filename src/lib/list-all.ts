// Every object under a prefix, across all pages. A store answers one page (at most 1000 keys) per
// call, so a reader that stops at the first page silently misses whatever sorts after it.
import type { ListOptions, ObjectInfo, ObjectStore } from "../storage/store.ts";

/** Yields every object under `prefix` in key order, after `cursor` if given; `limit` sizes the pages. */
export async function* listAll(store: ObjectStore, prefix: string, opts: ListOptions = {}): AsyncGenerator<ObjectInfo> {
  let cursor = opts.cursor;
  do {
    const page = await store.list(prefix, { cursor, limit: opts.limit });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}
