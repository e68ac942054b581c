// [sql] config: limits for untrusted queries and the DuckDB worker processes that run them.
import * as v from "valibot";
import { duckdbSize, GiB, MiB, positiveInt } from "../lib/config.ts";

export const sqlSection = v.strictObject({
  /** A statement (waiting for a worker included) running longer is interrupted and answered with 504. */
  timeout_ms: v.optional(positiveInt, 30_000),
  /** Rows returned when a request does not ask for fewer (and the most it may ask for); larger results come back truncated. */
  max_rows: v.optional(positiveInt, 10_000),
  /** A whole export (POST /v1/sql/export, waiting for a worker included) running longer is stopped and its response cut. */
  export_timeout_ms: v.optional(positiveInt, 600_000),
  /** DuckDB threads of each SQL worker process. */
  threads: v.optional(positiveInt, 2),
  /** DuckDB's buffer-manager limit per worker (not a cap on process RSS: see max_statement_rss). */
  memory_limit: v.optional(duckdbSize, "1GB"),
  /** Statements running at once, one per worker process; more wait their turn (within timeout_ms). */
  max_concurrent: v.optional(positiveInt, 8),
  /** A worker whose resident memory passes this while it runs a statement is killed: 422 resource_exhausted. */
  max_statement_rss: v.optional(positiveInt, 2 * GiB),
  /** Resident memory of all SQL workers together; past it the largest statement is killed (422). */
  max_total_rss: v.optional(positiveInt, 4 * GiB),
  /** A JSON answer is cut before it passes this many bytes (truncated: true, with a message). */
  max_response_bytes: v.optional(positiveInt, 16 * MiB),
  /**
   * Cap on Arrow and CSV answers of POST /v1/sql (which the server holds once while it sends them) and on
   * the bytes of one POST /v1/sql/export (streamed; past the cap its response is cut).
   */
  max_export_bytes: v.optional(positiveInt, 128 * MiB),
  /** s3 backend only: base of the local Parquet cache, one folder per running instance ("" = <storage.fs.root>/cache/sql). */
  cache_dir: v.optional(v.string(), ""),
  /** s3 backend only: bytes the Parquet cache may hold before evicting the least recently used files. */
  cache_max_bytes: v.optional(positiveInt, 4 * GiB),
});

export type SqlConfig = v.InferOutput<typeof sqlSection>;
