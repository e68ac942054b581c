// The object API's work on a (public, capped) store: a write checked against its prefix's cap
// before a byte is read, and a read whose Range is resolved against the object's size. The
// storage operations call these; they know nothing of HTTP.
import { RangeNotSatisfiable, TooLarge } from "../errors.ts";
import { readStreamCapped } from "../lib/capped-stream.ts";
import type { StreamIn } from "../ops/operation.ts";
import { tooLarge } from "./limits.ts";
import { parseRangeHeader, resolveSuffix } from "./range.ts";
import { type ByteRange, type GetResult, type ObjectInfo, type ObjectStore, streamToBytes } from "./store.ts";

export type CappedStore = ObjectStore & { capFor(key: string): number };

const bodyTooLarge = (limit: number) => new TooLarge(`request body is over the ${limit}-byte limit`, { limit_bytes: limit });

/** Bodies up to this size with a declared length are read whole instead of streamed. */
const SMALL_BODY = 64 * 1024;

/** Writes `key` from a streamed body; with onlyIfAbsent it is created only if the key is free (Conflict otherwise). */
export async function putObject(store: CappedStore, key: string, input: StreamIn, onlyIfAbsent: boolean): Promise<ObjectInfo> {
  // capFor also refuses a reserved or invalid key (publicStore), so such an upload is never read.
  const cap = store.capFor(key);
  if ((input.length ?? 0) > cap) throw tooLarge(key, cap);
  // The conditional write needs its bytes up front: read whole, refused (413) as soon as it passes the cap.
  if (onlyIfAbsent) return store.putIfAbsent(key, await readStreamCapped(input.body, input.length, cap, () => bodyTooLarge(cap)));
  // A small body with a declared length is taken whole: cheaper than streaming it through.
  const small = input.length !== undefined && input.length <= SMALL_BODY;
  if (small) {
    const bytes = input.whole ? new Uint8Array(await input.whole()) : input.body ? await streamToBytes(input.body) : new Uint8Array(0);
    // The declared length was under the cap; a body longer than it declared is still held to it.
    if (bytes.byteLength > cap) throw tooLarge(key, cap);
    return store.put(key, bytes, { contentType: input.contentType });
  }
  return store.put(key, input.body ?? new Uint8Array(0), { contentType: input.contentType });
}

/**
 * Reads `key`, or the byte range a Range header asks for (bytes=a-b, a-, -n). Anything else in the
 * header is ignored and the whole object is read, as RFC 9110 allows.
 */
export async function getObject(store: ObjectStore, key: string, rangeHeader: string | undefined): Promise<GetResult> {
  const parsed = parseRangeHeader(rangeHeader);
  let range: ByteRange | undefined;
  if (parsed && "suffix" in parsed) {
    // "The last n bytes" needs the size; a missing object falls through to get's NotFound.
    const info = await store.head(key);
    if (info && (parsed.suffix === 0 || info.size === 0)) throw new RangeNotSatisfiable("empty suffix range", { size: info.size });
    range = info ? resolveSuffix(parsed, info.size) : undefined;
  } else if (parsed) range = parsed;
  return store.get(key, range);
}
