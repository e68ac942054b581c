// Where corpora live in the object store: one record per corpus (spec, state, progress,
// calibration) and one map of row content hashes, which is what makes rebuilds incremental and
// lets an interrupted build resume. Each is one object written atomically with put.
import * as v from "valibot";
import { NotFound } from "../errors.ts";
import { listAll } from "../lib/list-all.ts";
import { readJson } from "../lib/read-json.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { RowHashes } from "./rows.ts";

export const CORPUS_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const PREFIX = LAYOUT.matrixCorpora;
const HASHES_PREFIX = LAYOUT.matrixHashes;

const CalibrationSchema = v.object({ mean: v.number(), std: v.number() });

const CorpusRecordSchema = v.object({
  name: v.string(),
  dataset: v.string(),
  id_column: v.string(),
  text: v.object({ columns: v.optional(v.array(v.string())), template: v.optional(v.string()) }),
  metadata: v.array(v.string()),
  /** The embedding model asked for; absent means the provider's default at build time. */
  model: v.optional(v.string()),
  /** The vector index holding the corpus. */
  index: v.string(),
  dim: v.nullable(v.number()),
  state: v.picklist(["building", "ready", "failed"]),
  rows_total: v.number(),
  rows_done: v.number(),
  skipped_empty: v.number(),
  error: v.optional(v.string()),
  calibration: v.optional(CalibrationSchema),
  dataset_version: v.number(),
  created_at: v.string(),
  started_at: v.string(),
  finished_at: v.optional(v.string()),
  last_build: v.object({ embedded: v.number(), metadata_updated: v.number(), unchanged: v.number(), removed: v.number() }),
});

export type CorpusRecord = v.InferOutput<typeof CorpusRecordSchema>;

export class CorpusStore {
  constructor(private readonly store: ObjectStore) {}

  /** Every readable record; one missing (deleted meanwhile), not JSON or not a record is skipped. */
  async list(): Promise<CorpusRecord[]> {
    const out: CorpusRecord[] = [];
    for await (const item of listAll(this.store, PREFIX)) {
      const rec = await readJson(this.store, item.key, CorpusRecordSchema);
      if (rec) out.push(rec);
    }
    return out;
  }

  async save(rec: CorpusRecord): Promise<void> {
    await this.store.put(`${PREFIX}${rec.name}.json`, JSON.stringify(rec), { contentType: "application/json" });
  }

  async loadHashes(name: string): Promise<Map<string, RowHashes>> {
    try {
      const obj = JSON.parse(new TextDecoder().decode(await this.store.getBytes(`${HASHES_PREFIX}${name}.json`))) as Record<string, [string, string]>;
      return new Map(Object.entries(obj));
    } catch (err) {
      if (err instanceof NotFound) return new Map();
      throw err;
    }
  }

  async saveHashes(name: string, hashes: ReadonlyMap<string, RowHashes>): Promise<void> {
    await this.store.put(`${HASHES_PREFIX}${name}.json`, JSON.stringify(Object.fromEntries(hashes)), { contentType: "application/json" });
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
