// [vector] config section.
import * as v from "valibot";
import { MiB, positiveInt } from "../lib/config.ts";

export const vectorSection = v.strictObject({
  /** Directory of the write-ahead logs (local disk, also with the s3 backend). Empty: <storage.fs.root>/wal/vectors. */
  wal_dir: v.optional(v.string(), ""),
  /** Log bytes written since the last snapshot that trigger a new snapshot (and let old log segments go). */
  compact_after_bytes: v.optional(positiveInt, 256 * MiB),
  /** Share of deleted nodes in a graph that triggers a rebuild. */
  rebuild_deleted_ratio: v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(1)), 0.2),
  /**
   * A filtered search whose filter matches at most this many items scores them exactly instead of
   * walking the graph. Unset: EXACT_FILTER_FLOATS / dim (about 10,000 items at 384 dimensions, 5,000 at 768).
   */
  exact_filter_max: v.optional(positiveInt),
  /** Items per upsert or delete request. */
  max_batch_items: v.optional(positiveInt, 10_000),
  /** Cap on the JSON body of vector requests (a 768-d vector is ≈15 KB of JSON). */
  max_request_bytes: v.optional(positiveInt, 256 * MiB),
  /** Defaults for new indexes. */
  default_m: v.optional(v.pipe(positiveInt, v.minValue(2), v.maxValue(128)), 16),
  default_ef_construction: v.optional(v.pipe(positiveInt, v.maxValue(4096)), 200),
  default_ef_search: v.optional(v.pipe(positiveInt, v.maxValue(4096)), 64),
});

/**
 * Floats an exact filtered scan may read before the graph walk is likely cheaper. Scoring a
 * candidate costs ≈0.3 µs at 384 dimensions. The in-graph filter depends on where the matches lie:
 * on random vectors with random metadata (100K × 384, M=16, ef=64, k=50) it took 19 ms at 1%
 * selectivity, 7 ms at 2%, 2.4 ms at 5%, 1.7 ms at 10%; on the staffing corpus, where the filter
 * (a state) is tied to the text the query is near or far from, 10–12 ms at 6–10%, against 3–4 ms
 * for the exact scan of 3,000 candidates. Exact cost is linear and predictable, so it gets the
 * larger share: 4M floats, about 10,000 candidates at 384 dimensions and 5,000 at 768.
 */
export const EXACT_FILTER_FLOATS = 4_000_000;

export type VectorConfig = v.InferOutput<typeof vectorSection>;

/** The tuning every index of the process shares, from the config section. */
export interface IndexTuning {
  /** Log bytes since the last snapshot that trigger a new one. */
  compactAfterBytes: number;
  /** Deleted share of the graph that triggers a rebuild. */
  rebuildDeletedRatio: number;
  /** A filter matching at most this many items is answered by exact scoring, not the graph. */
  /** Unset: sized by the index's dimension. */
  exactFilterMax: number | undefined;
}

export const tuningOf = (c: VectorConfig): IndexTuning => ({
  compactAfterBytes: c.compact_after_bytes,
  rebuildDeletedRatio: c.rebuild_deleted_ratio,
  exactFilterMax: c.exact_filter_max,
});
