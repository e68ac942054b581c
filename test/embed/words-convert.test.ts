import { describe, expect, test } from "bun:test";
import { convertWink, firstComponent, harmonicNumber, zipfProbability } from "../../src/embed/words-convert.ts";
import { decodeWordsTable, encodeWordsTable, lookupWord, wordAt } from "../../src/embed/words-format.ts";
import { COMMON, DIM, syntheticWink, VOCAB } from "./words-fixture.ts";

const convert = () => convertWink(syntheticWink(), { model: "words-test", buckets: 256, corpusSentences: 2000 });

describe("convertWink", () => {
  test("keeps only words the tokenizer can produce, in frequency order", () => {
    const t = convert();
    // "," (punctuation), "Capital" (upper case: tokens are lower-cased) and "e-mail" (not one token) go.
    expect(t.words).toEqual(VOCAB.map(([w]) => w).filter((w) => ![",", "Capital", "e-mail"].includes(w)));
    expect(t.words).toContain("café");
    expect(convertWink(syntheticWink(), { model: "m", buckets: 256, maxWords: 5 }).words).toEqual(["the", "of", "and", "a", "is"]);
  });

  test("SIF weights are a / (a + p(w)) with p the Zipf estimate from the SOURCE rank", () => {
    const src = syntheticWink();
    const t = convert();
    const h = harmonicNumber(src.words.length);
    expect(h).toBeCloseTo(3.6908133, 6); // H_22
    for (const [i, w] of t.words.entries()) {
      const rank = src.words.indexOf(w) + 1; // "of" keeps rank 3 although "," was dropped
      expect(t.weights[i]!).toBeCloseTo(1e-3 / (1e-3 + zipfProbability(rank, h)), 6);
    }
    expect(zipfProbability(3, h)).toBeCloseTo(1 / (3 * h), 12);
    // Frequent words weigh less: "the" (rank 1) far below "café" (rank 22).
    expect(t.weights[0]!).toBeLessThan(t.weights[t.words.indexOf("café")]! / 2);
    expect(t.oovWeight).toBeCloseTo(1e-3 / (1e-3 + 1 / (22 * h)), 6);
  });

  test("rows are int8 with a per-row scale: within half a step of the source", () => {
    const src = syntheticWink();
    const t = convert();
    for (const [i, w] of t.words.entries()) {
      const want = src.vectors[w]!.slice(0, DIM);
      const max = Math.max(...want.map(Math.abs));
      expect(t.scales[i]!).toBeCloseTo(max / 127, 6);
      for (let d = 0; d < DIM; d++) expect(Math.abs(t.vectors[i * DIM + d]! * t.scales[i]! - want[d]!)).toBeLessThanOrEqual(t.scales[i]! / 2 + 1e-6);
    }
  });

  test("the common component is the shared direction of the vectors", () => {
    const u = convert().component;
    const norm = Math.hypot(...u);
    expect(norm).toBeCloseTo(1, 5);
    // Every synthetic word is 2·COMMON plus its topic axis: the first principal direction of the
    // sentence vectors lies close to COMMON (topics tilt it a little).
    const cos = Math.abs(u.reduce((s, x, d) => s + x * COMMON[d]!, 0));
    expect(cos).toBeGreaterThan(0.9);
  });

  test("firstComponent finds the top eigenvector of a known matrix", () => {
    // C = diag(1, 5, 2) rotated by 45° in the first two axes: top eigenvector (−1, 1, 0)/√2.
    const c = new Float64Array([3, -2, 0, -2, 3, 0, 0, 0, 2]);
    const u = firstComponent(c, 3);
    expect(Math.abs(u[0]!)).toBeCloseTo(Math.SQRT1_2, 5);
    expect(u[0]! * u[1]!).toBeCloseTo(-0.5, 5);
    expect(u[2]!).toBeCloseTo(0, 5);
  });

  test("is deterministic: the same source gives a byte-identical table", () => {
    const a = encodeWordsTable(convert());
    const b = encodeWordsTable(convert());
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const t = decodeWordsTable(a);
    expect(t.model).toBe("words-test");
    expect(lookupWord(t, "forklift")).toBe(convert().words.indexOf("forklift"));
    expect(wordAt(t, lookupWord(t, "café"))).toBe("café");
  });
});
