import { describe, expect, test } from "bun:test";
import { Catalog, DEFAULT_RETENTION } from "../../src/catalog/catalog.ts";
import { Journal } from "../../src/catalog/journal.ts";
import { type DataObject, type Manifest, manifestKey } from "../../src/catalog/manifest.ts";
import { datasetId } from "../../src/catalog/names.ts";
import { Conflict, NotFound } from "../../src/errors.ts";
import { memoryLogger, silentLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import type { ObjectStore } from "../../src/storage/store.ts";
import { tempDir } from "../support/tmp.ts";

const f = (name: string, type: string) => ({ name, type, nullable: true });
const FIELDS = [f("id", "BIGINT"), f("zip", "VARCHAR")];

async function open(store: ObjectStore, log = silentLogger, retention = DEFAULT_RETENTION) {
  const journal = await Journal.open(store, log);
  return { journal, catalog: await Catalog.open(store, journal, log, undefined, retention) };
}

/** Commits a new version with these objects through the catalog's one write path. */
async function commitTo(catalog: Catalog, name: string, objects: DataObject[], op: "replace" | "append" = "replace"): Promise<Manifest> {
  const done = await catalog.commit(name, () => ({ fields: FIELDS, objects, op }));
  if (!done.changed) throw new Error("expected a new version");
  return done.manifest;
}

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  return (await store.list(prefix)).items.map((i) => i.key);
}

describe("catalog", () => {
  test("register is idempotent for the same schema and keeps one manifest", async () => {
    const store = await FsObjectStore.open(tempDir());
    const { catalog } = await open(store);
    const first = await catalog.register("workers", FIELDS);
    const again = await catalog.register("workers", [f("id", "BIGINT"), { name: "zip", type: "VARCHAR", nullable: false }]);
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.manifest.dataset_id).toBe(datasetId("workers"));
    expect(await keys(store, "_catalog/")).toEqual([manifestKey("workers", 1)]);
  });

  test("a different schema is a 409 with the diff, and changes nothing", async () => {
    const store = await FsObjectStore.open(tempDir());
    const { catalog, journal } = await open(store);
    await catalog.register("workers", FIELDS);
    const before = await keys(store, "");
    const err = await catalog.register("workers", [f("id", "BIGINT"), f("zip", "BIGINT"), f("rate", "DOUBLE")]).catch((e) => e);
    expect(err).toBeInstanceOf(Conflict);
    expect(err.details.diff).toEqual({
      added: [{ name: "rate", type: "DOUBLE" }],
      removed: [],
      retyped: [{ name: "zip", from: "VARCHAR", to: "BIGINT" }],
      reordered: false,
    });
    expect(await keys(store, "")).toEqual(before);
    expect(catalog.get("workers")!.fields).toEqual(FIELDS);
    expect(journal.lastSeq).toBe(1);
  });

  test("a reopened catalog sees the same datasets, and versions keep counting", async () => {
    const store = await FsObjectStore.open(tempDir());
    const { catalog } = await open(store);
    await catalog.register("a", FIELDS);
    await commitTo(catalog, "a", [{ key: "datasets/a/x.parquet", rows: 5, bytes: 10 }], "replace");
    await catalog.register("b", FIELDS);
    await catalog.delete("b");

    const reopened = (await open(store)).catalog;
    expect(reopened.list().map((m) => [m.name, m.version, m.row_count])).toEqual([["a", 2, 5]]);
    expect(reopened.get("b")).toBeUndefined();
    const recreated = await reopened.register("b", FIELDS);
    expect(recreated.manifest.version).toBe(3);
  });

  test("two writers racing on one dataset: the loser gets 409 and nothing is clobbered", async () => {
    const store = await FsObjectStore.open(tempDir());
    const one = (await open(store)).catalog;
    await one.register("shared", FIELDS);
    const two = (await open(store)).catalog;
    const obj = (k: string) => [{ key: `datasets/shared/${k}.parquet`, rows: 1, bytes: 1 }];
    await commitTo(one, "shared", obj("one"), "replace");
    const err = await commitTo(two, "shared", obj("two"), "replace").catch((e) => e);
    expect(err).toBeInstanceOf(Conflict);
    const fresh = (await open(store)).catalog;
    expect(fresh.get("shared")!.objects[0]!.key).toBe("datasets/shared/one.parquet");
    // The loser reloaded, so its retry succeeds on top of the winner's version.
    const retried = await commitTo(two, "shared", obj("two"), "replace");
    expect(retried.version).toBe(3);
  });

  test("a corrupt manifest is skipped, logged and reported in health; the previous version serves", async () => {
    const store = await FsObjectStore.open(tempDir());
    const { catalog } = await open(store);
    await catalog.register("a", FIELDS);
    await catalog.register("b", FIELDS);
    await store.put(manifestKey("a", 2), "{not json");
    await store.put(manifestKey("c", 1), JSON.stringify({ format: 1, name: "c" }));
    const log = memoryLogger();
    const reopened = (await open(store, log)).catalog;
    expect(reopened.list().map((m) => m.name)).toEqual(["a", "b"]);
    expect(reopened.get("a")!.version).toBe(1);
    expect(reopened.health()).toEqual({
      status: "degraded",
      detail: {
        datasets: 2,
        unavailable_datasets: ["c"],
        skipped_manifests: {
          count: 2,
          objects: [
            { key: manifestKey("a", 2), reason: "not_json" },
            { key: manifestKey("c", 1), reason: "invalid" },
          ],
        },
      },
    });
    expect(log.lines.filter((l) => l.msg === "skipping corrupt catalog manifest").map((l) => l.fields?.key)).toEqual([
      manifestKey("a", 2),
      manifestKey("c", 1),
    ]);
    // The next commit goes above the corrupt version instead of colliding with it.
    const next = await commitTo(reopened, "a", [], "replace");
    expect(next.version).toBe(3);
  });

  test("delete writes a tombstone, keeps the data objects retention needs and 404s afterwards", async () => {
    const store = await FsObjectStore.open(tempDir());
    const { catalog } = await open(store);
    await store.put("datasets/a/one.parquet", "x");
    await commitTo(catalog, "a", [{ key: "datasets/a/one.parquet", rows: 1, bytes: 1 }]);
    await catalog.delete("a");
    await catalog.collectorIdle();
    // The deleted version is within retention: its object stays so the delete can be undone.
    expect(await store.head("datasets/a/one.parquet")).not.toBeNull();
    expect(() => catalog.require("a")).toThrow(NotFound);
    await expect(catalog.delete("a")).rejects.toBeInstanceOf(NotFound);
  });

  test("replacing deletes the objects no retained version references, once the replaced version leaves retention", async () => {
    const store = await FsObjectStore.open(tempDir());
    const { catalog } = await open(store, silentLogger, { keepVersions: 1, keepDays: 0 });
    const o = (k: string) => ({ key: `datasets/a/${k}.parquet`, rows: 1, bytes: 1 });
    // Objects are written by the commit's staging, under the dataset's lock, as ingest does.
    const stage = (k: string) => () => store.put(`datasets/a/${k}.parquet`, k).then(() => {});
    await catalog.commit("a", () => ({ fields: FIELDS, objects: [o("one")], op: "replace", stage: stage("one") }));
    await catalog.commit("a", () => ({ fields: FIELDS, objects: [o("one"), o("two")], op: "append", stage: stage("two") }));
    await catalog.collectorIdle();
    expect(await keys(store, "datasets/")).toEqual(["datasets/a/one.parquet", "datasets/a/two.parquet"]);
    await commitTo(catalog, "a", [o("two")], "replace");
    await catalog.collectorIdle();
    expect(await keys(store, "datasets/")).toEqual(["datasets/a/two.parquet"]);
  });
});

describe("journal", () => {
  test("records every mutation in order, pages with since/limit, and keeps counting after reopen", async () => {
    const store = await FsObjectStore.open(tempDir());
    const { catalog, journal } = await open(store);
    await catalog.register("a", FIELDS);
    await commitTo(catalog, "a", [{ key: "datasets/a/1.parquet", rows: 2, bytes: 1 }], "replace");
    await commitTo(
      catalog,
      "a",
      [
        { key: "datasets/a/1.parquet", rows: 2, bytes: 1 },
        { key: "datasets/a/2.parquet", rows: 3, bytes: 1 },
      ],
      "append",
    );
    await catalog.delete("a");
    const all = await journal.read(0, 100);
    expect(all.map((e) => [e.seq, e.op, e.version, e.row_count])).toEqual([
      [1, "register", 1, 0],
      [2, "replace", 2, 2],
      [3, "append", 3, 5],
      [4, "delete", 4, 0],
    ]);
    expect((await journal.read(1, 2)).map((e) => e.seq)).toEqual([2, 3]);
    expect(await journal.read(4, 10)).toEqual([]);

    const reopened = await open(store);
    expect(reopened.journal.lastSeq).toBe(4);
    await reopened.catalog.register("b", FIELDS);
    expect((await reopened.journal.read(4, 10)).map((e) => [e.seq, e.op, e.name])).toEqual([[5, "register", "b"]]);
  });

  test("two processes appending to one store never reuse a sequence number", async () => {
    const store = await FsObjectStore.open(tempDir());
    const a = await Journal.open(store, silentLogger);
    const b = await Journal.open(store, silentLogger);
    const entry = { op: "register" as const, name: "x", dataset_id: "id", version: 1, fingerprint: "f", row_count: 0 };
    const results = await Promise.all([a.append(entry), b.append(entry), a.append(entry), b.append(entry)]);
    expect(results.map((e) => e.seq).sort()).toEqual([1, 2, 3, 4]);
  });
});

test("names that differ only in case cannot coexist (they would share one SQL view)", async () => {
  const store = await FsObjectStore.open(tempDir());
  const { catalog } = await open(store);
  await catalog.register("people", FIELDS);
  await expect(catalog.register("People", FIELDS)).rejects.toBeInstanceOf(Conflict);
  expect(catalog.list().map((m) => m.name)).toEqual(["people"]);
  await catalog.delete("people");
  expect((await catalog.register("People", FIELDS)).created).toBe(true);
});

test("a version committed without its journal entry (crash in between) is journaled on open", async () => {
  const store = await FsObjectStore.open(tempDir());
  const { catalog } = await open(store);
  await catalog.register("a", FIELDS);
  await commitTo(catalog, "a", [{ key: "datasets/a/1.parquet", rows: 1, bytes: 1 }], "replace");
  // What a crash after the manifest commit and before the journal append leaves behind.
  // (`op` left out of version 3: a manifest written before versions recorded it, so the repair
  // infers "append"; version 1 of b records its own op, which the repair takes as it is.)
  const { op: _op, ...live } = catalog.get("a")!;
  const later = new Date(Date.now() + 1000).toISOString();
  const appended = { ...live, version: 3, updated_at: later, objects: [...live.objects, { key: "datasets/a/2.parquet", rows: 2, bytes: 1 }], row_count: 3 };
  await store.putIfAbsent(manifestKey("a", 3), JSON.stringify(appended));
  await store.putIfAbsent(
    manifestKey("b", 1),
    JSON.stringify({
      ...live,
      name: "b",
      dataset_id: datasetId("b"),
      version: 1,
      op: "register",
      updated_at: later,
      objects: [{ key: "datasets/b/1.parquet", rows: 1, bytes: 1 }],
    }),
  );

  const log = memoryLogger();
  const reopened = await open(store, log);
  expect(await reopened.catalog.repairJournal()).toBe(2);
  expect((await reopened.journal.read(2, 10)).map((e) => [e.seq, e.op, e.name, e.version])).toEqual([
    [3, "append", "a", 3],
    [4, "register", "b", 1],
  ]);
  expect(log.lines.filter((l) => l.msg.startsWith("restored the journal entry"))).toHaveLength(2);
  // Nothing is repaired twice.
  expect(await (await open(store)).catalog.repairJournal()).toBe(0);
});

test("commit: checks run before the plan's staging, and staging is undone when the commit loses", async () => {
  const store = await FsObjectStore.open(tempDir());
  const one = (await open(store)).catalog;
  await one.register("a", FIELDS);
  const two = (await open(store)).catalog;
  const log: string[] = [];
  const staging = (k: string, fields = FIELDS) => ({
    fields,
    objects: [{ key: `datasets/a/${k}.parquet`, rows: 1, bytes: 1 }],
    op: "replace" as const,
    stage: async () => {
      log.push(`stage ${k}`);
      await store.put(`datasets/a/${k}.parquet`, k);
    },
    unstage: async () => {
      log.push(`unstage ${k}`);
      await store.delete(`datasets/a/${k}.parquet`);
    },
  });

  // A different schema: 409 with the diff, and nothing staged.
  const drift = await one.commit("a", () => staging("drift", [f("id", "VARCHAR")])).catch((e) => e);
  expect(drift).toBeInstanceOf(Conflict);
  expect(drift.message).toBe('dataset "a" has a different schema; delete it first to change its schema');
  expect(drift.details.diff.retyped).toEqual([{ name: "id", from: "BIGINT", to: "VARCHAR" }]);
  // An unchanged plan hands its value back and commits nothing.
  expect(await one.commit("a", (live) => ({ unchanged: live!.version }))).toEqual({ changed: false, unchanged: 1 });
  expect(log).toEqual([]);

  const won = await one.commit("a", () => staging("one"));
  expect(won.changed && won.manifest.version).toBe(2);
  // `two` still plans from version 1: it stages, loses the race for version 2, and unstages.
  await expect(two.commit("a", () => staging("two"))).rejects.toBeInstanceOf(Conflict);
  expect(log).toEqual(["stage one", "stage two", "unstage two"]);
  expect(await keys(store, "datasets/")).toEqual(["datasets/a/one.parquet"]);
  expect(two.get("a")!.version).toBe(2);
});
