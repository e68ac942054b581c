// The hnswlib wrapper turns the library's process-killing and silently-wrong inputs into errors.
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Graph } from "../../src/vector/hnsw.ts";
import { tempDir } from "../support/tmp.ts";

const params = { dim: 4, metric: "cosine" as const, m: 8, efConstruction: 32 };
const vec = (...x: number[]) => Float32Array.from(x);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function small(): Graph {
  const g = Graph.create(params, 0);
  for (let i = 0; i < 50; i++) g.add(i, vec(1, i, i % 3, 1));
  return g;
}

describe("hnsw wrapper", () => {
  test("bad vectors and labels throw instead of reaching native code", () => {
    const g = Graph.create(params, 0);
    expect(() => g.add(0, vec(1, 2, 3))).toThrow("dimensions");
    expect(() => g.add(0, vec(1, NaN, 3, 4))).toThrow("finite");
    expect(() => g.add(0, vec(0, 0, 0, 0))).toThrow("zero");
    expect(() => g.add(2 ** 32 + 5, vec(1, 2, 3, 4))).toThrow("uint32");
    expect(() => g.add(8.9, vec(1, 2, 3, 4))).toThrow("uint32");
    expect(() => g.search(vec(1, Infinity, 0, 0), 1, 10)).toThrow("finite");
    expect(g.size).toBe(0);
  });

  test("a throwing filter callback rejects labels instead of aborting the process", () => {
    const g = small();
    const hits = g.search(vec(1, 3, 0, 1), 5, 32, (label) => {
      if (label % 2 === 0) throw new Error("boom");
      return true;
    });
    expect(hits.length).toBe(5);
    expect(hits.every((h) => h.label % 2 === 1)).toBe(true);
  });

  test("k beyond the count and an empty graph are answered, not thrown", () => {
    expect(Graph.create(params, 0).search(vec(1, 0, 0, 0), 10, 10)).toEqual([]);
    expect(small().search(vec(1, 0, 0, 0), 5000, 10).length).toBe(50);
  });

  test("capacity grows past the initial size; re-adding a label replaces it, deleted ones come back live", () => {
    const g = Graph.create(params, 0);
    for (let i = 0; i < 3000; i++) g.add(i, vec(1, Math.sin(i), Math.cos(i), (i % 5) + 1));
    expect(g.capacity).toBeGreaterThanOrEqual(3000);
    g.add(7, vec(0, 0, 1, 0));
    expect(g.search(vec(0, 0, 1, 0), 1, 64)[0]!.label).toBe(7);
    g.markDeleted(7);
    expect(g.search(vec(0, 0, 1, 0), 1, 64)[0]!.label).not.toBe(7);
    g.add(7, vec(0, 0, 1, 0));
    expect(g.search(vec(0, 0, 1, 0), 1, 64)[0]!.label).toBe(7);
  });

  test("save and load round-trip; a file of another dimension or M is refused", () => {
    const dir = tempDir("lh-hnsw-");
    dirs.push(dir);
    const path = join(dir, "g.hnsw");
    const g = small();
    g.save(path);
    const loaded = Graph.load(path, params);
    expect(loaded.search(vec(1, 3, 0, 1), 3, 32)).toEqual(g.search(vec(1, 3, 0, 1), 3, 32));
    expect(() => Graph.load(path, { ...params, dim: 8 })).toThrow("4-dimensional");
    expect(() => Graph.load(path, { ...params, m: 16 })).toThrow("M=8");
  });
});
