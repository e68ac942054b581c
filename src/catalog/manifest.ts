// One immutable manifest object per dataset version, at _catalog/<name>/<version>.json. A version
// is committed by creating its object with put-if-absent, so two writers cannot both win it.
import * as v from "valibot";
import { LAYOUT } from "../storage/layout.ts";
import { DATASET_NAME } from "./names.ts";

export const VERSION_DIGITS = 12;
/**
 * The largest manifest the catalog writes or reads. One data object takes at most ≈274 bytes of it
 * (a key with a 63-character name and a SHA-256, nine-digit rows and bytes, the source's SHA-256),
 * so 16 MiB holds ≈61,000 appends; an append past that is refused (413) rather than writing a
 * manifest start-up would not read. Anything bigger under _catalog/ is damage, skipped unread.
 */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

const FieldSchema = v.object({ name: v.string(), type: v.string(), nullable: v.boolean() });
const DataObjectSchema = v.object({
  key: v.string(),
  rows: v.pipe(v.number(), v.integer(), v.minValue(0)),
  bytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** SHA-256 of the uploaded file it came from, so re-ingesting the same upload is recognised. */
  source_sha256: v.optional(v.string()),
  /**
   * The schema fingerprint of this file's own columns, when it differs from the manifest's (an
   * object kept from before a schema change): the SQL view then reads the files by name and casts
   * them to the manifest's schema. Absent: the file has the manifest's schema.
   */
  fingerprint: v.optional(v.string()),
});

/** How a version came to be; the journal records the same word. */
export const VERSION_OPS = ["register", "replace", "append", "evolve", "restore", "delete"] as const;
export type VersionOp = (typeof VERSION_OPS)[number];

export const ManifestSchema = v.pipe(
  v.object({
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
    /** How this version came to be (manifests written before it was recorded lack it). */
    op: v.optional(v.picklist(VERSION_OPS)),
    /** Who committed it: "token", "anonymous", "internal", with the client address where known. */
    actor: v.optional(v.string()),
    /** The version a restore copied. */
    restored_from: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  }),
  // Its data objects lie in its own folder: the SQL view reads them and a replace deletes the old
  // ones, so a manifest naming another dataset's objects would read or delete that dataset's data.
  v.check((m) => m.objects.every((o) => o.key.startsWith(`${LAYOUT.datasets}${m.name}/`)), "data objects must lie under datasets/<name>/"),
);

export type Manifest = v.InferOutput<typeof ManifestSchema>;
export type DataObject = Manifest["objects"][number];

/** The key of a manifest version, as the catalog's versioned store writes it (tests place manifests by hand with it). */
export function manifestKey(name: string, version: number): string {
  return `${LAYOUT.catalog}${name}/${String(version).padStart(VERSION_DIGITS, "0")}.json`;
}
