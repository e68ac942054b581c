// Loading indexes at start-up (issue 11, point 6): the slab is filled from the saved graph file
// (not getPoint), several indexes load at once and report loaded/total, and a stop while the graph
// is still catching up snapshots what it holds, so the next start keeps that progress and replays
// only the rest (searchable exactly meanwhile).
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { silentLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { vectorSection } from "../../src/vector/config.ts";
import { Graph, readGraphVectors } from "../../src/vector/hnsw.ts";
import { type LoadProgress, VectorIndexes } from "../../src/vector/service.ts";
import { manifestKey } from "../../src/vector/snapshot.ts";
import { tempDir } from "../support/tmp.ts";
import { clustered, row } from "../support/vectors.ts";

const config = v.parse(vectorSection, {});
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});
const root = () => {
  const r = tempDir("lh-vec-startup-");
  roots.push(r);
  return r;
};

describe("readGraphVectors", () => {
  for (const metric of ["cosine", "l2", "ip"] as const) {
    test(`${metric}: every element's label and vector, exactly what getPoint gives, deleted ones included`, async () => {
      const dim = 13; // not a multiple of 4: the element layout has no padding to hide behind
      const params = { dim, metric, m: 8, efConstruction: 40 };
      const data = clustered(1500, dim, { seed: 3 });
      const graph = Graph.create(params, 0); // grows by resizing past 1024, as a live index does
      const labels = Array.from({ length: 1500 }, (_, i) => i * 7 + 1); // sparse, not the insertion order
      for (const [i, label] of labels.entries()) graph.add(label, data.subarray(i * dim, (i + 1) * dim));
      graph.markDeleted(labels[10]!);
      const file = join(root(), "g.hnsw");
      graph.save(file);
      const seen = new Map<number, number[]>();
      await readGraphVectors(file, params, (label, vec) => seen.set(label, Array.from(vec)));
      expect([...seen.keys()].sort((a, b) => a - b)).toEqual([...labels].sort((a, b) => a - b));
      // getPoint refuses a deleted label; its row is in the file all the same (the loader skips it).
      for (const label of labels) if (label !== labels[10]) expect(seen.get(label)).toEqual(Array.from(graph.vector(label)));
    });
  }

  test("a graph of another dimension is refused from its header, a truncated one when the read comes up short", async () => {
    const params = { dim: 8, metric: "l2" as const, m: 8, efConstruction: 40 };
    const graph = Graph.create(params, 0);
    for (let i = 0; i < 50; i++)
      graph.add(
        i,
        Float32Array.from({ length: 8 }, (_, j) => i + j),
      );
    const file = join(root(), "g.hnsw");
    graph.save(file);
    await expect(readGraphVectors(file, { ...params, dim: 9 }, () => {})).rejects.toThrow(/9/);
    const bytes = await Bun.file(file).bytes();
    await Bun.write(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(readGraphVectors(file, params, () => {})).rejects.toThrow(/truncated/);
  });
});

describe("VectorIndexes.open", () => {
  test("loads every index, reporting loaded of total as they finish; a damaged one is counted as failed", async () => {
    const r = root();
    const store = await FsObjectStore.open(r);
    const walRoot = join(r, "wal");
    const svc = await VectorIndexes.open(store, config, walRoot, silentLogger);
    const names = ["a", "b", "c", "d", "e", "f"];
    for (const [n, name] of names.entries()) {
      await svc.createIndex({ name, dim: 4, metric: "l2" });
      svc.upsert(
        name,
        Array.from({ length: n + 1 }, (_, i) => ({ id: `${name}${i}`, vector: [i, n, 1, 2], metadata: { i } })),
      );
    }
    await svc.close();
    await store.put(manifestKey("f"), "not json");

    const reports: LoadProgress[] = [];
    const again = await VectorIndexes.open(store, config, walRoot, silentLogger, undefined, (p) => reports.push(p));
    expect(reports[0]).toEqual({ indexes_total: 6, indexes_loaded: 0, indexes_failed: 0, items_loaded: 0 });
    expect(reports.at(-1)).toEqual({ indexes_total: 6, indexes_loaded: 5, indexes_failed: 1, items_loaded: 1 + 2 + 3 + 4 + 5 });
    expect(reports).toHaveLength(7);
    expect(again.unavailable()).toEqual(["f"]);
    expect(again.listIndexes().map((i) => [i.name, i.count])).toEqual([
      ["a", 1],
      ["b", 2],
      ["c", 3],
      ["d", 4],
      ["e", 5],
    ]);
    expect(again.getItem("e", "e4")).toEqual({ id: "e4", vector: [4, 4, 1, 2], metadata: { i: 4 } });
    await again.close();
  });

  test("a stop while the graph catches up snapshots its progress; the next start replays only the rest, searchable exactly", async () => {
    const r = root();
    const store = await FsObjectStore.open(r);
    const walRoot = join(r, "wal");
    const dim = 32;
    const n = 3000;
    const data = clustered(n, dim, { seed: 11 });
    const svc = await VectorIndexes.open(store, config, walRoot, silentLogger);
    await svc.createIndex({ name: "big", dim, metric: "cosine" });
    for (let b = 0; b < n; b += 100) {
      svc.upsert(
        "big",
        Array.from({ length: 100 }, (_, j) => ({ id: `v${b + j}`, vector: row(data, dim, b + j), metadata: { b } })),
      );
    }
    // Stop once the graph holds some of it but not all.
    for (;;) {
      const { indexed_seq, pending } = svc.getIndex("big");
      if (indexed_seq > 0 && pending > 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await svc.close();
    const manifest = JSON.parse(new TextDecoder().decode(await store.getBytes(manifestKey("big"))));
    const covered = manifest.snapshot.seq as number;
    expect(covered).toBeGreaterThan(0);
    expect(covered).toBeLessThan(n / 100);

    const again = await VectorIndexes.open(store, config, walRoot, silentLogger);
    const info = again.getIndex("big");
    expect(info).toMatchObject({ count: n, seq: n / 100, snapshot_seq: covered });
    // What the snapshot holds came back without being inserted again: at most the ops after it are pending.
    expect(info.pending).toBeLessThanOrEqual(n - covered * 100 + 100);
    expect(info.pending).toBeGreaterThan(0);
    // Every item is found by its own vector, from the graph or exactly from the pending set.
    for (let i = 0; i < n; i += 97) {
      const [hit] = (await again.search("big", { vector: row(data, dim, i), k: 1 })).hits;
      expect(hit!.id).toBe(`v${i}`);
    }
    expect(again.getItem("big", "v2999").metadata).toEqual({ b: 2900 });
    await again.waitIndexed("big");
    expect(again.getIndex("big").pending).toBe(0);
    await again.close();
  });
});
