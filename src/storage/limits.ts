// Size caps per key prefix and a bound on PUTs in flight, wrapped around any backend. The cap is
// enforced while the body streams: the first byte over it fails the stream, and the backend's own
// clean-up (temp file removed, multipart upload aborted) guarantees no partial object remains.
import { TooLarge } from "../errors.ts";
import { cappedStream } from "../lib/capped-stream.ts";
import { Semaphore } from "../lib/semaphore.ts";
import type { Body, ByteRange, ListOptions, ObjectStore } from "./store.ts";

export interface Caps {
  defaultBytes: number;
  prefixes: Record<string, number>;
}

/** The cap for a key: the longest matching prefix wins. */
function capFor(caps: Caps, key: string): number {
  let best = "";
  let cap = caps.defaultBytes;
  for (const [prefix, bytes] of Object.entries(caps.prefixes)) {
    if (key.startsWith(prefix) && prefix.length > best.length) {
      best = prefix;
      cap = bytes;
    }
  }
  return cap;
}

export function tooLarge(key: string, cap: number): TooLarge {
  return new TooLarge(`object "${key}" is over the ${cap}-byte cap for its prefix`, { limit_bytes: cap });
}

function capped(body: Body, key: string, cap: number): Body {
  if (!(body instanceof ReadableStream)) {
    const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    if (size > cap) throw tooLarge(key, cap);
    return body;
  }
  return cappedStream(body, cap, () => tooLarge(key, cap));
}

export function withLimits(inner: ObjectStore, caps: Caps, putConcurrency: number): ObjectStore & { capFor(key: string): number } {
  const puts = new Semaphore(putConcurrency);
  const store: ObjectStore & { capFor(key: string): number } = {
    backend: inner.backend,
    capFor: (key) => capFor(caps, key),
    put: (key, body, opts) => puts.run(() => inner.put(key, capped(body, key, capFor(caps, key)), opts)),
    putIfAbsent: async (key, body) => {
      capped(body, key, capFor(caps, key));
      return puts.run(() => inner.putIfAbsent(key, body));
    },
    get: (key: string, range?: ByteRange) => inner.get(key, range),
    getBytes: (key) => inner.getBytes(key),
    head: (key) => inner.head(key),
    list: (prefix: string, opts?: ListOptions) => inner.list(prefix, opts),
    delete: (key) => inner.delete(key),
    close: () => inner.close(),
  };
  if (inner.localPath) store.localPath = (key) => inner.localPath!(key);
  return store;
}
