// The OpenAI-compatible embeddings endpoint (OpenAI, vLLM, llama.cpp server, TEI, LM Studio):
// POST <url>/embeddings {"model", "input": [texts], "encoding_format": "float"}
//   → {"object": "list", "data": [{"object": "embedding", "index", "embedding": [...]}], "model", "usage"}.
import { UpstreamError } from "../errors.ts";
import { endpoint, postJson, responseCap, UpstreamProvider } from "./upstream.ts";

export interface OpenAIOptions {
  url: string;
  model: string;
  apiKey: string;
}

/** Orders `data` by its `index` field: the API does not promise input order. */
function vectorsByIndex(provider: string, answer: unknown, count: number): unknown[] {
  const data = (answer as { data?: unknown } | null)?.data;
  const bad = (why: string) => new UpstreamError(`embedding provider ${provider} answered with ${why}`, { provider });
  if (!Array.isArray(data)) throw bad("no data list");
  if (data.length !== count) throw bad(`${data.length} embeddings for ${count} texts`);
  const out = new Array<unknown>(count);
  for (const item of data) {
    const index = (item as { index?: unknown } | null)?.index;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= count || out[index] !== undefined) {
      throw bad("a missing, repeated or out-of-range index");
    }
    out[index] = (item as { embedding?: unknown }).embedding;
  }
  return out;
}

export class OpenAIProvider extends UpstreamProvider {
  readonly name = "openai";

  constructor(private readonly opts: OpenAIOptions) {
    super(opts.model);
  }

  protected async request(texts: readonly string[], model: string, signal?: AbortSignal): Promise<unknown> {
    const answer = await postJson({
      provider: this.name,
      url: endpoint(this.opts.url, "/embeddings"),
      body: { model, input: texts, encoding_format: "float" },
      headers: this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {},
      signal,
      secrets: [this.opts.apiKey],
      maxBytes: responseCap(texts.length),
    });
    return vectorsByIndex(this.name, answer, texts.length);
  }
}
