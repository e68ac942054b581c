// Where corpora live in the object store: one record per corpus (spec, state, progress,
// calibration) and one map of row content hashes, which is what makes rebuilds incremental and
// lets an interrupted build resume. Each is one object written atomically with put.
//
// Both are read under a cap and checked against their key, and the writer refuses what the reader
// would refuse, so what this process wrote always loads and anything else under _matrix/ (damaged,
// oversized, copied under another name) is reported instead of trusted or fatal.
import * as v from "valibot";
import { DATASET_NAME } from "../catalog/names.ts";
import { TooLarge } from "../errors.ts";
import { listAll } from "../lib/list-all.ts";
import { readCapped, readJsonChecked } from "../lib/read-json.ts";
import type { SkipReason } from "../lib/skipped.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { RowHashes } from "./rows.ts";

export const CORPUS_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const PREFIX = LAYOUT.matrixCorpora;
const HASHES_PREFIX = LAYOUT.matrixHashes;
/**
 * A record is ≈1 KiB: names, a template of at most 10,000 characters, column lists bounded by the
 * 1 MiB JSON body they came in. 4 MiB is no record.
 */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;
/**
 * Row hashes take ≈60 bytes a row (the id, two 16-character hashes). 256 MiB is ≈4 million rows:
 * more than an index can hold at 384 dimensions (the 4 GiB vector slab, ≈2.8 million). A build
 * whose hashes would pass it fails with that message rather than write what could not be read.
 */
const MAX_HASHES_BYTES = 256 * 1024 * 1024;

/** The vector index that holds a corpus: derived from its name, never taken from a stored record. */
export const indexNameFor = (corpus: string) => `matrix-${corpus}`;

// Numbers finite and times real: JSON reads 1e400 as Infinity, and a record that parses is served
// (progress rates, calibrated scores), so one that would turn them into NaN is damage.
const num = v.pipe(v.number(), v.finite());
const time = v.pipe(v.string(), v.isoTimestamp());
const CalibrationSchema = v.object({ mean: num, std: num });

const CorpusRecordSchema = v.object({
  name: v.string(),
  dataset: v.string(),
  id_column: v.string(),
  text: v.object({ columns: v.optional(v.array(v.string())), template: v.optional(v.string()) }),
  metadata: v.array(v.string()),
  /** A field-aware corpus's fields (fields.ts); absent for a corpus built before fields, which keeps reading its text whole. */
  fields: v.optional(v.array(v.object({ column: v.string(), weight: v.pipe(num, v.minValue(0)) }))),
  /** The embedding model asked for; absent means the provider's default at build time. */
  model: v.optional(v.string()),
  /** The vector index holding the corpus. */
  index: v.string(),
  dim: v.nullable(num),
  state: v.picklist(["building", "ready", "failed"]),
  rows_total: num,
  rows_done: num,
  skipped_empty: num,
  error: v.optional(v.string()),
  calibration: v.optional(CalibrationSchema),
  /** The lexical index's background (BM25 normalized by the query's maximum): lexical/calibrate.ts. */
  lexical_calibration: v.optional(CalibrationSchema),
  dataset_version: num,
  created_at: time,
  started_at: time,
  finished_at: v.optional(time),
  last_build: v.object({ embedded: num, metadata_updated: num, unchanged: num, removed: num }),
});

export type CorpusRecord = v.InferOutput<typeof CorpusRecordSchema>;

/** A record object that could not be loaded; `name` when its key names a corpus (which is then unavailable). */
export interface SkippedRecord {
  key: string;
  reason: SkipReason;
  name?: string;
}

/** A record that belongs at `name`'s key: its own name, its own index, a dataset name the catalog accepts. */
function problemWith(rec: CorpusRecord, name: string): SkipReason | null {
  return rec.name === name && rec.index === indexNameFor(name) && DATASET_NAME.test(rec.dataset) ? null : "mismatched";
}

function checkSize(what: string, body: string, limit: number): void {
  const bytes = Buffer.byteLength(body);
  if (bytes > limit) throw new TooLarge(`${what} would take ${bytes} bytes, over the ${limit}-byte cap`, { limit_bytes: limit });
}

/** Row hashes as saved: an object of id → [text hash, metadata hash]. Checked in place (it can hold millions). */
function isHashes(x: unknown): x is Record<string, [string, string]> {
  if (x === null || typeof x !== "object" || Array.isArray(x)) return false;
  for (const value of Object.values(x)) {
    if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || typeof value[1] !== "string") return false;
  }
  return true;
}

export class CorpusStore {
  constructor(private readonly store: ObjectStore) {}

  /**
   * Every usable record, and what was passed over: an object that cannot be read, is too large,
   * is not a record, or is a record of another name or index. One missing (deleted meanwhile) is
   * neither. A failed listing (the store unreachable) throws.
   */
  async list(): Promise<{ records: CorpusRecord[]; skipped: SkippedRecord[] }> {
    const records: CorpusRecord[] = [];
    const skipped: SkippedRecord[] = [];
    for await (const item of listAll(this.store, PREFIX)) {
      const m = /^([^/]+)\.json$/.exec(item.key.slice(PREFIX.length));
      const name = m && CORPUS_NAME.test(m[1]!) ? m[1]! : undefined;
      if (name === undefined) {
        skipped.push({ key: item.key, reason: "bad_name" });
        continue;
      }
      let reason: SkipReason | null;
      try {
        const read = await readJsonChecked(this.store, item.key, CorpusRecordSchema, { maxBytes: MAX_RECORD_BYTES });
        if (read.ok) {
          reason = problemWith(read.value, name);
          if (reason === null) records.push(read.value);
        } else if (read.problem === "missing") continue;
        else reason = read.problem;
      } catch {
        reason = "unreadable";
      }
      if (reason !== null) skipped.push({ key: item.key, reason, name });
    }
    // Hashes are read by builds, not here; one under a name no corpus can have is only reported.
    for await (const item of listAll(this.store, HASHES_PREFIX)) {
      const m = /^([^/]+)\.json$/.exec(item.key.slice(HASHES_PREFIX.length));
      if (!m || !CORPUS_NAME.test(m[1]!)) skipped.push({ key: item.key, reason: "bad_name" });
    }
    return { records, skipped };
  }

  async save(rec: CorpusRecord): Promise<void> {
    const body = JSON.stringify(rec);
    checkSize(`corpus "${rec.name}"'s record`, body, MAX_RECORD_BYTES);
    await this.store.put(`${PREFIX}${rec.name}.json`, body, { contentType: "application/json" });
  }

  /** The corpus's row hashes (empty when it has none yet); damaged ones fail the build that needs them, saying so. */
  async loadHashes(name: string): Promise<Map<string, RowHashes>> {
    const bytes = await readCapped(this.store, `${HASHES_PREFIX}${name}.json`, MAX_HASHES_BYTES);
    if (bytes === "missing") return new Map();
    let obj: unknown = null;
    if (bytes !== "too_large") {
      try {
        obj = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
      } catch {
        obj = null;
      }
    }
    // Starting over without them would leave rows that left the dataset in the index (what
    // disappeared is known only from them): the corpus must be deleted and built again.
    if (!isHashes(obj)) throw new Error(`corpus "${name}"'s row hashes are damaged; delete the corpus and build it again`);
    return new Map(Object.entries(obj));
  }

  async saveHashes(name: string, hashes: ReadonlyMap<string, RowHashes>): Promise<void> {
    const body = JSON.stringify(Object.fromEntries(hashes));
    checkSize(`corpus "${name}"'s row hashes`, body, MAX_HASHES_BYTES);
    await this.store.put(`${HASHES_PREFIX}${name}.json`, body, { contentType: "application/json" });
  }

  /** The record goes first, so a crash part-way leaves no corpus pointing at half-deleted state. */
  async removeRecord(name: string): Promise<void> {
    await this.store.delete(`${PREFIX}${name}.json`);
  }

  /** Also run before a corpus is created, so hashes left by a crashed delete are never trusted. */
  async removeHashes(name: string): Promise<void> {
    await this.store.delete(`${HASHES_PREFIX}${name}.json`);
  }
}
