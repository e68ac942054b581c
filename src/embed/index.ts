// Builds the configured provider and the Embedder around it, and exposes both as a module.
import type { Module, ModuleContext } from "../module.ts";
import type { EmbedConfig } from "./config.ts";
import { Embedder } from "./embedder.ts";
import { HashProvider } from "./hash-embedder.ts";
import { OllamaProvider } from "./ollama.ts";
import { OpenAIProvider } from "./openai.ts";
import { embedOperations } from "./operations.ts";
import type { EmbedProvider } from "./provider.ts";
import { loadWordsTable, WordsProvider } from "./words-embedder.ts";
import { defaultWordsTablePath } from "./words-path.ts";

export type { EmbedConfig } from "./config.ts";

export interface EmbedModule extends Module {
  readonly embedder: Embedder;
}

function createProvider(c: EmbedConfig): EmbedProvider {
  switch (c.provider) {
    case "hash":
      return new HashProvider(c.hash.dimension);
    case "words":
      // ≈30 ms and ≈50 MiB for the full table (docs/benchmarks.md); read once, at open.
      return new WordsProvider(loadWordsTable(c.words.table || defaultWordsTablePath));
    case "ollama":
      return new OllamaProvider({ url: c.ollama.url, model: c.ollama.model });
    case "openai":
      return new OpenAIProvider({ url: c.openai.url, model: c.openai.model, apiKey: c.openai.api_key });
  }
}

export async function open(ctx: ModuleContext<EmbedConfig>): Promise<EmbedModule> {
  const c = ctx.config;
  const embedder = new Embedder(createProvider(c), { maxBatch: c.max_batch, timeoutMs: c.timeout_ms, cacheSize: c.cache_size });
  ctx.ops.register(...embedOperations(embedder));
  return {
    name: "embed",
    embedder,
    health: () => {
      const detail = { provider: embedder.provider.name, model: embedder.provider.defaultModel };
      const failure = embedder.lastFailure;
      return failure ? { status: "degraded", detail: { ...detail, last_call: failure } } : { status: "ok" };
    },
    close: async () => {},
  };
}
