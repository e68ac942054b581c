// The [embed] config section: which provider embeds text, its endpoint and model, the batch cap,
// the per-batch timeout and the cache size.
import * as v from "valibot";
import { intBetween as int } from "../lib/config.ts";

const httpUrl = v.pipe(
  v.string(),
  v.url("expected an absolute http(s) URL"),
  v.check((s) => /^https?:\/\//i.test(s), "expected an http:// or https:// URL"),
);

const modelName = v.pipe(v.string(), v.minLength(1), v.maxLength(200));

export const embedSection = v.strictObject({
  /** "hash" and "words" run in-process and offline; "ollama" and "openai" call a server. */
  provider: v.optional(v.picklist(["hash", "words", "ollama", "openai"]), "hash"),
  /**
   * The model new matrix corpora and a new pathway memory index are built with when they name
   * none. "auto": words-sg100-v1+hash256 when the provider is hash or words and the words table
   * is installed, else the provider's default. Existing ones keep the model they were built with.
   */
  index_model: v.optional(modelName, "auto"),
  /** Most texts one request may carry. */
  max_batch: v.optional(int(1, 4096), 256),
  /** One deadline for a whole batch, upstream call included. */
  timeout_ms: v.optional(int(1, 600_000), 30_000),
  /** Cached vectors (entries, not bytes); 0 turns the cache off. */
  cache_size: v.optional(int(0, 10_000_000), 10_000),
  hash: v.optional(
    v.strictObject({
      dimension: v.optional(int(8, 8192), 384),
    }),
    {},
  ),
  words: v.optional(
    v.strictObject({
      /** The compact table (scripts/build-words.ts); empty: the one `bun install` built (src/embed/words-path.ts). */
      table: v.optional(v.pipe(v.string(), v.maxLength(4096)), ""),
    }),
    {},
  ),
  ollama: v.optional(
    v.strictObject({
      url: v.optional(httpUrl, "http://127.0.0.1:11434"),
      model: v.optional(modelName, "nomic-embed-text"),
    }),
    {},
  ),
  openai: v.optional(
    v.strictObject({
      /** Base URL including the version prefix; the provider POSTs to <url>/embeddings. */
      url: v.optional(httpUrl, "https://api.openai.com/v1"),
      model: v.optional(modelName, "text-embedding-3-small"),
      /** Secret: sent as a Bearer token when non-empty (local servers usually need none). */
      api_key: v.optional(v.string(), ""),
    }),
    {},
  ),
});

export type EmbedConfig = v.InferOutput<typeof embedSection>;
