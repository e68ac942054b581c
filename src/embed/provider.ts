// What every embedding provider offers. The Embedder (embedder.ts) puts the batch cap, the
// deadline and the cache around it; providers only turn texts into vectors.

/** One embedding. Each one the Embedder hands out is the caller's own copy, free to mutate. */
export type Vector = number[];

export type ProviderName = "hash" | "words" | "ollama" | "openai";

export interface EmbedProvider {
  readonly name: ProviderName;
  /** The model used when a request names none. */
  readonly defaultModel: string;
  /** Dimension of the default model's vectors; remote providers learn it from their first answer. */
  readonly dimension: number | undefined;
  /**
   * One vector per text, in input order. Throws BadRequest for a model the provider cannot serve,
   * UpstreamError when a server fails or answers nonsense, Timeout when `signal` fires first.
   */
  embed(texts: readonly string[], model?: string, signal?: AbortSignal): Promise<number[][]>;
}
