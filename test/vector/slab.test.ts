// The slab and its WebAssembly SIMD kernels: scores agree with the plain arithmetic, views survive
// growth, a full slab refuses before anything changes, and the kernels match their source.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TooLarge } from "../../src/errors.ts";
import { VectorSlab } from "../../src/vector/slab.ts";
import { distance } from "../support/vectors.ts";
import { compileKernels } from "../../scripts/build-wasm.ts";

const rowOf = (label: number, dim: number) => Float32Array.from({ length: dim }, (_, i) => Math.sin(label * 31 + i));

describe("vector slab", () => {
  test("scores agree with the plain distance for every metric and dimensions that are not multiples of 4 or 16", () => {
    for (const dim of [1, 3, 4, 7, 16, 21, 37, 384]) {
      const slab = new VectorSlab(dim, 2);
      for (let l = 0; l < 50; l++) slab.set(l, rowOf(l, dim));
      const q = Float32Array.from({ length: dim }, (_, i) => Math.cos(i));
      const labels = [49, 0, 17, 17, 3];
      for (const metric of ["l2", "ip", "cosine"] as const) {
        const got: [number, number][] = [];
        slab.score(metric, q, labels, (i, d) => got.push([i, d]));
        expect(got.map(([i]) => i)).toEqual([0, 1, 2, 3, 4]);
        // Float32 sums, as hnswlib's: equal to the double-precision figure within float32 rounding.
        for (const [i, d] of got) {
          const want = distance(metric, q, rowOf(labels[i]!, dim));
          expect(Math.abs(d - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
        }
      }
      expect(Array.from(slab.get(17))).toEqual(Array.from(rowOf(17, dim)));
    }
  });

  test("more labels than one kernel call takes are scored in chunks, in order", () => {
    const slab = new VectorSlab(2, 10);
    for (let l = 0; l < 10; l++) slab.set(l, [l, 1]);
    const labels = Array.from({ length: 70_000 }, (_, i) => i % 10);
    let n = 0;
    let ok = true;
    slab.score("ip", Float32Array.from([1, 0]), labels, (i, d) => {
      ok &&= i === n && d === 1 - labels[i]!;
      n++;
    });
    expect(n).toBe(70_000);
    expect(ok).toBe(true);
  });

  test("a slab that cannot grow refuses the reservation and keeps what it held", () => {
    const dim = 4;
    const slab = new VectorSlab(dim, 1, 64 * 4 * dim);
    for (let l = 0; l < 64; l++) slab.set(l, rowOf(l, dim));
    expect(() => slab.reserve(65)).toThrow(TooLarge);
    expect(() => slab.set(64, rowOf(64, dim))).toThrow(TooLarge);
    expect(Array.from(slab.get(63))).toEqual(Array.from(rowOf(63, dim)));
  });

  test("the committed kernels are the compiled kernels.wat", async () => {
    const committed = readFileSync(join(import.meta.dir, "..", "..", "src", "vector", "simd", "kernels.wasm.ts"), "utf8");
    expect(committed).toBe(await compileKernels());
  });
});
