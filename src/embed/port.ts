// The embed module's side of EmbedPort (src/ports.ts): other modules embed text through the
// Embedder, so they share its batch cap, deadline and cache.
import type { EmbedPort } from "../ports.ts";
import type { Embedder } from "./embedder.ts";
import { RoutedProvider } from "./routed.ts";

/**
 * The most frequent English words, by the words table's frequency order: "near" is 326th,
 * "available" 717th, "officer" 864th, while the words a query names a job or a place with sit
 * further down ("truck" 2,420th, "mechanic" 13,450th, "custodian" 28,652nd).
 */
export const COMMON_WORDS = 1000;

export function embedPort(embedder: Embedder, indexModel: string = embedder.provider.defaultModel): EmbedPort {
  const provider = embedder.provider;
  return {
    maxBatch: embedder.maxBatch,
    defaultModel: embedder.provider.defaultModel,
    indexModel,
    commonWord: (word) => {
      const rank = provider instanceof RoutedProvider ? provider.wordRank(word) : undefined;
      return rank !== undefined && rank < COMMON_WORDS;
    },
    embed: (texts, model) => embedder.embed(texts, model),
  };
}
