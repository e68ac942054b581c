import { describe, expect, test } from "bun:test";
import type { Fused } from "../../src/matrix/fusion.ts";
import { applyBoosts, itemKey, type PlaybookSignal, playbookBoosts } from "../../src/matrix/playbook-boost.ts";

const NOW = Date.parse("2026-11-22T00:00:00Z");
const unit = (...xs: number[]) => {
  const n = Math.hypot(...xs);
  return xs.map((x) => x / n);
};
const pb = (id: string, item: string, outcome: "success" | "failure", vector: number[], daysAgo = 0, rating?: number): PlaybookSignal => ({
  id,
  corpus: "workers",
  item_id: item,
  outcome,
  rating,
  vector,
  created_ms: NOW - daysAgo * 86_400_000,
});
const opts = { minSimilarity: 0.6, weight: 2, halfLifeDays: 30, unit: 1, now: NOW };

describe("playbook boosts", () => {
  const q = unit(1, 0, 0);

  test("a success boosts by weight × similarity, a failure penalizes", () => {
    const b = playbookBoosts(q, [pb("p1", "w1", "success", unit(1, 0, 0)), pb("p2", "w2", "failure", unit(0.8, 0.6, 0))], opts);
    expect(b.get(itemKey("workers", "w1"))![0]!.effect).toBeCloseTo(2, 9);
    expect(b.get(itemKey("workers", "w2"))![0]!.effect).toBeCloseTo(-1.6, 9);
  });

  test("dissimilar past queries do not apply", () => {
    expect(playbookBoosts(q, [pb("p1", "w1", "success", unit(0.5, 0.866, 0))], opts).size).toBe(0);
  });

  test("effects halve every half-life and scale with the rating", () => {
    const b = playbookBoosts(q, [pb("old", "w1", "success", q, 30), pb("meh", "w2", "success", q, 0, 2)], opts);
    expect(b.get(itemKey("workers", "w1"))![0]!.effect).toBeCloseTo(1, 9);
    expect(b.get(itemKey("workers", "w2"))![0]!.effect).toBeCloseTo(0.8, 9);
  });

  test("applyBoosts re-ranks and records each boost", () => {
    const mk = (id: string, score: number): Fused => ({
      corpus: "workers",
      id,
      score,
      confidence: score,
      metadata: {},
      sources: [{ corpus: "workers", id, rank: 1, raw: 0, calibrated: score, contribution: score }],
    });
    const results = [mk("w0", 5), mk("w1", 4), mk("w2", 3.9)];
    const boosts = playbookBoosts(q, [pb("p1", "w1", "success", q), pb("p2", "w0", "failure", q)], opts);
    const out = applyBoosts(results, boosts);
    expect(out.results.map((r) => r.id)).toEqual(["w1", "w2", "w0"]);
    expect(out.results[0]!.score).toBeCloseTo(6, 9);
    expect(out.applied.get(out.results[0]!)![0]!.playbook).toBe("p1");
    expect(out.applied.has(out.results[1]!)).toBe(false);
  });
});
