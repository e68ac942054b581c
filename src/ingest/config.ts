// [ingest] config: upload caps and the DuckDB instance that converts uploads to Parquet.
import * as v from "valibot";
import { duckdbSize, MiB, positiveInt } from "../lib/config.ts";

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
});

export type IngestConfig = v.InferOutput<typeof ingestSection>;
