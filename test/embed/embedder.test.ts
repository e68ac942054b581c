import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Timeout, UpstreamError, ValidationFailed } from "../../src/errors.ts";
import { Embedder, type EmbedderOptions } from "../../src/embed/embedder.ts";
import { HashProvider, hashEmbed } from "../../src/embed/hash-embedder.ts";
import { OllamaProvider } from "../../src/embed/ollama.ts";
import { type FakeUpstream, fakeVector, startFakeOllama } from "./fake-upstreams.ts";

const MODEL = "nomic-embed-text";
let ollama: FakeUpstream;
beforeAll(() => {
  ollama = startFakeOllama();
});
afterAll(() => ollama.stop());
afterEach(() => ollama.reset());

function embedder(opts: Partial<EmbedderOptions> = {}): Embedder {
  return new Embedder(new OllamaProvider({ url: ollama.url, model: MODEL }), { maxBatch: 8, timeoutMs: 5_000, cacheSize: 100, ...opts });
}

/** What each upstream call asked for. */
const sent = () => ollama.requests.map((r) => (r.body as { input: string[] }).input);

describe("Embedder cache", () => {
  test("a repeated batch is answered from the cache without calling upstream", async () => {
    const e = embedder();
    const first = await e.embed(["a", "b"]);
    const second = await e.embed(["a", "b"]);
    expect(second).toEqual(first);
    expect(sent()).toEqual([["a", "b"]]);
    expect(e.stats()).toEqual({ hits: 2, misses: 2, hit_rate: 0.5, size: 2 });
  });

  test("a mixed batch fetches only its misses, each once, and keeps input order", async () => {
    const e = embedder();
    await e.embed(["a", "b"]);
    const out = await e.embed(["x", "a", "y", "x", "b"]);
    expect(sent()).toEqual([
      ["a", "b"],
      ["x", "y"],
    ]);
    expect(out).toEqual({ model: MODEL, dimension: fakeVector(MODEL, "a").length, vectors: ["x", "a", "y", "x", "b"].map((t) => fakeVector(MODEL, t)) });
    expect(e.stats()).toMatchObject({ hits: 2, misses: 5, size: 4 });
  });

  test("models are isolated: the same text under another model is fetched and cached apart", async () => {
    const e = embedder();
    const def = await e.embed(["same text"]);
    const other = await e.embed(["same text"], "all-minilm");
    const explicitDefault = await e.embed(["same text"], MODEL);
    expect(def.model).toBe(MODEL);
    expect(other.model).toBe("all-minilm");
    expect(other.vectors[0]).not.toEqual(def.vectors[0]);
    expect(explicitDefault).toEqual(def);
    expect(ollama.requests.map((r) => (r.body as { model: string }).model)).toEqual([MODEL, "all-minilm"]);
  });

  test("the cache key is the requested model, not the name the upstream answers with", async () => {
    const e = embedder();
    ollama.behaviour.raw = JSON.stringify({ model: "something-else:latest", embeddings: [[0.5, 0.5]] });
    await e.embed(["t"], "alias");
    delete ollama.behaviour.raw;
    expect((await e.embed(["t"], "alias")).vectors[0]).toEqual([0.5, 0.5]);
    expect(ollama.requests).toHaveLength(1);
  });

  test("the least recently used entry is evicted at capacity", async () => {
    const e = embedder({ cacheSize: 2 });
    await e.embed(["a"]);
    await e.embed(["b"]);
    await e.embed(["a"]); // a is now more recent than b
    await e.embed(["c"]); // evicts b
    expect(e.stats().size).toBe(2);
    await e.embed(["a", "c"]);
    expect(sent()).toEqual([["a"], ["b"], ["c"]]);
    await e.embed(["b"]);
    expect(sent()).toEqual([["a"], ["b"], ["c"], ["b"]]);
  });

  test("size 0 turns the cache off: every batch goes upstream", async () => {
    const e = embedder({ cacheSize: 0 });
    await e.embed(["a"]);
    await e.embed(["a"]);
    expect(sent()).toEqual([["a"], ["a"]]);
    expect(e.stats()).toEqual({ hits: 0, misses: 2, hit_rate: 0, size: 0 });
  });

  test("vectors handed out are the caller's own: mutating them changes neither the cache nor each other", async () => {
    const e = embedder();
    const first = await e.embed(["a", "a"]);
    first.vectors[0]![0] = 42;
    expect(first.vectors[1]).toEqual(fakeVector(MODEL, "a"));
    const hit = await e.embed(["a"]);
    expect(hit.vectors[0]).toEqual(fakeVector(MODEL, "a"));
    hit.vectors[0]![1] = 42;
    expect((await e.embed(["a"])).vectors[0]).toEqual(fakeVector(MODEL, "a"));
    expect(ollama.requests).toHaveLength(1);
  });

  test("concurrent calls share an in-flight fetch instead of asking twice for the same text", async () => {
    const e = embedder();
    ollama.behaviour.delayMs = 30;
    const [first, second] = await Promise.all([e.embed(["a", "b"]), e.embed(["b", "c", "b"])]);
    expect(sent()).toEqual([["a", "b"], ["c"]]);
    expect(first.vectors).toEqual(["a", "b"].map((t) => fakeVector(MODEL, t)));
    expect(second.vectors).toEqual(["b", "c", "b"].map((t) => fakeVector(MODEL, t)));
    second.vectors[0]![0] = 42;
    expect(second.vectors[2]).toEqual(fakeVector(MODEL, "b"));
    expect(first.vectors[1]).toEqual(fakeVector(MODEL, "b"));
  });

  test("a call waiting on another's fetch gets its failure, and the next call asks again", async () => {
    const e = embedder();
    ollama.behaviour.delayMs = 30;
    ollama.behaviour.fail = { status: 500, body: { error: "boom" } };
    const results = await Promise.allSettled([e.embed(["a"]), e.embed(["a"])]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(sent()).toEqual([["a"]]);
    delete ollama.behaviour.fail;
    await e.embed(["a"]);
    expect(sent()).toEqual([["a"], ["a"]]);
  });

  test("a failed fetch caches nothing", async () => {
    const e = embedder();
    ollama.behaviour.fail = { status: 500, body: { error: "boom" } };
    await expect(e.embed(["a"])).rejects.toBeInstanceOf(UpstreamError);
    delete ollama.behaviour.fail;
    await e.embed(["a"]);
    expect(sent()).toEqual([["a"], ["a"]]);
    expect(e.stats().size).toBe(1);
  });
});

describe("Embedder checks", () => {
  test.each([
    ["an empty string", ["ok", "", "ok"], "texts[1]", "texts[1] is an empty string"],
    ["a non-string", ["ok", "ok", 7], "texts[2]", "texts[2] must be a string, not number"],
    ["null", [null], "texts[0]", "texts[0] must be a string, not null"],
    ["a lone surrogate", ["ok", "bad \uD800 half"], "texts[1]", "texts[1] is not well-formed Unicode (lone surrogate)"],
    ["an empty batch", [], "texts", "texts must hold at least one text"],
    ["too many texts", Array.from({ length: 9 }, (_, i) => `t${i}`), "texts", "texts holds 9 texts; at most 8 per request"],
  ])("%s is rejected naming its position, before anything goes upstream", async (_name, texts, path, message) => {
    const err = await embedder()
      .embed(texts as string[])
      .catch((e) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect(err.message).toBe(message);
    expect(err.details).toEqual([{ path, message: message.slice(path.length + 1) }]);
    expect(ollama.requests).toHaveLength(0);
  });

  test("an empty model name is rejected", async () => {
    await expect(embedder().embed(["a"], "")).rejects.toBeInstanceOf(ValidationFailed);
  });
});

describe("Embedder deadline and failures", () => {
  test("one timeout covers the whole batch: a hanging upstream ends in Timeout naming provider and limit", async () => {
    const e = embedder({ timeoutMs: 80 });
    ollama.behaviour.hang = true;
    const err = await e.embed(["a", "b"]).catch((x) => x);
    expect(err).toBeInstanceOf(Timeout);
    expect(err.message).toBe("embedding by provider ollama took longer than 80 ms");
    expect(e.lastFailure).toBe("timeout");
    delete ollama.behaviour.hang;
    await e.embed(["a"]);
    expect(e.lastFailure).toBeUndefined();
  });

  test("the deadline holds even for a provider that ignores its abort signal", async () => {
    const stubborn = { name: "ollama" as const, defaultModel: "m", dimension: undefined, embed: () => new Promise<number[][]>(() => {}) };
    const e = new Embedder(stubborn, { maxBatch: 4, timeoutMs: 50, cacheSize: 10 });
    await expect(e.embed(["a"])).rejects.toBeInstanceOf(Timeout);
  });

  test("an upstream failure is remembered for health until a call succeeds", async () => {
    const e = embedder();
    ollama.behaviour.fail = { status: 503, body: { error: "loading" } };
    await expect(e.embed(["a"])).rejects.toThrow("embedding provider ollama failed with HTTP 503: loading");
    expect(e.lastFailure).toBe("upstream_error");
  });

  test("a dimension change behind a model name clears the cache instead of mixing spaces", async () => {
    const e = embedder();
    await e.embed(["a"]);
    ollama.behaviour.raw = JSON.stringify({ model: MODEL, embeddings: [[1, 0]] });
    await expect(e.embed(["a", "b"])).rejects.toThrow(/changed its dimension/);
    expect(e.stats().size).toBe(0);
  });
});

describe("Embedder with the hash provider", () => {
  test("answers with the hash vectors, model hash-<dim>", async () => {
    const e = new Embedder(new HashProvider(64), { maxBatch: 4, timeoutMs: 1_000, cacheSize: 10 });
    const out = await e.embed(["hello world", "hello world"]);
    expect(out.model).toBe("hash-64");
    expect(out.dimension).toBe(64);
    expect(out.vectors).toEqual([hashEmbed("hello world", 64), hashEmbed("hello world", 64)]);
    expect(e.stats()).toMatchObject({ misses: 2, size: 1 });
  });
});
