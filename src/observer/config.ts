// [observer] config section.
import * as v from "valibot";
import { MiB, intBetween, numberBetween, positiveInt } from "../lib/config.ts";

export const observerSection = v.strictObject({
  /** Directory of the observer's event log (local disk, also with the s3 backend). Empty: <storage.fs.root>/wal/observer. */
  log_dir: v.optional(v.string(), ""),
  /** Events older than this many days leave the archive (and the SQL view). */
  retention_days: v.optional(positiveInt, 30),
  /** Cap on the JSON body of observer requests: a batch of 1,000 events with payloads of up to 64 KiB. */
  max_request_bytes: v.optional(positiveInt, 66 * MiB),
  /**
   * Events accepted but not yet on disk; a request that would pass it is refused with 503 and
   * Retry-After (back-pressure) instead of queueing without bound. Two full batches of 1,000 fit.
   */
  max_pending_events: v.optional(positiveInt, 50_000),
  /** Bytes of events accepted but not yet on disk past which requests are refused the same way (payloads may be 64 KiB each). */
  max_pending_bytes: v.optional(positiveInt, 256 * MiB),
  /** Events kept in memory (the hot part, read without touching storage) before they are archived. */
  archive_after_events: v.optional(positiveInt, 100_000),
  /** ...or this many bytes of them (as logged): the hot part's memory stays bounded whatever the payload sizes. */
  archive_after_bytes: v.optional(positiveInt, 64 * MiB),
  /** Hot events older than this are archived even when there are few of them. */
  archive_after_ms: v.optional(positiveInt, 15 * 60_000),
  /** How often, at most, new events reach the files behind the SQL view `observer_events`. */
  view_refresh_ms: v.optional(positiveInt, 1000),
  /** A review's SQL evidence runs at most this long (the SQL module's own timeout applies too). */
  review_sql_timeout_ms: v.optional(positiveInt, 5000),
  /** Rows a review's SQL evidence may return; more is "could not check" (cycle), never a partial comparison. */
  review_max_rows: v.optional(positiveInt, 10_000),
  /** Iteration witness: the same state_hash seen this many times in a run flags a loop. */
  loop_repeats: v.optional(intBetween(2, 1000), 3),
  /** Iteration witness: an open run with no iteration for this long is stalled. */
  stall_seconds: v.optional(positiveInt, 300),
  /** Iteration witness: a scorer's baseline window and recent window, in iterations. */
  drift_window: v.optional(intBetween(2, 10_000), 20),
  /** Drift when the recent mean moves more than this many baseline standard deviations... */
  drift_sigma: v.optional(numberBetween(0.1, 100), 2),
  /** ...or, when set above 0, more than this absolute delta (whichever is reached first). */
  drift_min_delta: v.optional(numberBetween(0, Number.MAX_SAFE_INTEGER), 0),
});

export type ObserverConfig = v.InferOutput<typeof observerSection>;
