// [pathway] config section.
import * as v from "valibot";
import { MiB, positiveInt } from "../lib/config.ts";

export const pathwaySection = v.strictObject({
  /** Directory of the pathway log (local disk, also with the s3 backend). Empty: <storage.fs.root>/wal/pathway. */
  log_dir: v.optional(v.string(), ""),
  /** Log bytes written since the last snapshot that trigger a new snapshot (and let old log segments go). */
  compact_after_bytes: v.optional(positiveInt, 64 * MiB),
  /** After a FORGET, a snapshot follows within this many ms, so the forgotten content leaves the log and the store. */
  forget_compact_ms: v.optional(positiveInt, 1000),
  /** Cap on the JSON body of pathway requests (a batch of 1000 traces with large content). */
  max_request_bytes: v.optional(positiveInt, 64 * MiB),
  /** How often, at most, the files behind the SQL view `pathway_traces` are rewritten after writes. */
  view_refresh_ms: v.optional(positiveInt, 1000),
  /** Changed traces the view's delta file holds before the base file is rewritten. */
  view_delta_max_rows: v.optional(positiveInt, 20_000),
});

export type PathwayConfig = v.InferOutput<typeof pathwaySection>;
