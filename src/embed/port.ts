// The embed module's side of EmbedPort (src/ports.ts): other modules embed text through the
// Embedder, so they share its batch cap, deadline and cache.
import type { EmbedPort } from "../ports.ts";
import type { Embedder } from "./embedder.ts";

export function embedPort(embedder: Embedder, indexModel: string = embedder.provider.defaultModel): EmbedPort {
  return {
    maxBatch: embedder.maxBatch,
    defaultModel: embedder.provider.defaultModel,
    indexModel,
    embed: (texts, model) => embedder.embed(texts, model),
  };
}
