// Reads one JSON record from the store and validates it, under a byte cap. A missing object, one
// over the cap, bytes that are not UTF-8 JSON and JSON the schema rejects all come back as a
// problem (readJson: null), so the caller decides whether that is absence or damage to report; any
// other failure (the store is unreachable) is thrown, because it says nothing about the object.
//
// The cap is checked against the size the store reports when the object is opened, before a byte
// of the body is read, and again while it streams: a 200 MiB object under a record's key costs an
// open and a close at start-up, never 200 MiB of memory (test/lib/read-json.test.ts).
import * as v from "valibot";
import { NotFound } from "../errors.ts";
import type { ObjectStore } from "../storage/store.ts";

export type JsonProblem = "missing" | "too_large" | "not_json" | "invalid";

export type JsonRead<T> = { ok: true; value: T; bytes: number } | { ok: false; problem: JsonProblem };

export interface ReadJsonOptions {
  /** The largest record its writer can produce (each caller says why); anything larger is damage. */
  maxBytes: number;
}

/** Reads and validates `key`; says what is wrong with it instead of throwing, unless the store failed. */
export async function readJsonChecked<S extends v.GenericSchema>(
  store: ObjectStore,
  key: string,
  schema: S,
  opts: ReadJsonOptions,
): Promise<JsonRead<v.InferOutput<S>>> {
  const bytes = await readCapped(store, key, opts.maxBytes);
  if (bytes === "missing" || bytes === "too_large") return { ok: false, problem: bytes };
  let raw: unknown;
  try {
    // fatal: bytes that are not UTF-8 are damage, not text to repair with U+FFFD.
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    // Also a RangeError from JSON nested too deep for the parser: damage all the same.
    return { ok: false, problem: "not_json" };
  }
  const parsed = v.safeParse(schema, raw);
  return parsed.success ? { ok: true, value: parsed.output, bytes: bytes.byteLength } : { ok: false, problem: "invalid" };
}

/** The record, or null when it is missing, too large, not JSON or not valid. */
export async function readJson<S extends v.GenericSchema>(store: ObjectStore, key: string, schema: S, opts: ReadJsonOptions): Promise<v.InferOutput<S> | null> {
  const read = await readJsonChecked(store, key, schema, opts);
  return read.ok ? read.value : null;
}

/** The object's bytes when it has at most `maxBytes`; a larger one is closed unread. */
export async function readCapped(store: ObjectStore, key: string, maxBytes: number): Promise<Uint8Array | "missing" | "too_large"> {
  let got: Awaited<ReturnType<ObjectStore["get"]>>;
  try {
    got = await store.get(key);
  } catch (err) {
    if (err instanceof NotFound) return "missing";
    throw err;
  }
  if (got.info.size > maxBytes) {
    // Closes the file (fs) or aborts the download (s3) without reading the body.
    await got.body.cancel().catch(() => {});
    return "too_large";
  }
  if (got.bytes) return got.bytes;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of got.body) {
    total += chunk.byteLength;
    // The reported size was under the cap; a body that grows past it (a store that lied) is stopped here.
    if (total > maxBytes) return "too_large";
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
