// Test fixture, run as its own process by retention.test.ts: commits version 1 of dataset "a", then
// starts version 2, and is killed (SIGKILL, by itself) after the staging wrote the new data object
// and before the version is committed — the state a crash mid-ingest leaves.
import { Catalog } from "../../src/catalog/catalog.ts";
import { Journal } from "../../src/catalog/journal.ts";
import { silentLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";

const root = process.argv[2]!;
const store = await FsObjectStore.open(root);
const journal = await Journal.open(store, silentLogger);
const catalog = await Catalog.open(store, journal, silentLogger);
const fields = [{ name: "id", type: "BIGINT", nullable: false }];
const obj = (k: string) => ({ key: `datasets/a/${k}.parquet`, rows: 1, bytes: 1 });
await catalog.commit("a", () => ({ fields, objects: [obj("one")], op: "replace", stage: () => store.put("datasets/a/one.parquet", "1").then(() => {}) }));
await catalog.collectorIdle();
await catalog.commit("a", () => ({
  fields,
  objects: [obj("two")],
  op: "replace",
  stage: async () => {
    await store.put("datasets/a/two.parquet", "2");
    process.kill(process.pid, "SIGKILL");
    await new Promise(() => {});
  },
}));
