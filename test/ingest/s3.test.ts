// The ingest → query round trip on the s3 backend (a real S3 server, s3rver), including a restart
// that rebuilds the catalog and views from the bucket with an empty Parquet cache, and a crashed
// server's cache removed by the next start.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { SCRATCH } from "../../src/sql/service.ts";
import { testLakehouse } from "../support/app.ts";
import { startChild } from "../support/child.ts";
import { call, json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { type RunningS3, s3Options, startS3rver } from "../support/s3rver.ts";
import { rows, sql } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";

describe("lakehouse on the s3 backend", () => {
  let s3: RunningS3;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(() => s3.stop());

  const open = (cacheDir: string, cacheBytes = 64 * 1024 * 1024) =>
    testLakehouse({ storage: { backend: "s3", s3: s3Options(s3) }, sql: { cache_dir: cacheDir, cache_max_bytes: cacheBytes } });

  test("ingest, query, append, drift, restart and delete", async () => {
    const cache = tempDir("lh-cache-");
    const lh = await open(cache);
    try {
      const res = await ingest(lh, "people", "id,zip\n1,02134\n2,90210\n");
      expect(res.status).toBe(201);
      expect(await rows(lh, "SELECT * FROM people ORDER BY id")).toEqual([
        [1, "02134"],
        [2, "90210"],
      ]);
      expect((await json(ingest(lh, "people", "id,zip\n1,02134\n2,90210\n"))).result).toBe("unchanged");
      expect((await ingest(lh, "people", "id,zip\n3,00501\n", { query: { mode: "append" } })).status).toBe(200);
      expect((await ingest(lh, "people", "id,zip,extra\n3,00501,x\n")).status).toBe(409);
      expect((await ingest(lh, "people", "id,zip,extra\n3,00501,x\n", { query: { mode: "append" } })).status).toBe(409);
      expect(await rows(lh, "SELECT count(*) FROM people")).toEqual([[3]]);
      const text = await (await sql(lh, "SELECT * FROM read_csv('/etc/passwd')")).text();
      expect(text).not.toContain("S3RVER");
    } finally {
      await lh.close();
    }

    const again = await open(tempDir("lh-cache-"));
    try {
      expect(await rows(again, "SELECT id, zip FROM people ORDER BY id")).toEqual([
        [1, "02134"],
        [2, "90210"],
        [3, "00501"],
      ]);
      const journal = (await json(call(again, "/v1/journal"))).entries.map((e: { seq: number; op: string }) => [e.seq, e.op]);
      expect(journal).toEqual([
        [1, "register"],
        [2, "append"],
      ]);
      expect((await call(again, "/v1/catalog/datasets/people", { method: "DELETE" })).status).toBe(200);
      // Deleted: 404 naming the deletion and the restore.
      expect((await sql(again, "SELECT * FROM people")).status).toBe(404);
      // The delete is a version: its data stays while retention keeps the versions that name it.
      expect((await again.storage.store.list("datasets/")).items).toHaveLength(2);
    } finally {
      await again.close();
    }
  });

  test("a fresh ingest seeds the cache from its local copy instead of downloading it", async () => {
    const lh = await open(tempDir("lh-cache-"));
    try {
      const store = lh.storage.store;
      const gets: string[] = [];
      const get = store.get.bind(store);
      store.get = (key, range) => {
        gets.push(key);
        return get(key, range);
      };
      expect((await ingest(lh, "seeded", "id\n1\n2\n")).status).toBe(201);
      expect(await rows(lh, "SELECT sum(id) FROM seeded")).toEqual([[3]]);
      expect(gets.filter((k) => k.startsWith("datasets/"))).toEqual([]);
    } finally {
      await lh.close();
    }
  });

  test("an evicted cache file is fetched again when a query needs it", async () => {
    const cache = tempDir("lh-cache-");
    // A cache too small for both datasets: loading the second evicts the first.
    const lh = await open(cache, 1000);
    try {
      // This instance's own folder under the configured base.
      // (SCRATCH holds the instances' export folders, each removed the same way.)
      const [instance, ...others] = readdirSync(cache).filter((n) => n !== SCRATCH);
      expect(others).toEqual([]);
      expect(instance).toMatch(new RegExp(`^${process.pid}-[0-9a-f]{8}$`));
      const dir = join(cache, instance!);
      const mk = (n: number) => `id,name\n${Array.from({ length: 30 }, (_, i) => `${i},name-${n}-${i}`).join("\n")}\n`;
      expect((await ingest(lh, "first", mk(1))).status).toBe(201);
      const firstKey = lh.catalog.catalog.get("first")!.objects[0]!.key;
      expect((await ingest(lh, "second", mk(2))).status).toBe(201);
      await Bun.sleep(50);
      expect(existsSync(join(dir, "objects", firstKey))).toBe(false);
      expect(await rows(lh, "SELECT count(*) FROM first")).toEqual([[30]]);
      expect(existsSync(join(dir, "objects", firstKey))).toBe(true);
      expect(await rows(lh, "SELECT count(*) FROM second")).toEqual([[30]]);
      expect(readdirSync(dir).sort()).toEqual(["objects", "tmp"]);
    } finally {
      await lh.close();
    }
    // A clean close removes the instance's folder.
    expect(readdirSync(cache).filter((n) => n !== SCRATCH)).toEqual([]);
    expect(readdirSync(join(cache, SCRATCH))).toEqual([]);
  });

  test("a server killed with SIGKILL leaves its Parquet cache under the data root; the next start removes it", async () => {
    const root = tempDir("lh-s3-root-");
    const child = await startChild({
      LH_STORAGE_FS_ROOT: root,
      LH_STORAGE_BACKEND: "s3",
      LH_STORAGE_S3_ENDPOINT: s3.endpoint,
      LH_STORAGE_S3_BUCKET: s3.bucket,
      LH_STORAGE_S3_ACCESS_KEY_ID: "S3RVER",
      LH_STORAGE_S3_SECRET_ACCESS_KEY: "S3RVER",
    });
    const base = join(root, "cache", "sql");
    let dead: string;
    let key: string;
    try {
      const res = await ingest(child.url, "crashed", "id\n1\n2\n");
      expect(res.status).toBe(201);
      key = (await json(res)).key;
      expect(await rows(child.url, "SELECT sum(id) FROM crashed")).toEqual([[3]]);
      const [instance] = readdirSync(base).filter((n) => n !== SCRATCH);
      expect(instance).toMatch(new RegExp(`^${child.proc.pid}-[0-9a-f]{8}$`));
      dead = join(base, instance!);
    } finally {
      child.proc.kill("SIGKILL");
      await child.proc.exited;
    }
    expect(existsSync(join(dead, "objects", key))).toBe(true);

    const lh = await testLakehouse({ storage: { backend: "s3", s3: s3Options(s3), fs: { root } } });
    try {
      expect(existsSync(dead)).toBe(false);
      const now = readdirSync(base).filter((n) => n !== SCRATCH);
      // The dead server's scratch folder went too; this instance's is the only one.
      expect(readdirSync(join(base, SCRATCH))).toEqual([expect.stringMatching(new RegExp(`^${process.pid}-[0-9a-f]{8}$`))]);
      expect(now).toEqual([expect.stringMatching(new RegExp(`^${process.pid}-[0-9a-f]{8}$`))]);
      expect(await rows(lh, "SELECT sum(id) FROM crashed")).toEqual([[3]]);
      expect(existsSync(join(base, now[0]!, "objects", key))).toBe(true);
    } finally {
      await lh.close();
    }
  }, 60_000);
});
