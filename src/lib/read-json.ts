// Reads one JSON object from the store and validates it. A missing object, bytes that are not JSON
// and JSON the schema rejects all come back as null, so the caller decides whether that is absence
// or corruption to report; any other failure (the store is unreachable) is thrown, because it says
// nothing about the object.
import * as v from "valibot";
import { NotFound } from "../errors.ts";
import type { ObjectStore } from "../storage/store.ts";

export async function readJson<S extends v.GenericSchema>(store: ObjectStore, key: string, schema: S): Promise<v.InferOutput<S> | null> {
  let bytes: Uint8Array;
  try {
    bytes = await store.getBytes(key);
  } catch (err) {
    if (err instanceof NotFound) return null;
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  const parsed = v.safeParse(schema, raw);
  return parsed.success ? parsed.output : null;
}
