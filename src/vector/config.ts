// [vector] config section.
import * as v from "valibot";

const MiB = 1024 * 1024;
const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

export const vectorSection = v.strictObject({
  /** Directory of the write-ahead logs (local disk, also with the s3 backend). Empty: <storage.fs.root>/wal/vectors. */
  wal_dir: v.optional(v.string(), ""),
  /** Log bytes written since the last snapshot that trigger a new snapshot (and let old log segments go). */
  compact_after_bytes: v.optional(positiveInt, 256 * MiB),
  /** Share of deleted nodes in a graph that triggers a rebuild. */
  rebuild_deleted_ratio: v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(1)), 0.2),
  /**
   * A filtered search whose filter matches at most this many items scores them exactly instead of
   * walking the graph. Unset: EXACT_FILTER_FLOATS / dim (4,000 items at 384 dimensions, 2,000 at 768).
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
 * Floats an exact filtered scan may read before the graph walk is cheaper. Measured at 100K × 384
 * (cosine, M=16, ef=64, k=50): the in-graph filter costs 19 ms at 1% selectivity, 7 ms at 2%,
 * 2.4 ms at 5%; the exact scan 1.6, 2.8 and 4.5 ms. They cross near 3–4%, so about 1.5M floats.
 */
export const EXACT_FILTER_FLOATS = 1_536_000;

export type VectorConfig = v.InferOutput<typeof vectorSection>;
