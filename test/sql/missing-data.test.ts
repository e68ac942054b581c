// A dataset whose Parquet object is gone from the store is a server-side loss: a query over it
// answers 503 `unavailable` naming the dataset (never the caller's 400 "No files found"), the sql
// module's health is degraded at once, other datasets keep answering, and writing the dataset
// again clears it — on both storage backends (on s3 the object is gone from the bucket and from
// the local Parquet cache).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { type RunningS3, s3Options, startS3rver } from "../support/s3rver.ts";
import { rows, sql } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;

let s3: RunningS3;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(() => s3.stop());

for (const backend of ["fs", "s3"] as const) {
  describe(`a dataset's Parquet object missing (${backend})`, () => {
    let lh: LH;
    const cacheDir = tempDir("lh-sql-cache-");
    beforeAll(async () => {
      lh = await testLakehouse(backend === "s3" ? { storage: { backend: "s3", s3: s3Options(s3) }, sql: { cache_dir: cacheDir } } : {});
      expect((await ingest(lh, `people_${backend}`, "id,name\n1,ann\n2,bob\n")).status).toBe(201);
      expect((await ingest(lh, `other_${backend}`, "k\n1\n")).status).toBe(201);
      expect(await rows(lh, `SELECT count(*) FROM people_${backend}`)).toEqual([[2]]);
    });
    afterAll(() => lh.close());

    test("503 unavailable naming the dataset, health degraded at once, the others fine", async () => {
      const name = `people_${backend}`;
      const key = lh.catalog.catalog.get(name)!.objects[0]!.key;
      await lh.storage.store.delete(key);
      // On s3 DuckDB reads a local copy: it goes too (evicted, a disk lost), so the object must be fetched again.
      if (backend === "s3") for (const file of new Bun.Glob(`**/${key}`).scanSync({ cwd: cacheDir })) rmSync(join(cacheDir, file));
      expect((await json(call(lh, "/health"))).modules.sql).toBe("ok");

      const res = await sql(lh, `SELECT count(*) FROM ${name}`);
      expect(res.status).toBe(503);
      const { error } = await json(res);
      expect(error).toMatchObject({ code: "unavailable", details: { dataset: name } });
      expect(error.message).toContain(`"${name}"`);
      expect(error.message).not.toContain("/");
      expect(error.message).not.toMatch(/IO Error|No files found/);
      const health = await json(call(lh, "/health"));
      expect(health.modules.sql).toBe("degraded");
      expect(lh.sql.service.health().detail).toMatchObject({ datasets_missing_data: [name] });
      // The export answers the same, before any byte.
      const exported = await call(lh, "/v1/sql/export", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sql: `SELECT * FROM ${name}`, format: "csv" }),
      });
      expect(exported.status).toBe(503);
      expect(await rows(lh, `SELECT k FROM other_${backend}`)).toEqual([[1]]);
    });

    test("writing the dataset again clears it", async () => {
      const name = `people_${backend}`;
      expect(
        (await call(lh, `/v1/ingest/${name}?mode=replace`, { method: "POST", headers: { "content-type": "text/csv" }, body: "id,name\n3,cy\n" })).status,
      ).toBe(200);
      expect(await rows(lh, `SELECT name FROM ${name}`)).toEqual([["cy"]]);
      expect(lh.sql.service.health().status).toBe("ok");
    });
  });
}
