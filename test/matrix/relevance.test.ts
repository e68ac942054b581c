import { describe, expect, test } from "bun:test";
import type { Fused } from "../../src/matrix/fusion.ts";
import { applyRelevance } from "../../src/matrix/relevance.ts";

const r = (id: string, score: number, text?: string, metadata: Record<string, unknown> = {}): Fused => ({
  corpus: "c",
  id,
  score,
  confidence: score,
  metadata,
  text,
  sources: [],
});

describe("applyRelevance", () => {
  const results = [
    r("a", 9, "Forklift operator in Joliet, IL"),
    r("b", 8.5, "Warehouse associate, forklift certified"),
    r("c", 8, "Forklift  OPERATOR, night shift"),
    r("d", 4, "forklift operator"),
    r("e", 1, "cashier"),
  ];

  test("min score drops and counts each result below it", () => {
    const out = applyRelevance(results, { minScore: 5 });
    expect(out.kept.map((x) => x.id)).toEqual(["a", "b", "c"]);
    expect(out.counts).toEqual({ min_score: 2, required_terms: 0, gap: 0 });
    expect(out.drops.map((d) => [d.id, d.reason])).toEqual([
      ["d", "min_score"],
      ["e", "min_score"],
    ]);
  });

  test("required terms match whole words and phrases, case-insensitively", () => {
    const out = applyRelevance(results, { requiredTerms: ["forklift operator"] });
    expect(out.kept.map((x) => x.id)).toEqual(["a", "c", "d"]);
    expect(out.counts.required_terms).toBe(2);
    expect(out.drops[0]!.detail).toContain('"forklift operator"');
    // "fork" is not the word "forklift".
    expect(applyRelevance(results, { requiredTerms: ["fork"] }).kept).toEqual([]);
  });

  test("without text, required terms are looked for in the metadata values", () => {
    const out = applyRelevance([r("m", 1, undefined, { primary_skill: "Welder", city: "Joliet" }), r("n", 1, undefined, { primary_skill: "Driver" })], {
      requiredTerms: ["welder"],
    });
    expect(out.kept.map((x) => x.id)).toEqual(["m"]);
  });

  test("the gap cut drops everything after the first large drop", () => {
    const out = applyRelevance(results, { gap: 2 });
    expect(out.kept.map((x) => x.id)).toEqual(["a", "b", "c"]);
    expect(out.counts.gap).toBe(2);
    expect(out.drops.every((d) => d.reason === "gap")).toBe(true);
    expect(out.drops[0]!.detail).toContain("below rank 3");
  });

  test("a gap larger than any drop keeps everything", () => {
    expect(applyRelevance(results, { gap: 10 }).kept.length).toBe(5);
  });

  test("the cuts compose: min score and terms first, then the gap on what passed", () => {
    const out = applyRelevance(results, { minScore: 2, requiredTerms: ["operator"], gap: 3 });
    expect(out.kept.map((x) => x.id)).toEqual(["a", "c"]);
    expect(out.counts).toEqual({ min_score: 1, required_terms: 1, gap: 1 });
  });
});
