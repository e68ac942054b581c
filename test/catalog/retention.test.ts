// Versions keep their data for retention (catalog.keep_versions, keep_days): a delete and a replace
// can be undone by restore, the collector deletes only what no retained version references
// (including orphans of a crash between writing an object and committing), on both backends.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Catalog } from "../../src/catalog/catalog.ts";
import { Journal } from "../../src/catalog/journal.ts";
import { type DataObject, manifestKey } from "../../src/catalog/manifest.ts";
import { DAY_MS, type Retention } from "../../src/catalog/retention.ts";
import { fingerprint } from "../../src/catalog/schema.ts";
import { NotFound } from "../../src/errors.ts";
import { memoryLogger, silentLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { S3ObjectStore } from "../../src/storage/s3-store.ts";
import type { ObjectStore } from "../../src/storage/store.ts";
import { type RunningS3, s3Options, startS3rver } from "../support/s3rver.ts";
import { tempDir } from "../support/tmp.ts";

const f = (name: string, type: string) => ({ name, type, nullable: true });
const FIELDS = [f("id", "BIGINT"), f("zip", "VARCHAR")];
const WIDE = [...FIELDS, f("extra", "VARCHAR")];

let s3: RunningS3;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(() => s3.stop());

const backends: { name: string; open(): Promise<ObjectStore> }[] = [
  { name: "fs", open: () => FsObjectStore.open(tempDir("lh-store-")) },
  { name: "s3", open: () => S3ObjectStore.open(s3Options(s3), silentLogger) },
];

async function openCatalog(store: ObjectStore, retention: Retention = { keepVersions: 10, keepDays: 7 }, log = silentLogger): Promise<Catalog> {
  return Catalog.open(store, await Journal.open(store, log), log, undefined, retention);
}

/** A fresh dataset name per test: the s3 tests share one bucket. */
const fresh = () => `d${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;

/** Commits a version whose objects are written by its staging (under the dataset's lock), as ingest does. */
async function write(store: ObjectStore, catalog: Catalog, name: string, keys: string[], op: "replace" | "append" | "evolve" = "replace", fields = FIELDS) {
  const objects: DataObject[] = keys.map((k) => ({ key: `datasets/${name}/${k}.parquet`, rows: 1, bytes: 1 }));
  const done = await catalog.commit(name, (live) => ({
    fields,
    objects,
    op,
    schemaChange: op === "evolve",
    actor: "token@127.0.0.1",
    stage: async () => {
      for (const o of objects) if (!live?.objects.some((l) => l.key === o.key)) await store.put(o.key, o.key);
    },
  }));
  if (!done.changed) throw new Error("expected a new version");
  return done.manifest;
}

async function dataKeys(store: ObjectStore, name: string): Promise<string[]> {
  return (await store.list(`datasets/${name}/`)).items.map((i) => i.key.split("/").pop()!);
}

for (const backend of backends) {
  describe(`retention and restore: ${backend.name}`, () => {
    test("a delete keeps the data; restore brings the dataset back as a new version, and the versions tell the story", async () => {
      const store = await backend.open();
      const catalog = await openCatalog(store);
      const name = fresh();
      await write(store, catalog, name, ["one"]);
      await write(store, catalog, name, ["one", "two"], "append");
      await catalog.delete(name, "token@10.0.0.1");
      await catalog.collectorIdle();
      expect(() => catalog.require(name)).toThrow(NotFound);
      expect(await dataKeys(store, name)).toEqual(["one.parquet", "two.parquet"]);

      // No version given: the newest one with data before the deletion.
      const { manifest, restored_from } = await catalog.restore(name, undefined, "token@10.0.0.2");
      expect(restored_from).toBe(2);
      expect(manifest.version).toBe(4);
      expect(manifest.objects.map((o) => o.key.split("/").pop())).toEqual(["one.parquet", "two.parquet"]);
      expect(manifest.row_count).toBe(2);
      expect(catalog.require(name).version).toBe(4);

      const states = await catalog.versions(name);
      expect(states.map((s) => [s.version, s.manifest?.op, s.manifest?.actor, s.retained])).toEqual([
        [4, "restore", "token@10.0.0.2", true],
        [3, "delete", "token@10.0.0.1", true],
        [2, "append", "token@127.0.0.1", true],
        [1, "register", "token@127.0.0.1", true],
      ]);
      // A reopened catalog (start-up) sees the same and its sweep deletes nothing retained.
      const reopened = await openCatalog(store);
      await reopened.sweep();
      expect(reopened.require(name).restored_from).toBe(2);
      expect(await dataKeys(store, name)).toEqual(["one.parquet", "two.parquet"]);
    });

    test("past keep_versions a replaced version's objects are collected and the version answers 404 naming the retention", async () => {
      const store = await backend.open();
      const catalog = await openCatalog(store, { keepVersions: 2, keepDays: 0 });
      const name = fresh();
      await write(store, catalog, name, ["one"]);
      await write(store, catalog, name, ["two"]);
      await catalog.collectorIdle();
      expect(await dataKeys(store, name)).toEqual(["one.parquet", "two.parquet"]);
      expect((await catalog.version(name, 1)).objects[0]!.key).toEndWith("one.parquet");
      await write(store, catalog, name, ["three"]);
      await catalog.collectorIdle();
      expect(await dataKeys(store, name)).toEqual(["three.parquet", "two.parquet"]);
      const past = await catalog.version(name, 1).catch((e) => e);
      expect(past).toBeInstanceOf(NotFound);
      expect(past.message).toContain("past retention (catalog.keep_versions = 2, catalog.keep_days = 0)");
      expect(past.details).toMatchObject({ keep_versions: 2, keep_days: 0 });
      await expect(catalog.restore(name, 1)).rejects.toThrow("past retention");
      expect((await catalog.version(name, 9).catch((e) => e)).message).toContain("has no version 9");
      // The listing still shows the released version, marked as not retained.
      expect((await catalog.versions(name)).map((s) => [s.version, s.retained])).toEqual([
        [3, true],
        [2, true],
        [1, false],
      ]);
    });

    test("keep_days keeps every version that was live within the window, however many came after", async () => {
      const store = await backend.open();
      const name = fresh();
      // Hand-placed history: v1 replaced 20 days ago, v2 replaced just now by v3.
      const at = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS).toISOString();
      const manifest = (version: number, key: string, updated: string) => ({
        format: 1,
        name,
        dataset_id: "x",
        version,
        created_at: at(30),
        updated_at: updated,
        deleted: false,
        fields: FIELDS,
        fingerprint: fingerprint(FIELDS),
        objects: [{ key: `datasets/${name}/${key}.parquet`, rows: 1, bytes: 1 }],
        row_count: 1,
      });
      for (const [v, key, updated] of [
        [1, "one", at(30)],
        [2, "two", at(20)],
        [3, "three", at(0)],
      ] as const) {
        await store.put(manifestKey(name, v), JSON.stringify(manifest(v, key, updated)));
        await store.put(`datasets/${name}/${key}.parquet`, key);
      }
      const catalog = await openCatalog(store, { keepVersions: 1, keepDays: 7 });
      expect((await catalog.versions(name)).map((s) => [s.version, s.retained])).toEqual([
        [3, true],
        [2, true],
        [1, false],
      ]);
      await catalog.collect(name);
      expect(await dataKeys(store, name)).toEqual(["three.parquet", "two.parquet"]);
    });

    test("an evolve notes the schema of the objects it keeps; a restore across a schema change restores the old schema", async () => {
      const store = await backend.open();
      const catalog = await openCatalog(store);
      const name = fresh();
      await write(store, catalog, name, ["one"]);
      const evolved = await write(store, catalog, name, ["one", "two"], "evolve", WIDE);
      expect(evolved.op).toBe("evolve");
      expect(evolved.objects).toEqual([
        { key: `datasets/${name}/one.parquet`, rows: 1, bytes: 1, fingerprint: fingerprint(FIELDS) },
        { key: `datasets/${name}/two.parquet`, rows: 1, bytes: 1 },
      ]);
      // Without schemaChange the live schema must be kept.
      await expect(write(store, catalog, name, ["three"], "replace", FIELDS)).rejects.toThrow("different schema");
      const { manifest } = await catalog.restore(name, 1);
      expect(manifest.fields).toEqual(FIELDS);
      expect(manifest.objects).toEqual([{ key: `datasets/${name}/one.parquet`, rows: 1, bytes: 1 }]);
    });

    test("restore refuses a deletion and a dataset that never existed", async () => {
      const store = await backend.open();
      const catalog = await openCatalog(store);
      const name = fresh();
      await write(store, catalog, name, ["one"]);
      await catalog.delete(name);
      await expect(catalog.restore(name, 2)).rejects.toThrow("is its deletion");
      await expect(catalog.restore(fresh(), undefined)).rejects.toBeInstanceOf(NotFound);
      await expect(catalog.versions(fresh())).rejects.toBeInstanceOf(NotFound);
    });
  });
}

describe("the collector", () => {
  test("never deletes the object of a commit in flight: it waits for the dataset's lock", async () => {
    const store = await FsObjectStore.open(tempDir("lh-store-"));
    const catalog = await openCatalog(store, { keepVersions: 1, keepDays: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let staged!: () => void;
    const wrote = new Promise<void>((r) => {
      staged = r;
    });
    const committing = catalog.commit("a", () => ({
      fields: FIELDS,
      objects: [{ key: "datasets/a/new.parquet", rows: 1, bytes: 1 }],
      op: "replace",
      stage: async () => {
        await store.put("datasets/a/new.parquet", "n");
        staged();
        await gate;
      },
    }));
    await wrote;
    const collecting = catalog.collect("a");
    await Bun.sleep(20);
    release();
    await committing;
    expect((await collecting).deleted).toEqual([]);
    expect(await dataKeys(store, "a")).toEqual(["new.parquet"]);
  });

  test("a crash between writing an object and committing leaves an orphan the next start-up deletes", async () => {
    const root = tempDir("lh-store-");
    const proc = Bun.spawn(["bun", `${import.meta.dir}/crash-mid-commit.ts`, root], { stdout: "inherit", stderr: "inherit" });
    await proc.exited;
    expect(proc.signalCode).toBe("SIGKILL");
    const store = await FsObjectStore.open(root);
    expect(await dataKeys(store, "a")).toEqual(["one.parquet", "two.parquet"]);
    const log = memoryLogger();
    const catalog = await openCatalog(store, undefined, log);
    expect(catalog.require("a").version).toBe(1);
    const swept = await catalog.sweep();
    expect(swept).toEqual([{ name: "a", deleted: ["datasets/a/two.parquet"] }]);
    expect(await dataKeys(store, "a")).toEqual(["one.parquet"]);
    expect(log.lines.some((l) => l.msg === "deleted data objects no retained version references")).toBe(true);
  });

  test("objects of a name with no manifest at all are orphans; a dataset whose retained version is unreadable keeps everything", async () => {
    const store = await FsObjectStore.open(tempDir("lh-store-"));
    await store.put("datasets/ghost/x.parquet", "x");
    const catalog = await openCatalog(store, { keepVersions: 1, keepDays: 0 });
    await write(store, catalog, "b", ["one"]);
    await write(store, catalog, "b", ["two"]);
    await catalog.collectorIdle();
    await store.put(manifestKey("b", 3), "{not json");
    await store.put("datasets/b/three.parquet", "3");
    const reopened = await openCatalog(store, { keepVersions: 1, keepDays: 0 });
    const swept = await reopened.sweep();
    expect(swept.find((c) => c.name === "ghost")).toEqual({ name: "ghost", deleted: ["datasets/ghost/x.parquet"] });
    expect(swept.find((c) => c.name === "b")).toEqual({ name: "b", deleted: [], held: "a retained version is unreadable" });
    expect(await dataKeys(store, "b")).toEqual(["three.parquet", "two.parquet"]);
  });
});
