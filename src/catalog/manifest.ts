// One immutable manifest object per dataset version, at _catalog/<name>/<version>.json. A version
// is committed by creating its object with put-if-absent, so two writers cannot both win it.
import * as v from "valibot";
import { LAYOUT } from "../storage/layout.ts";
import { DATASET_NAME } from "./names.ts";

const VERSION_DIGITS = 12;

const FieldSchema = v.object({ name: v.string(), type: v.string(), nullable: v.boolean() });
const DataObjectSchema = v.object({
  key: v.string(),
  rows: v.pipe(v.number(), v.integer(), v.minValue(0)),
  bytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** SHA-256 of the uploaded file it came from, so re-ingesting the same upload is recognised. */
  source_sha256: v.optional(v.string()),
});

export const ManifestSchema = v.object({
  format: v.literal(1),
  name: v.pipe(v.string(), v.regex(DATASET_NAME)),
  dataset_id: v.string(),
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  created_at: v.string(),
  updated_at: v.string(),
  /** A deleted dataset is a tombstone version, so version numbers never repeat for a name. */
  deleted: v.optional(v.boolean(), false),
  fields: v.array(FieldSchema),
  fingerprint: v.string(),
  objects: v.array(DataObjectSchema),
  row_count: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

export type Manifest = v.InferOutput<typeof ManifestSchema>;
export type DataObject = Manifest["objects"][number];

export function manifestKey(name: string, version: number): string {
  return `${LAYOUT.catalog}${name}/${String(version).padStart(VERSION_DIGITS, "0")}.json`;
}

/** The (name, version) a manifest key names, or null for a key that is not one. */
export function parseManifestKey(key: string): { name: string; version: number } | null {
  if (!key.startsWith(LAYOUT.catalog)) return null;
  const m = /^([^/]+)\/(\d+)\.json$/.exec(key.slice(LAYOUT.catalog.length));
  if (!m || !DATASET_NAME.test(m[1]!)) return null;
  return { name: m[1]!, version: Number(m[2]) };
}

/** Parses manifest bytes; null when they are not a valid manifest for that key. */
export function decodeManifest(bytes: Uint8Array, expected: { name: string; version: number }): Manifest | null {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  const result = v.safeParse(ManifestSchema, raw);
  if (!result.success) return null;
  const m = result.output;
  return m.name === expected.name && m.version === expected.version ? m : null;
}

export function encodeManifest(m: Manifest): string {
  return JSON.stringify(m);
}
