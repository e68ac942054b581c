// Validation of a whole upsert or delete batch before anything commits, pure. The first problem
// found is reported with its position (items[3].vector[5]) and nothing of the batch is written.
import { ValidationFailed } from "../errors.ts";
import type { Metadata } from "../filter/compile.ts";
import { depthMessage, exceedsJsonDepth, MAX_JSON_DEPTH } from "../lib/json-depth.ts";
import { type Metric, toVector } from "./vectors.ts";

const MAX_ID_BYTES = 256;
const MAX_METADATA_BYTES = 64 * 1024;

export interface UpsertItem {
  id: string;
  vector: readonly unknown[];
  /** Omitted: keep the item's metadata. null: clear it. */
  metadata?: unknown;
}

export interface CheckedItem {
  id: string;
  metadata?: Metadata;
}

const fail = (path: string, message: string): never => {
  throw new ValidationFailed(`${path}: ${message}`, [{ path, message }]);
};

function checkId(id: unknown, path: string): string {
  if (typeof id !== "string" || id.length === 0) return fail(path, "expected a non-empty string");
  if (Buffer.byteLength(id, "utf8") > MAX_ID_BYTES) return fail(path, `ids are at most ${MAX_ID_BYTES} bytes`);
  return id;
}

function checkMetadata(metadata: unknown, path: string): Metadata | undefined {
  if (metadata === undefined || metadata === null) return metadata;
  if (typeof metadata !== "object" || Array.isArray(metadata)) return fail(path, "expected an object or null");
  // Before the size check: JSON.stringify recurses, and a deep enough value overflows the stack.
  if (exceedsJsonDepth(metadata, MAX_JSON_DEPTH)) return fail(path, depthMessage(MAX_JSON_DEPTH));
  if (Buffer.byteLength(JSON.stringify(metadata), "utf8") > MAX_METADATA_BYTES) return fail(path, `metadata is at most ${MAX_METADATA_BYTES} bytes of JSON`);
  return metadata as Record<string, unknown>;
}

/** Checks every item; returns the items and their vectors packed (unit-length under cosine). */
export function checkUpsertBatch(items: readonly UpsertItem[], dim: number, metric: Metric, root = "items"): { items: CheckedItem[]; vectors: Float32Array } {
  const seen = new Set<string>();
  const vectors = new Float32Array(items.length * dim);
  const checked = items.map((item, i) => {
    const at = `${root}[${i}]`;
    const id = checkId(item.id, `${at}.id`);
    if (seen.has(id)) fail(`${at}.id`, `id "${id}" appears twice in the batch`);
    seen.add(id);
    const vec = toVector(item.vector, dim, metric, `${at}.vector`);
    if (!(vec instanceof Float32Array)) return fail(vec.path, vec.message);
    vectors.set(vec, i * dim);
    const out: CheckedItem = { id };
    if ("metadata" in item && item.metadata !== undefined) out.metadata = checkMetadata(item.metadata, `${at}.metadata`);
    return out;
  });
  return { items: checked, vectors };
}
