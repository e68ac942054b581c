// [ingest] config: upload caps and the DuckDB instance that converts uploads to Parquet.
import * as v from "valibot";
import { duckdbSize, MiB, nonNegativeInt, positiveInt } from "../lib/config.ts";

export const ingestSection = v.strictObject({
  /** Largest upload accepted; bigger ones get 413 and leave nothing behind. */
  max_ingest_bytes: v.optional(positiveInt, 256 * MiB),
  /**
   * Where uploads are spooled while they convert ("" = <storage.fs.root>/spool/ingest). Each
   * running instance works in its own <pid>-<random> folder below it; start-up removes the ones
   * whose process is gone.
   */
  temp_dir: v.optional(v.string(), ""),
  /** DuckDB threads used by a conversion. */
  threads: v.optional(positiveInt, 2),
  /** DuckDB's buffer-manager limit for conversions (not a cap on process RSS). */
  memory_limit: v.optional(duckdbSize, "1GB"),
  /** Conversions running at once; more wait their turn, which bounds memory. */
  max_concurrent: v.optional(positiveInt, 1),
  /**
   * Uploads up to this size are converted by a warm, reused conversion process (no process start:
   * a 1-row append answers in tens of milliseconds instead of 0.3–3 s); larger ones get their own
   * process. 0 sends every upload to its own process.
   */
  inline_max_bytes: v.optional(nonNegativeInt, 8 * MiB),
});

export type IngestConfig = v.InferOutput<typeof ingestSection>;
