import { describe, expect, test } from "bun:test";
import { BadRequest } from "../../src/errors.ts";
import { HashProvider, hashEmbed, tokenize } from "../../src/embed/hash-embedder.ts";

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: readonly number[]) => Math.sqrt(dot(a, a));

describe("hashEmbed", () => {
  test("is deterministic, and pinned: a change here invalidates every stored hash vector", () => {
    const a = hashEmbed("The quick brown fox", 384);
    expect(hashEmbed("The quick brown fox", 384)).toEqual(a);
    // Fingerprint of the algorithm: which buckets (1-based) are non-zero, and their signs.
    const fingerprint = a.flatMap((x, i) => (x === 0 ? [] : [x > 0 ? i + 1 : -(i + 1)])).slice(0, 8);
    expect(fingerprint).toEqual(PINNED_FINGERPRINT);
  });

  test("has the requested dimension and unit length, for any text", () => {
    for (const dim of [8, 384, 1000]) {
      for (const text of ["hello", "Hello, world! 123", "!!!", "   ", "日本語のテキスト", "x".repeat(5000), "a b c d e f g"]) {
        const vec = hashEmbed(text, dim);
        expect(vec).toHaveLength(dim);
        expect(norm(vec)).toBeCloseTo(1, 10);
        expect(vec.every(Number.isFinite)).toBe(true);
      }
    }
  });

  test("is signed: collisions cancel instead of only piling up", () => {
    const vec = hashEmbed("warehouse forklift operator on the night shift in chicago", 384);
    expect(vec.some((x) => x < 0)).toBe(true);
    expect(vec.some((x) => x > 0)).toBe(true);
  });

  test("ignores case but not content", () => {
    expect(hashEmbed("Hello World", 64)).toEqual(hashEmbed("hello world", 64));
    expect(hashEmbed("hello world", 64)).not.toEqual(hashEmbed("hello there", 64));
  });

  test("puts lexically similar texts closer than unrelated ones", () => {
    const cases: [string, string, string][] = [
      ["the quick brown fox jumps over the lazy dog", "a quick brown fox jumped over a lazy dog", "quarterly revenue grew in european markets"],
      ["forklift operator, night shift, Chicago", "night shift forklift operators in chicago", "registered nurse for a pediatric clinic"],
      ["vector embeddings for search", "vector embedings for serch", "baking sourdough bread at home"],
      ["invoice 2024-001 paid", "invoice 2024-001 overdue", "team offsite agenda"],
    ];
    for (const [a, similar, unrelated] of cases) {
      const va = hashEmbed(a, 384);
      expect(dot(va, hashEmbed(similar, 384))).toBeGreaterThan(dot(va, hashEmbed(unrelated, 384)) + 0.2);
    }
  });

  test("word order counts through bigrams, but only a little", () => {
    const a = hashEmbed("dog bites man", 384);
    const b = hashEmbed("man bites dog", 384);
    const sim = dot(a, b);
    expect(sim).toBeLessThan(0.999);
    expect(sim).toBeGreaterThan(0.7);
  });
});

describe("tokenize", () => {
  test("splits on anything but letters and digits, lower-cased; falls back to non-space runs", () => {
    expect(tokenize("Hello, World! 42x")).toEqual(["hello", "world", "42x"]);
    expect(tokenize("Ünïcode—dash")).toEqual(["ünïcode", "dash"]);
    expect(tokenize("?! ...")).toEqual(["?!", "..."]);
    expect(tokenize("   ")).toEqual([]);
  });
});

describe("HashProvider", () => {
  test("names its model after its dimension and serves only that model", async () => {
    const p = new HashProvider(128);
    expect(p.defaultModel).toBe("hash-128");
    expect(p.dimension).toBe(128);
    const [a, b] = await p.embed(["one", "two"]);
    expect(a).toEqual(hashEmbed("one", 128));
    expect(b).toEqual(hashEmbed("two", 128));
    expect(await p.embed(["one"], "hash-128")).toEqual([a!]);
    await expect(p.embed(["one"], "nomic-embed-text")).rejects.toBeInstanceOf(BadRequest);
  });
});

const PINNED_FINGERPRINT = [1, -2, -52, -65, -69, 78, 93, 106];
