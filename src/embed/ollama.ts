// Ollama's batch endpoint: POST <url>/api/embed {"model", "input": [texts]} → {"model", "embeddings": [[...], ...]}.
import { endpoint, postJson, responseCap, UpstreamProvider } from "./upstream.ts";

export interface OllamaOptions {
  url: string;
  model: string;
}

export class OllamaProvider extends UpstreamProvider {
  readonly name = "ollama";

  constructor(private readonly opts: OllamaOptions) {
    super(opts.model);
  }

  protected async request(texts: readonly string[], model: string, signal?: AbortSignal): Promise<unknown> {
    const answer = await postJson({
      provider: this.name,
      url: endpoint(this.opts.url, "/api/embed"),
      body: { model, input: texts },
      signal,
      maxBytes: responseCap(texts.length),
    });
    return (answer as { embeddings?: unknown } | null)?.embeddings;
  }
}
