// /v1/embed: embed a batch of texts, and the cache's counters.
import * as v from "valibot";
import type { ApiSpec } from "../http/openapi.ts";
import { ModuleRouter } from "../http/router.ts";
import { type Embedder, MAX_MODEL_NAME } from "./embedder.ts";

export function embedRequestSchema(maxBatch: number) {
  return v.object({
    texts: v.pipe(
      v.array(v.pipe(v.string("must be a string"), v.minLength(1, "is an empty string"))),
      v.minLength(1, "must hold at least one text"),
      v.maxLength(maxBatch, `at most ${maxBatch} texts per request`),
    ),
    model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_MODEL_NAME))),
  });
}

const EmbedResponse = v.object({ model: v.string(), dimension: v.number(), vectors: v.array(v.array(v.number())) });
const StatsResponse = v.object({ hits: v.number(), misses: v.number(), hit_rate: v.number(), size: v.number() });

export function embedRoutes(embedder: Embedder, api: ApiSpec, jsonLimit: number): ModuleRouter {
  const r = new ModuleRouter(api, "/v1/embed", "embed", jsonLimit);

  r.route(
    {
      method: "post",
      path: "",
      summary: `Embed up to ${embedder.maxBatch} texts with the configured provider (${embedder.provider.name}); repeated texts come from the cache`,
      body: embedRequestSchema(embedder.maxBatch),
      responses: {
        200: { description: "One vector per text, in input order", schema: EmbedResponse },
        502: { description: "The embedding provider failed" },
        504: { description: "The batch did not finish within embed.timeout_ms" },
      },
    },
    async (c, { body }) => c.json(await embedder.embed(body.texts, body.model)),
  );

  r.route(
    { method: "get", path: "/stats", summary: "Embedding cache counters", responses: { 200: { description: "Counters", schema: StatsResponse } } },
    (c) => c.json(embedder.stats()),
  );

  return r;
}
