// The graph worker thread: searches during writes and catch-up never see a half-applied item and
// never bring a delete back; a worker that throws or exits is replaced and its graph rebuilt from
// the snapshot and the log without losing an acknowledged item; a graceful stop waits for the
// worker's snapshot. Faults are injected through a message the worker obeys only when the service
// was opened with the test-only `testFaults` option.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { memoryLogger, silentLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { S3ObjectStore } from "../../src/storage/s3-store.ts";
import { vectorSection } from "../../src/vector/config.ts";
import { VectorIndexes } from "../../src/vector/service.ts";
import { manifestKey } from "../../src/vector/snapshot.ts";
import { type RunningS3, s3Options, startS3rver } from "../support/s3rver.ts";
import { tempDir } from "../support/tmp.ts";
import { clustered, row } from "../support/vectors.ts";

const DIM = 24;
const roots: string[] = [];
const open: VectorIndexes[] = [];
let s3: RunningS3;
beforeAll(async () => {
  s3 = await startS3rver("vector-worker-test");
});
afterAll(async () => {
  await s3.stop();
});
afterEach(async () => {
  for (const svc of open.splice(0)) await svc.close();
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

async function service(opts: { faults?: boolean; config?: Record<string, unknown>; root?: string; backend?: "fs" | "s3" } = {}) {
  const root = opts.root ?? tempDir("lh-vec-worker-");
  if (!opts.root) roots.push(root);
  // The log is on local disk with either backend; snapshots go to the store.
  const store = opts.backend === "s3" ? await S3ObjectStore.open(s3Options(s3), silentLogger) : await FsObjectStore.open(root);
  const log = memoryLogger();
  const config = v.parse(vectorSection, opts.config ?? {});
  const svc = await VectorIndexes.open(store, config, join(root, "wal"), log, undefined, undefined, { testFaults: opts.faults ?? false });
  open.push(svc);
  return { svc, log, root, store };
}

const unit = (x: ArrayLike<number>) => {
  const n = Math.hypot(...Array.from(x));
  return Array.from(x, (v) => v / n);
};
const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  const ua = unit(a);
  const ub = unit(b);
  return ua.reduce((s, x, i) => s + x * ub[i]!, 0);
};

/** The model of what is acknowledged: id → vector and metadata, and the ids deleted for good. */
class Model {
  readonly live = new Map<string, { vector: number[]; metadata: Record<string, unknown> | null }>();
  readonly deleted = new Set<string>();
}

/** Every live item is found by its own vector; no deleted id is ever returned. All searches are posted at once. */
async function checkAll(svc: VectorIndexes, name: string, model: Model): Promise<void> {
  expect(svc.getIndex(name).count).toBe(model.live.size);
  const items = [...model.live];
  const results = await Promise.all(items.map(([, item]) => svc.search(name, { vector: item.vector, k: 3 })));
  for (const [i, { hits }] of results.entries()) {
    const [id, item] = items[i]!;
    expect(hits[0]?.id).toBe(id);
    expect(hits[0]!.metadata).toEqual(item.metadata);
    for (const h of hits) expect(model.deleted.has(h.id)).toBe(false);
  }
}

describe("graph worker", () => {
  test("searches during writes and catch-up: every hit is live with its acknowledged vector's score; deletes never come back", async () => {
    const { svc } = await service();
    await svc.createIndex({ name: "c", dim: DIM });
    const data = clustered(4000, DIM, { seed: 21 });
    const model = new Model();
    let version = 0;
    const vectorOf = (i: number) => row(data, DIM, (i + version * 997) % 4000);
    let writing = true;
    let searches = 0;
    const writer = (async () => {
      for (let round = 0; round < 30; round++) {
        version = round;
        const items = Array.from({ length: 40 }, (_, j) => {
          const i = (round * 13 + j * 7) % 200;
          return { id: `p${i}`, vector: vectorOf(i), metadata: { round } };
        });
        svc.upsert("c", items);
        for (const it of items) {
          model.live.set(it.id, { vector: it.vector, metadata: it.metadata });
          model.deleted.delete(it.id);
        }
        const gone = Array.from({ length: 6 }, (_, j) => `p${(round * 31 + j * 17) % 200}`).filter((id) => model.live.has(id));
        svc.deleteItems("c", gone);
        for (const id of gone) {
          model.live.delete(id);
          model.deleted.add(id);
        }
        // Writes happen in their own turns; a search's merge and its continuation never straddle one.
        await Bun.sleep(1);
      }
      writing = false;
    })();
    const searcher = async (seed: number) => {
      while (writing) {
        const q = row(data, DIM, (seed * 7 + searches) % 4000);
        const { hits } = await svc.search("c", { vector: q, k: 10 });
        searches++;
        for (const h of hits) {
          const item = model.live.get(h.id);
          expect(item).toBeDefined();
          // The score is the acknowledged vector's: never an older version's, never a torn one.
          expect(Math.abs(h.score - cos(q, item!.vector))).toBeLessThan(1e-4);
          expect(h.metadata).toEqual(item!.metadata);
        }
      }
    };
    await Promise.all([writer, searcher(1), searcher(2), searcher(3)]);
    expect(searches).toBeGreaterThan(30);
    await svc.waitIndexed("c");
    expect(svc.getIndex("c").pending).toBe(0);
    await checkAll(svc, "c", model);
  }, 60_000);

  for (const [backend, kind] of [
    ["fs", "throw"],
    ["fs", "exit"],
    ["s3", "throw"],
    ["s3", "exit"],
  ] as const) {
    test(`${backend}: a worker that ${kind === "throw" ? "throws" : "exits"} mid catch-up is replaced from snapshot + log; nothing acknowledged is lost`, async () => {
      // A small compaction threshold: a snapshot exists part way, so the rebuild is snapshot + log, not log alone.
      const { svc, log, root } = await service({ faults: true, config: { compact_after_bytes: 64 * 1024 }, backend });
      const f = `f-${kind}`;
      await svc.createIndex({ name: f, dim: DIM, metric: "cosine" });
      const data = clustered(3000, DIM, { seed: 5 });
      const model = new Model();
      const write = (from: number, to: number, withMetadata: boolean) => {
        const items = Array.from({ length: to - from }, (_, j) => {
          const i = from + j;
          return withMetadata ? { id: `v${i}`, vector: row(data, DIM, i), metadata: { i } } : { id: `v${i}`, vector: row(data, DIM, i + 2700) };
        });
        svc.upsert(f, items);
        for (const it of items) {
          const before = model.live.get(it.id);
          model.live.set(it.id, { vector: it.vector, metadata: "metadata" in it ? (it.metadata as Record<string, unknown>) : (before?.metadata ?? null) });
        }
      };
      for (let b = 0; b < 1200; b += 100) write(b, b + 100, true);
      await svc.waitIndexed(f);
      // The compaction snapshot runs after the graph caught up; wait for it to be committed.
      for (let i = 0; i < 500 && svc.getIndex(f).snapshot_seq === 0; i++) await Bun.sleep(10);
      expect(svc.getIndex(f).snapshot_seq).toBeGreaterThan(0);
      // More writes after the snapshot, some keeping their metadata (the rebuilt envelope must carry it).
      for (let b = 1200; b < 2400; b += 100) write(b, b + 100, true);
      write(100, 200, false);
      const gone = Array.from({ length: 50 }, (_, j) => `v${j * 20}`);
      svc.deleteItems(f, gone);
      for (const id of gone) {
        model.live.delete(id);
        model.deleted.add(id);
      }
      expect(svc.getIndex(f).pending).toBeGreaterThan(0);

      svc.injectGraphFault(f, kind);
      // Writes and searches keep being served while the replacement is built.
      write(2400, 2600, true);
      // Searches posted at once while the replacement is being built: they wait for it, and what the
      // dead worker had applied since the snapshot is pending again (scanned exactly) until the new
      // one has it, so every item is found.
      await checkAll(svc, f, model);
      await svc.waitIndexed(f);
      const died = log.lines.find((l) => l.level === "error" && l.msg.startsWith("vector graph worker died"));
      // The reason, without the source lines and paths Bun's error event quotes.
      expect(died?.fields?.reason).toBe(kind === "throw" ? "graph worker error: injected graph worker fault" : "graph worker exited (code 70)");
      expect(log.lines.some((l) => l.msg === "vector graph worker replaced")).toBe(true);
      expect(svc.getIndex(f).pending).toBe(0);
      await checkAll(svc, f, model);

      // The replacement's snapshot is sound: a restart from it alone (log gone) has every item and its metadata.
      await svc.close();
      open.splice(open.indexOf(svc), 1);
      rmSync(join(root, "wal"), { recursive: true, force: true });
      const { svc: again } = await service({ root, backend });
      roots.push(root);
      await checkAll(again, f, model);
    }, 60_000);
  }

  test("a worker that keeps dying leaves the index's searches unavailable (503) instead of looping", async () => {
    const { svc, log } = await service({ faults: true });
    await svc.createIndex({ name: "d", dim: 4, metric: "l2" });
    svc.upsert("d", [{ id: "a", vector: [1, 2, 3, 4] }]);
    // Five deaths within a minute are replaced; the sixth is not.
    for (let death = 1; death <= 5; death++) {
      svc.injectGraphFault("d", "exit");
      expect((await svc.search("d", { vector: [1, 2, 3, 4], k: 1 })).hits[0]!.id).toBe("a");
    }
    svc.injectGraphFault("d", "exit");
    await expect(svc.search("d", { vector: [1, 2, 3, 4], k: 1 })).rejects.toMatchObject({ code: "unavailable" });
    expect(log.lines.some((l) => l.msg.startsWith("vector graph worker could not be rebuilt"))).toBe(true);
    // /health reports the vector module degraded with this index among unavailable_indexes.
    expect(svc.unavailable()).toEqual(["d"]);
    // The log still holds every acknowledged write: writes are still taken, and reads of items answer.
    expect(svc.getItem("d", "a").vector).toEqual([1, 2, 3, 4]);
  });

  test("a fault message is ignored unless the service was opened with testFaults", async () => {
    const { svc, log } = await service();
    await svc.createIndex({ name: "n", dim: 4, metric: "l2" });
    svc.upsert("n", [{ id: "a", vector: [1, 2, 3, 4] }]);
    svc.injectGraphFault("n", "exit");
    await svc.waitIndexed("n");
    expect((await svc.search("n", { vector: [1, 2, 3, 4], k: 1 })).hits[0]!.id).toBe("a");
    expect(log.lines.filter((l) => l.level === "error")).toEqual([]);
  });

  test("a graceful stop waits for the worker's snapshot of what it applied, also mid catch-up", async () => {
    const { svc, root, store } = await service();
    await svc.createIndex({ name: "s", dim: DIM });
    const data = clustered(3000, DIM, { seed: 9 });
    for (let b = 0; b < 3000; b += 300)
      svc.upsert(
        "s",
        Array.from({ length: 300 }, (_, j) => ({ id: `s${b + j}`, vector: row(data, DIM, b + j) })),
      );
    // Give the worker a moment to apply some, not all.
    await Bun.sleep(50);
    await svc.close();
    open.splice(open.indexOf(svc), 1);
    // When close() resolved, the manifest already named the worker's snapshot.
    const manifest = JSON.parse(new TextDecoder().decode(await store.getBytes(manifestKey("s"))));
    expect(manifest.snapshot?.seq).toBeGreaterThan(0);
    const { svc: again } = await service({ root });
    roots.push(root);
    const info = again.getIndex("s");
    expect(info.count).toBe(3000);
    expect(info.snapshot_seq).toBe(manifest.snapshot.seq);
    for (let i = 0; i < 3000; i += 111) expect((await again.search("s", { vector: row(data, DIM, i), k: 1 })).hits[0]!.id).toBe(`s${i}`);
  });
});
