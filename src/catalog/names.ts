// Dataset names become SQL view names and object-key segments, so they are held to a strict shape
// (no quoting games); the id is derived from the name so every machine agrees on it.
import { createHash } from "node:crypto";
import { Conflict, ValidationFailed } from "../errors.ts";

export const DATASET_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

/**
 * SQL view names other modules publish over their own data (src/sql/derived-views.ts): a dataset
 * of one of these names would replace that view in the SQL workers, so none can be created.
 */
export const MODULE_VIEW_NAMES: readonly string[] = ["pathway_traces", "observer_events"];

/** Throws Conflict when `name` is taken by a module's SQL view (names compare without case, as SQL's do). */
export function assertNotModuleView(name: string): void {
  if (MODULE_VIEW_NAMES.includes(name.toLowerCase())) {
    throw new Conflict(`"${name}" is the name of a SQL view the lakehouse publishes (${MODULE_VIEW_NAMES.join(", ")}); choose another dataset name`, {
      dataset: name,
    });
  }
}

/** Fixed namespace for dataset ids; changing it would change every id. */
const DATASET_NAMESPACE = "6f1c3d4e-9a2b-5c7d-8e0f-1a2b3c4d5e6f";

export function assertDatasetName(name: string): void {
  if (!DATASET_NAME.test(name)) {
    const message = "use 1-63 letters, digits or _, starting with a letter";
    throw new ValidationFailed(`invalid dataset name: ${message}`, [{ path: "name", message }]);
  }
}

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ""), "hex");
}

/** RFC 9562 UUIDv5 (SHA-1, name-based). */
export function uuidV5(name: string, namespace: string): string {
  const hash = createHash("sha1").update(uuidBytes(namespace)).update(name, "utf8").digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function datasetId(name: string): string {
  return uuidV5(name, DATASET_NAMESPACE);
}
