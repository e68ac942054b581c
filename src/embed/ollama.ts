// Ollama's batch endpoint: POST <url>/api/embed {"model", "input": [texts]} → {"model", "embeddings": [[...], ...]}.
import type { EmbedProvider } from "./provider.ts";
import { checkVectors, endpoint, postJson } from "./upstream.ts";

export interface OllamaOptions {
  url: string;
  model: string;
}

export class OllamaProvider implements EmbedProvider {
  readonly name = "ollama";
  readonly defaultModel: string;
  #dimension: number | undefined;

  constructor(private readonly opts: OllamaOptions) {
    this.defaultModel = opts.model;
  }

  get dimension(): number | undefined {
    return this.#dimension;
  }

  async embed(texts: readonly string[], model = this.defaultModel, signal?: AbortSignal): Promise<number[][]> {
    const answer = await postJson({
      provider: this.name,
      url: endpoint(this.opts.url, "/api/embed"),
      body: { model, input: texts },
      signal,
    });
    const vectors = checkVectors(this.name, (answer as { embeddings?: unknown } | null)?.embeddings, texts.length);
    if (model === this.defaultModel) this.#dimension = vectors[0]!.length;
    return vectors;
  }
}
