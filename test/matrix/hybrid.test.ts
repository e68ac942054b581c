// Combining a corpus's vector and lexical lists, pure: calibrated parts, the weighted standard
// score, exact scores for documents only one part found, nothing for a document the vector index lost.
import { describe, expect, test } from "bun:test";
import { combineHybrid } from "../../src/matrix/hybrid.ts";

const hit = (id: string, score: number) => ({ id, score, metadata: { id } });
const vc = { mean: 0.1, std: 0.1 };
const lc = { mean: 0.2, std: 0.05 };

describe("combineHybrid", () => {
  test("each part is calibrated against its own background and combined as (zv + w·zl)/sqrt(1 + w²)", () => {
    const out = combineHybrid({
      vector: [hit("a", 0.5), hit("b", 0.3)],
      lexical: [hit("b", 0.45), hit("c", 0.4)],
      vectorOf: new Map([["c", 0.2]]),
      lexicalOf: new Map([["a", 0.1]]),
      vectorCalibration: vc,
      lexicalCalibration: lc,
      lexicalWeight: 1,
    });
    // a: zv = 4, zl = -2 → 2/√2;  b: zv = 2, zl = 5 → 7/√2;  c: zv = 1, zl = 4 → 5/√2.
    expect(out.map((h) => h.id)).toEqual(["b", "c", "a"]);
    expect(out[0]!.score).toBeCloseTo(7 / Math.SQRT2, 12);
    expect(out[1]!.score).toBeCloseTo(5 / Math.SQRT2, 12);
    expect(out[2]!.score).toBeCloseTo(2 / Math.SQRT2, 12);
    expect(out[0]!.parts).toEqual({
      vector: { rank: 2, raw: 0.3, calibrated: expect.closeTo(2, 12) },
      lexical: { rank: 1, raw: 0.45, calibrated: expect.closeTo(5, 12) },
    });
    // Found by one part only: the other part is the exact score, with no rank.
    expect(out[1]!.parts.vector).toEqual({ rank: null, raw: 0.2, calibrated: expect.closeTo(1, 12) });
    expect(out[2]!.parts.lexical).toEqual({ rank: null, raw: 0.1, calibrated: expect.closeTo(-2, 12) });
  });

  test("the lexical weight tilts the merge; 0 is the vector order", () => {
    const input = {
      vector: [hit("a", 0.5), hit("b", 0.3)],
      lexical: [hit("b", 0.45)],
      vectorOf: new Map<string, number>(),
      lexicalOf: new Map([["a", 0.1]]),
      vectorCalibration: vc,
      lexicalCalibration: lc,
    };
    expect(combineHybrid({ ...input, lexicalWeight: 0 }).map((h) => h.id)).toEqual(["a", "b"]);
    const heavy = combineHybrid({ ...input, lexicalWeight: 3 });
    expect(heavy.map((h) => h.id)).toEqual(["b", "a"]);
    expect(heavy[0]!.score).toBeCloseTo((2 + 3 * 5) / Math.sqrt(10), 12);
  });

  test("a lexical hit the vector index no longer holds is not a result; an unindexed vector hit scores lexical 0", () => {
    const out = combineHybrid({
      vector: [hit("a", 0.5)],
      lexical: [hit("gone", 0.9)],
      vectorOf: new Map(),
      lexicalOf: new Map(),
      vectorCalibration: vc,
      lexicalCalibration: lc,
      lexicalWeight: 1,
    });
    expect(out.map((h) => h.id)).toEqual(["a"]);
    expect(out[0]!.parts.lexical).toEqual({ rank: null, raw: 0, calibrated: expect.closeTo(-4, 12) });
  });

  test("without a recorded background each part is calibrated against its own list", () => {
    const out = combineHybrid({
      vector: [hit("a", 0.9), hit("b", 0.1)],
      lexical: [hit("b", 0.8), hit("a", 0.2)],
      vectorOf: new Map(),
      lexicalOf: new Map(),
      lexicalWeight: 1,
    });
    // Self-calibrated, both lists are ±1 standard deviation: a tie, broken by id.
    expect(out.map((h) => h.id)).toEqual(["a", "b"]);
    for (const h of out) expect(h.score).toBeCloseTo(0, 12);
  });
});
