// A vector index's sequence numbers stay exact: a stored snapshot past 2^53 - 1 is damage (the
// index is unavailable), and one at exactly 2^53 - 1 loads but refuses writes instead of logging
// a record under a number that is no longer exact.
import { afterEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { silentLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { vectorSection } from "../../src/vector/config.ts";
import { VectorIndexes } from "../../src/vector/service.ts";
import { manifestKey } from "../../src/vector/snapshot.ts";
import { tempDir } from "../support/tmp.ts";

const config = v.parse(vectorSection, {});
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** An index "a" with a snapshot and no log, whose manifest and envelope then claim sequence `seq`. */
async function snapshotAt(seq: number) {
  const root = tempDir("lh-vec-seq-");
  roots.push(root);
  const store = await FsObjectStore.open(root);
  const walRoot = join(root, "wal");
  const svc = await VectorIndexes.open(store, config, walRoot, silentLogger);
  await svc.createIndex({ name: "a", dim: 3, metric: "l2" });
  svc.upsert("a", [{ id: "x", vector: [1, 0, 0] }]);
  await svc.waitIndexed("a");
  await svc.close();
  rmSync(walRoot, { recursive: true, force: true });
  const read = async (key: string) => JSON.parse(new TextDecoder().decode(await store.getBytes(key)));
  const manifest = await read(manifestKey("a"));
  const envelope = await read(manifest.snapshot.envelope);
  // Written as text: JSON.stringify of 2^53 is exact, and the reader must judge the number itself.
  await store.put(manifest.snapshot.envelope, JSON.stringify({ ...envelope, seq: 0 }).replace('"seq":0', `"seq":${seq}`));
  await store.put(manifestKey("a"), JSON.stringify({ ...manifest, snapshot: { ...manifest.snapshot, seq: 0 } }).replace('"seq":0', `"seq":${seq}`));
  return VectorIndexes.open(store, config, walRoot, silentLogger);
}

test("a snapshot at 2^53 - 1 loads and serves, and refuses writes with 503", async () => {
  const svc = await snapshotAt(Number.MAX_SAFE_INTEGER);
  expect(svc.unavailable()).toEqual([]);
  expect((await svc.search("a", { vector: [1, 0, 0], k: 1 })).hits.map((h) => h.id)).toEqual(["x"]);
  expect(() => svc.upsert("a", [{ id: "y", vector: [0, 1, 0] }])).toThrow(expect.objectContaining({ code: "unavailable" }));
  expect(() => svc.deleteItems("a", ["x"])).toThrow(expect.objectContaining({ code: "unavailable" }));
  expect(svc.getIndex("a")).toMatchObject({ count: 1, seq: Number.MAX_SAFE_INTEGER });
  await svc.close();
});

test("a snapshot past 2^53 - 1 is damage: the index is unavailable", async () => {
  const svc = await snapshotAt(2 ** 53);
  expect(svc.unavailable()).toEqual(["a"]);
  await svc.close();
});
