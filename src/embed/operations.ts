// The embed operations, /v1/embed: embed a batch of texts, and the cache's counters.
import * as v from "valibot";
import { type AnyOperation, op } from "../ops/operation.ts";
import { type Embedder, MAX_MODEL_NAME } from "./embedder.ts";

function embedRequestSchema(maxBatch: number) {
  return v.object({
    texts: v.pipe(
      v.array(v.pipe(v.string("must be a string"), v.minLength(1, "is an empty string"))),
      v.minLength(1, "must hold at least one text"),
      v.maxLength(maxBatch, `at most ${maxBatch} texts per request`),
    ),
    model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_MODEL_NAME))),
  });
}

const EmbedResult = v.object({ model: v.string(), dimension: v.number(), vectors: v.array(v.array(v.number())) });
const StatsResult = v.object({ hits: v.number(), misses: v.number(), hit_rate: v.number(), size: v.number() });

export function embedOperations(embedder: Embedder): AnyOperation[] {
  return [
    op({
      name: "embed.texts",
      method: "post",
      path: "/v1/embed",
      tag: "embed",
      summary: `Embed up to ${embedder.maxBatch} texts with the configured provider (${embedder.provider.name}); repeated texts come from the cache`,
      body: embedRequestSchema(embedder.maxBatch),
      result: EmbedResult,
      errors: {
        bad_request: "The provider does not serve the model asked for",
        upstream_error: "The embedding provider failed",
        timeout: "The batch did not finish within embed.timeout_ms",
      },
      http: { statuses: { 200: "One vector per text, in input order" } },
      handler: ({ texts, model }) => embedder.embed(texts, model),
    }),
    op({
      name: "embed.stats",
      method: "get",
      path: "/v1/embed/stats",
      tag: "embed",
      summary: "Embedding cache counters",
      result: StatsResult,
      handler: () => embedder.stats(),
    }),
  ];
}
