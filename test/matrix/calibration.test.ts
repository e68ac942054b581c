import { expect, test } from "bun:test";
import { backgroundOf, MIN_BACKGROUND_STD, probeTexts } from "../../src/matrix/calibration.ts";

test("probes are short word windows, one per text, deterministic", () => {
  const p = probeTexts(["one two three four five six", "alpha beta", "", "x y z w v"], 10);
  expect(p.map((x) => x.source)).toEqual([0, 1, 3]);
  expect(p[1]!.text).toBe("alpha beta");
  expect(p[0]!.text.split(" ").length).toBe(4);
  expect(probeTexts(["one two three four five six"], 10)).toEqual([p[0]!]);
  expect(probeTexts(["a b", "c d", "e f"], 2).length).toBe(2);
});

test("the background skips each probe's own document and floors the spread", () => {
  const docs = [
    [1, 0],
    [0, 1],
    [Math.SQRT1_2, Math.SQRT1_2],
  ];
  const probes = Array.from({ length: 6 }, (_, i) => ({ vector: [2, 0], source: i % 3 }));
  const bg = backgroundOf(probes, docs)!;
  // Each [1,0] probe scores the two documents it was not cut from.
  const pairs = [0, Math.SQRT1_2, 1, Math.SQRT1_2, 1, 0];
  expect(bg.mean).toBeCloseTo(pairs.reduce((a, b) => a + b) / 6, 9);
  const same = backgroundOf(
    Array.from({ length: 6 }, (_, i) => ({ vector: [1, 0], source: i })),
    Array.from({ length: 6 }, () => [1, 0]),
  )!;
  expect(same.std).toBe(MIN_BACKGROUND_STD);
  expect(backgroundOf([{ vector: [1, 0], source: 0 }], docs)).toBeNull();
});
