// A snapshot's JSON (manifest and envelope) is checked when an index loads: one that does not hold
// together leaves that index unavailable (and says so on the event bus), never a crash, a wrong id
// map or a read outside the index's folder; its siblings load as usual.
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { EventBus, type LakehouseEvents } from "../../src/events.ts";
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

/** Two indexes with a snapshot each (the final one taken at close), and no log left: the snapshot alone must load. */
async function twoSnapshotted() {
  const root = tempDir("lh-vec-damage-");
  roots.push(root);
  const store = await FsObjectStore.open(root);
  const walRoot = join(root, "wal");
  const svc = await VectorIndexes.open(store, config, walRoot, silentLogger);
  for (const name of ["good", "bad"]) {
    await svc.createIndex({ name, dim: 3, metric: "l2" });
    svc.upsert(name, [
      { id: "a", vector: [1, 0, 0], metadata: { n: 1 } },
      { id: "b", vector: [0, 1, 0] },
    ]);
    await svc.waitIndexed(name);
  }
  await svc.close();
  rmSync(walRoot, { recursive: true, force: true });
  const manifest = JSON.parse(new TextDecoder().decode(await store.getBytes(manifestKey("bad"))));
  expect(manifest.snapshot).toMatchObject({ seq: 1, count: 2 });
  const reopen = async () => {
    const events = new EventBus(silentLogger);
    const seen: LakehouseEvents["vector.index_unavailable"][] = [];
    events.on("vector.index_unavailable", (e) => {
      seen.push(e);
    });
    return { svc: await VectorIndexes.open(store, config, walRoot, silentLogger, events), seen };
  };
  return { store, manifest, reopen };
}

describe("damaged snapshot JSON", () => {
  test("an intact snapshot loads with its ids and metadata", async () => {
    const { reopen } = await twoSnapshotted();
    const { svc, seen } = await reopen();
    expect(seen).toEqual([]);
    expect(svc.getIndex("bad")).toMatchObject({ count: 2, seq: 1, snapshot_seq: 1 });
    expect(svc.getItem("bad", "a")).toEqual({ id: "a", vector: [1, 0, 0], metadata: { n: 1 } });
    await svc.close();
  });

  const damages: [string, (s: { store: FsObjectStore; manifest: any }) => Promise<unknown>][] = [
    ["an envelope that is not JSON", ({ store, manifest }) => store.put(manifest.snapshot.envelope, "{not json")],
    [
      "an envelope whose arrays differ in length",
      async ({ store, manifest }) => store.put(manifest.snapshot.envelope, JSON.stringify({ seq: 1, labels: [0, 1], ids: ["a"], metadata: [null, null] })),
    ],
    [
      "an envelope with an id twice",
      async ({ store, manifest }) => store.put(manifest.snapshot.envelope, JSON.stringify({ seq: 1, labels: [0, 1], ids: ["a", "a"], metadata: [null, null] })),
    ],
    [
      "an envelope of another sequence",
      async ({ store, manifest }) => store.put(manifest.snapshot.envelope, JSON.stringify({ seq: 7, labels: [0, 1], ids: ["a", "b"], metadata: [null, null] })),
    ],
    [
      "a manifest out of bounds",
      ({ store, manifest }) => store.put(manifestKey("bad"), JSON.stringify({ ...manifest, params: { ...manifest.params, dim: 0 } })),
    ],
    [
      "a manifest of another index",
      ({ store, manifest }) => store.put(manifestKey("bad"), JSON.stringify({ ...manifest, params: { ...manifest.params, name: "good" } })),
    ],
    [
      "a manifest naming a snapshot outside the index",
      ({ store, manifest }) => store.put(manifestKey("bad"), JSON.stringify({ ...manifest, snapshot: { ...manifest.snapshot, envelope: "_catalog/x.json" } })),
    ],
  ];
  for (const [what, damage] of damages) {
    test(`${what}: that index is unavailable, the other serves, drop clears it`, async () => {
      const { store, manifest, reopen } = await twoSnapshotted();
      await damage({ store, manifest });
      const { svc, seen } = await reopen();
      expect(seen.map((e) => e.name)).toEqual(["bad"]);
      expect(svc.unavailable()).toEqual(["bad"]);
      expect(() => svc.getIndex("bad")).toThrow(expect.objectContaining({ code: "unavailable" }));
      expect(svc.getItem("good", "a").metadata).toEqual({ n: 1 });
      await svc.dropIndex("bad");
      expect(svc.unavailable()).toEqual([]);
      expect((await store.list("_vectors/bad/")).items).toEqual([]);
      await svc.close();
    });
  }
});
