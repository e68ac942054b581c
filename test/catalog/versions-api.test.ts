// Versions through the public API: the listing, SQL time travel ("name@3"), restore as the undo of
// a replace and of a delete, and a version past retention refused with the retention named.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { call, json, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { rows, sql } from "../support/sql.ts";

describe("dataset versions over HTTP", () => {
  let lh: Awaited<ReturnType<typeof testLakehouse>>;
  beforeAll(async () => {
    lh = await testLakehouse({ catalog: { keep_versions: 3, keep_days: 0 } });
  });
  afterAll(() => lh.close());

  test("list, time travel, restore a replace and a delete", async () => {
    await ingestOk(lh, "people", "id,zip\n1,02134\n2,90210\n");
    await ingestOk(lh, "people", "id,zip\n3,00501\n", { query: { mode: "append" } });
    await ingestOk(lh, "people", "id,zip\n9,01111\n", { query: { mode: "replace" } });

    const listed = await json(call(lh, "/v1/catalog/datasets/people/versions"));
    expect(listed.versions.map((v: any) => [v.version, v.result, v.rows, v.retained, v.readable])).toEqual([
      [3, "replaced", 1, true, true],
      [2, "appended", 3, true, true],
      [1, "created", 2, true, true],
    ]);
    expect(listed).toMatchObject({ keep_versions: 3, keep_days: 0 });

    // Time travel: each version as it was; the live view is untouched.
    expect(await rows(lh, 'select count(*) from "people@1"')).toEqual([[2]]);
    expect(await rows(lh, 'select zip from "people@2" order by id')).toEqual([["02134"], ["90210"], ["00501"]]);
    expect(await rows(lh, "select id from people")).toEqual([[9]]);

    // Undo the replace: restore version 2 as version 4.
    const restored = await json(post(lh, "/v1/catalog/datasets/people/restore", { version: 2 }));
    expect(restored).toMatchObject({ restored_from: 2, dataset: { version: 4, row_count: 3 } });
    expect(await rows(lh, "select count(*) from people")).toEqual([[3]]);

    // Undo a delete: the dataset and its view come back with no version named.
    expect((await call(lh, "/v1/catalog/datasets/people", { method: "DELETE" })).status).toBe(200);
    const gone = await sql(lh, "select * from people");
    expect(gone.status).toBe(404);
    expect((await json(gone)).error.message).toBe(
      `dataset "people" was deleted (version 5, ${lh.catalog.catalog.deletion("people")!.updated_at}); POST /v1/catalog/datasets/people/restore brings it back within retention`,
    );
    expect((await call(lh, "/v1/catalog/datasets/people")).status).toBe(404);
    expect((await json(call(lh, "/v1/catalog/datasets/people/versions"))).versions[0]).toMatchObject({
      version: 5,
      result: "deleted",
      rows: 0,
      actor: "anonymous@127.0.0.1",
    });
    const undone = await json(post(lh, "/v1/catalog/datasets/people/restore", {}));
    expect(undone).toMatchObject({ restored_from: 4, dataset: { version: 6, row_count: 3 } });
    expect(await rows(lh, "select count(*) from people")).toEqual([[3]]);
    await lh.catalog.catalog.collectorIdle();

    // keep_versions = 3: versions 6, 5 and 4 are retained; 3 and older are gone.
    const past = await sql(lh, 'select * from "people@2"');
    expect(past.status).toBe(404);
    const body = await json(past);
    expect(body.error.code).toBe("not_found");
    expect(body.error.message).toContain("past retention (catalog.keep_versions = 3, catalog.keep_days = 0)");
    expect((await sql(lh, 'select * from "people@5"')).status).toBe(404);
    expect((await json(sql(lh, 'select * from "people@99"'))).error.message).toContain("has no version 99");
    expect((await json(post(lh, "/v1/catalog/datasets/people/restore", { version: 1 }))).error.message).toContain("past retention");
    // The version view made earlier for version 2 was dropped with it, not left reading deleted files.
    expect((await sql(lh, 'select * from "people@2"')).status).toBe(404);
  });

  test("the versions listing pages with before/limit and 404s for a name never used", async () => {
    await ingestOk(lh, "pages", "id\n1\n");
    for (let i = 2; i <= 4; i++) await ingestOk(lh, "pages", `id\n${i}\n`, { query: { mode: "append" } });
    const first = await json(call(lh, "/v1/catalog/datasets/pages/versions?limit=2"));
    expect(first.versions.map((v: any) => v.version)).toEqual([4, 3]);
    expect(first.next_before).toBe(3);
    const second = await json(call(lh, `/v1/catalog/datasets/pages/versions?limit=2&before=${first.next_before}`));
    expect(second.versions.map((v: any) => v.version)).toEqual([2, 1]);
    expect(second.next_before).toBeUndefined();
    expect((await call(lh, "/v1/catalog/datasets/nobody/versions")).status).toBe(404);
  });
});
