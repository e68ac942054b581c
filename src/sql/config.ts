// [sql] config: limits for untrusted queries and the DuckDB instance that runs them.
import * as v from "valibot";
import { duckdbSize, GiB, positiveInt } from "../lib/config.ts";

export const sqlSection = v.strictObject({
  /** A statement running longer is interrupted and answered with 504. */
  timeout_ms: v.optional(positiveInt, 30_000),
  /** Rows returned when a request does not ask for fewer; larger results come back truncated. */
  max_rows: v.optional(positiveInt, 10_000),
  /** DuckDB worker threads. */
  threads: v.optional(positiveInt, 2),
  /** DuckDB's buffer-manager limit (not a cap on process RSS). */
  memory_limit: v.optional(duckdbSize, "1GB"),
  /** Queries running at once; more wait their turn. */
  max_concurrent: v.optional(positiveInt, 8),
  /** s3 backend only: local directory caching Parquet objects ("" = a directory under the system temp dir). */
  cache_dir: v.optional(v.string(), ""),
  /** s3 backend only: bytes the Parquet cache may hold before evicting the least recently used files. */
  cache_max_bytes: v.optional(positiveInt, 4 * GiB),
});

export type SqlConfig = v.InferOutput<typeof sqlSection>;
