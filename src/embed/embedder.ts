// The embedding service other modules call in-process (the matrix module does) and the HTTP
// routes wrap: checks a batch, answers what it can from the cache, sends only the misses to the
// provider under one deadline, and returns vectors in input order.
import { Timeout, UpstreamError, ValidationFailed } from "../errors.ts";
import { type CacheStats, cacheKey, EmbeddingCache } from "./cache.ts";
import type { EmbedProvider, Vector } from "./provider.ts";

export const MAX_MODEL_NAME = 200;

export interface Embedding {
  /** The model asked for, or the provider's default: the name the vectors are cached under. */
  model: string;
  dimension: number;
  /** One per input text, in input order; copies, never the cache's own arrays. */
  vectors: Vector[];
}

export interface EmbedderOptions {
  maxBatch: number;
  timeoutMs: number;
  cacheSize: number;
}

/** Rejects what no provider should see, naming the offending position. */
function checkBatch(texts: unknown, model: unknown, maxBatch: number): asserts texts is string[] {
  const fail = (path: string, message: string) => new ValidationFailed(`${path} ${message}`, [{ path, message }]);
  if (!Array.isArray(texts)) throw fail("texts", "must be an array of strings");
  if (texts.length === 0) throw fail("texts", "must hold at least one text");
  if (texts.length > maxBatch) throw fail("texts", `holds ${texts.length} texts; at most ${maxBatch} per request`);
  for (let i = 0; i < texts.length; i++) {
    const t: unknown = texts[i];
    if (typeof t !== "string") throw fail(`texts[${i}]`, `must be a string, not ${t === null ? "null" : typeof t}`);
    if (t.length === 0) throw fail(`texts[${i}]`, "is an empty string");
    // A lone surrogate becomes U+FFFD in UTF-8, so two different texts would share a cache key.
    if (!t.isWellFormed()) throw fail(`texts[${i}]`, "is not well-formed Unicode (lone surrogate)");
  }
  if (model !== undefined && (typeof model !== "string" || model.length === 0 || model.length > MAX_MODEL_NAME)) {
    throw fail("model", `must be a non-empty string of at most ${MAX_MODEL_NAME} characters`);
  }
}

/** A text being fetched: its place in an upstream batch that has not answered yet. */
interface InFlight {
  batch: Promise<number[][]>;
  index: number;
}

export class Embedder {
  readonly #cache: EmbeddingCache;
  readonly #inflight = new Map<string, InFlight>();
  #lastFailure: string | undefined;

  constructor(
    readonly provider: EmbedProvider,
    private readonly opts: EmbedderOptions,
  ) {
    this.#cache = new EmbeddingCache(opts.cacheSize);
  }

  get maxBatch(): number {
    return this.opts.maxBatch;
  }

  /** Why the last upstream call failed, until one succeeds (for health). */
  get lastFailure(): string | undefined {
    return this.#lastFailure;
  }

  stats(): CacheStats {
    return this.#cache.stats();
  }

  async embed(texts: readonly string[], model?: string): Promise<Embedding> {
    checkBatch(texts, model, this.opts.maxBatch);
    const effective = model ?? this.provider.defaultModel;
    const vectors = new Array<Vector>(texts.length);
    // Unique missing texts, each with every position it fills (a batch may repeat a text).
    const missing = new Map<string, { text: string; positions: number[] }>();
    // Texts another call is already fetching: wait for that answer instead of asking twice.
    const waits: { position: number; fetch: InFlight }[] = [];
    for (let i = 0; i < texts.length; i++) {
      const key = cacheKey(effective, texts[i]!);
      const hit = this.#cache.get(key);
      const pending = hit ? undefined : this.#inflight.get(key);
      if (hit) vectors[i] = hit;
      else if (pending) waits.push({ position: i, fetch: pending });
      else {
        const entry = missing.get(key);
        if (entry) entry.positions.push(i);
        else missing.set(key, { text: texts[i]!, positions: [i] });
      }
    }
    if (missing.size > 0) {
      const entries = [...missing];
      const batch = this.#fetch(
        entries.map(([, e]) => e.text),
        model,
      );
      for (const [index, [key]] of entries.entries()) this.#inflight.set(key, { batch, index });
      let fetched: number[][];
      try {
        fetched = await batch;
      } finally {
        for (const [key] of entries) this.#inflight.delete(key);
      }
      // The fetched arrays go to the cache as they are; every caller, this one included, gets a copy.
      for (let j = 0; j < entries.length; j++) {
        const [key, { positions }] = entries[j]!;
        this.#cache.set(key, fetched[j]!);
        for (const p of positions) vectors[p] = fetched[j]!.slice();
      }
    }
    for (const w of waits) vectors[w.position] = (await w.fetch.batch)[w.fetch.index]!.slice();
    const dimension = vectors[0]!.length;
    if (vectors.some((vec) => vec.length !== dimension)) {
      // Cached and fresh vectors disagree: the model behind the name changed (e.g. re-pulled).
      this.#cache.clear();
      throw new UpstreamError(`model "${effective}" of embedding provider ${this.provider.name} changed its dimension; cache cleared, retry`, {
        provider: this.provider.name,
      });
    }
    return { model: effective, dimension, vectors };
  }

  async #fetch(texts: string[], model: string | undefined): Promise<number[][]> {
    const ms = this.opts.timeoutMs;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Raced as well as signalled, so even a provider that ignores its signal cannot outlive the deadline.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new Timeout(`embedding by provider ${this.provider.name} took longer than ${ms} ms`, { provider: this.provider.name, timeout_ms: ms }));
      }, ms);
    });
    try {
      const out = await Promise.race([this.provider.embed(texts, model, abort.signal), deadline]);
      this.#lastFailure = undefined;
      return out;
    } catch (err) {
      if (err instanceof UpstreamError || err instanceof Timeout) this.#lastFailure = err.code;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
