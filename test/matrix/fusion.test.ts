import { describe, expect, test } from "bun:test";
import { type CorpusHit, fuse, selfCalibration } from "../../src/matrix/fusion.ts";

const hit = (id: string, score: number, metadata: Record<string, unknown> = {}): CorpusHit => ({ id, score, metadata });

describe("fuse", () => {
  // Corpus "long" scores everything 0.80-0.86 (long texts share many words); "short" spreads 0.1-0.7.
  const lists = new Map([
    ["long", [hit("l1", 0.86), hit("l2", 0.85), hit("l3", 0.84)]],
    ["short", [hit("s1", 0.7), hit("s2", 0.2), hit("s3", 0.1)]],
  ]);
  const calibration = { long: { mean: 0.8, std: 0.03 }, short: { mean: 0.1, std: 0.1 } };

  test("calibrated fusion puts a strong match of the low-scale corpus above weak matches of the high-scale one", () => {
    const out = fuse(lists, { method: "calibrated", rrfK: 60, calibration });
    // s1 is 6 std above its background; l1 only 2.
    expect(out.map((r) => r.id)).toEqual(["s1", "l1", "l2", "l3", "s2", "s3"]);
    expect(out[0]!.score).toBeCloseTo(6, 6);
    expect(out[0]!.confidence).toBeCloseTo(6, 6);
  });

  test("raw scores would have let the high-scale corpus drown the other", () => {
    const raw = [...lists].flatMap(([, hs]) => hs).sort((a, b) => b.score - a.score);
    expect(raw[0]!.id).toBe("l1");
  });

  test("rrf uses ranks only, with the recorded k", () => {
    const out = fuse(lists, { method: "rrf", rrfK: 10, calibration });
    expect(out[0]!.score).toBeCloseTo(1 / 11, 9);
    expect(
      out
        .map((r) => r.id)
        .slice(0, 2)
        .sort(),
    ).toEqual(["l1", "s1"]);
    expect(out[0]!.sources[0]!.rank).toBe(1);
  });

  test("per-corpus weights scale a corpus's contribution", () => {
    const out = fuse(lists, { method: "calibrated", rrfK: 60, calibration, weights: { short: 0.2 } });
    expect(out[0]!.id).toBe("l1");
    const s1 = out.find((r) => r.id === "s1")!;
    expect(s1.score).toBeCloseTo(1.2, 6);
    expect(s1.confidence).toBeCloseTo(6, 6);
  });

  test("dedupe merges one entity found in two corpora and keeps its best source", () => {
    const dup = new Map([
      ["workers", [hit("w1", 0.9, { person: "p1" }), hit("w2", 0.5, { person: "p2" })]],
      ["candidates", [hit("c9", 0.6, { person: "p1" }), hit("c3", 0.4, { person: "p3" })]],
    ]);
    const cal = { workers: { mean: 0, std: 0.1 }, candidates: { mean: 0, std: 0.1 } };
    const out = fuse(dup, { method: "calibrated", rrfK: 60, calibration: cal, dedupeKey: "person" });
    expect(out.map((r) => `${r.corpus}/${r.id}`)).toEqual(["workers/w1", "workers/w2", "candidates/c3"]);
    expect(out[0]!.sources.map((s) => s.id)).toEqual(["w1", "c9"]);
    expect(out[0]!.score).toBeCloseTo(9, 6);

    const rrf = fuse(dup, { method: "rrf", rrfK: 60, calibration: cal, dedupeKey: "person" });
    expect(rrf[0]!.score).toBeCloseTo(2 / 61, 9);
  });

  test("without a dedupe key, or when the key is missing, results stay separate", () => {
    const dup = new Map([
      ["a", [hit("x", 0.9, { person: "p1" })]],
      ["b", [hit("x", 0.8, {})]],
    ]);
    expect(fuse(dup, { method: "calibrated", rrfK: 60 }).length).toBe(2);
    expect(fuse(dup, { method: "calibrated", rrfK: 60, dedupeKey: "person" }).length).toBe(2);
  });

  test("a corpus without a background is calibrated against its own list", () => {
    expect(selfCalibration([1, 3]).mean).toBe(2);
    expect(selfCalibration([1, 3]).std).toBe(1);
    expect(selfCalibration([]).std).toBe(1);
    expect(selfCalibration([5, 5]).std).toBeGreaterThan(0);
  });
});
