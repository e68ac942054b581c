// [workflows] config section: how many runs and steps run at once, the caps on what a run keeps,
// where the run log lives, and the chat provider `llm.generate` calls (configured like the embed
// providers; "none" refuses the mode at validation with a message saying how to configure one).
import * as v from "valibot";
import { intBetween, MiB, positiveInt } from "../lib/config.ts";

const httpUrl = v.pipe(
  v.string(),
  v.url("expected an absolute http(s) URL"),
  v.check((s) => /^https?:\/\//i.test(s), "expected an http:// or https:// URL"),
);
const modelName = v.pipe(v.string(), v.minLength(1), v.maxLength(200));

export const llmSection = v.strictObject({
  /** "none": llm.generate is refused; "ollama" calls <url>/api/chat; "openai" calls <url>/chat/completions. */
  provider: v.optional(v.picklist(["none", "ollama", "openai"]), "none"),
  /** One deadline per completion (a step's own timeout_ms can be shorter). */
  timeout_ms: v.optional(intBetween(1, 600_000), 60_000),
  /** Largest answer read from the provider; more is an upstream error, not an out-of-memory. */
  max_response_bytes: v.optional(positiveInt, 4 * MiB),
  ollama: v.optional(
    v.strictObject({
      url: v.optional(httpUrl, "http://127.0.0.1:11434"),
      model: v.optional(modelName, "llama3.2"),
    }),
    {},
  ),
  openai: v.optional(
    v.strictObject({
      /** Base URL including the version prefix; the provider POSTs to <url>/chat/completions. */
      url: v.optional(httpUrl, "https://api.openai.com/v1"),
      model: v.optional(modelName, "gpt-4o-mini"),
      /** Secret: sent as a Bearer token when non-empty. */
      api_key: v.optional(v.string(), ""),
    }),
    {},
  ),
});

export const workflowsSection = v.strictObject({
  /** Runs executing at once; later ones wait as `queued`, in arrival order. */
  max_running: v.optional(intBetween(1, 1000), 4),
  /** Steps of one run executing at once (independent steps of a DAG run concurrently up to this). */
  max_parallel_steps: v.optional(intBetween(1, 256), 8),
  /** A step's timeout when its definition gives none. */
  default_timeout_ms: v.optional(intBetween(1, 3_600_000), 300_000),
  /** Most retries a step may ask for (a definition over it is a 400). */
  max_retries: v.optional(intBetween(0, 100), 10),
  /** Most steps in one definition. */
  max_steps: v.optional(intBetween(1, 10_000), 200),
  /**
   * A step output kept in the run record (and readable by later steps) up to this many bytes of
   * JSON; a larger one is kept as a truncation marker with its size. 64 KiB holds a 100-result
   * matrix search with metadata (≈30 KiB measured) with room to spare.
   */
  max_output_bytes: v.optional(positiveInt, 64 * 1024),
  /** Finished runs kept (oldest go first at the next compaction); running and queued ones are always kept. */
  keep_runs: v.optional(positiveInt, 10_000),
  /** Directory of the run log (local disk, also with the s3 backend). Empty: <storage.fs.root>/wal/workflows. */
  log_dir: v.optional(v.string(), ""),
  /** Log bytes since the last snapshot that trigger a new snapshot (and let old log segments go). */
  compact_after_bytes: v.optional(positiveInt, 16 * MiB),
  llm: v.optional(llmSection, {}),
});

export type WorkflowsConfig = v.InferOutput<typeof workflowsSection>;
export type LlmConfig = v.InferOutput<typeof llmSection>;
