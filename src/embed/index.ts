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
import { readWordsModel } from "./words-format.ts";
import { defaultWordsTablePath } from "./words-path.ts";
import { RoutedProvider } from "./routed.ts";

export type { EmbedConfig } from "./config.ts";

export interface EmbedModule extends Module {
  readonly embedder: Embedder;
  /** The model new corpora and a new memory index embed with when they name none (config `embed.index_model`). */
  readonly indexModel: string;
}

/**
 * "auto": the words model joined with hashed features when the provider is an offline one and the
 * words table is installed (it ranked the labelled set best: docs/matrix.md), else the provider's
 * default — a configured Ollama or OpenAI model is the user's choice of meaning.
 */
function resolveIndexModel(c: EmbedConfig, provider: RoutedProvider, log: ModuleContext<EmbedConfig>["log"]): string {
  if (c.index_model !== "auto") return c.index_model;
  if (c.provider !== "hash" && c.provider !== "words") return provider.defaultModel;
  const joined = provider.wordsModels()[1];
  if (joined !== undefined) return joined;
  log.warn("words table not installed: new corpora and memory indexes use the hash embedder", { model: provider.defaultModel });
  return provider.defaultModel;
}

const wordsPath = (c: EmbedConfig) => c.words.table || defaultWordsTablePath;
const loadWords = (c: EmbedConfig) => () => new WordsProvider(loadWordsTable(wordsPath(c)));

function createProvider(c: EmbedConfig): EmbedProvider {
  switch (c.provider) {
    case "hash":
      return new HashProvider(c.hash.dimension);
    case "words":
      // ≈30 ms and ≈50 MiB for the full table (docs/benchmarks.md); read once, at open.
      return loadWords(c)();
    case "ollama":
      return new OllamaProvider({ url: c.ollama.url, model: c.ollama.model });
    case "openai":
      return new OpenAIProvider({ url: c.openai.url, model: c.openai.model, apiKey: c.openai.api_key });
  }
}

export async function open(ctx: ModuleContext<EmbedConfig>): Promise<EmbedModule> {
  const c = ctx.config;
  // The table is read on the first use of a words model, not here: a server that never embeds
  // with it pays neither its ≈40 ms nor its 49 MiB.
  const provider = new RoutedProvider(createProvider(c), { model: () => readWordsModel(wordsPath(c)), load: loadWords(c) });
  const embedder = new Embedder(provider, { maxBatch: c.max_batch, timeoutMs: c.timeout_ms, cacheSize: c.cache_size });
  const indexModel = resolveIndexModel(c, provider, ctx.log);
  ctx.ops.register(...embedOperations(embedder));
  return {
    name: "embed",
    embedder,
    indexModel,
    health: () => {
      const detail = { provider: embedder.provider.name, model: embedder.provider.defaultModel };
      const failure = embedder.lastFailure;
      return failure ? { status: "degraded", detail: { ...detail, last_call: failure } } : { status: "ok" };
    },
    close: async () => {},
  };
}
