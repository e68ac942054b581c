// The SQL row source pages a dataset by id ranges: every row exactly once, in id order, a run of
// equal ids never split across pages, and a missing dataset is a 404.
import { afterAll, expect, test } from "bun:test";
import { sqlRowSource } from "../../src/sql/row-source.ts";
import type { IdValue } from "../../src/ports.ts";
import type { Row } from "../../src/matrix/rows.ts";
import { testLakehouse } from "../support/app.ts";
import { ingestOk } from "../support/ingest.ts";

const lh = await testLakehouse();
afterAll(() => lh.close());
const source = sqlRowSource(lh.catalog.catalog, lh.sql);

async function readAll(dataset: string, id: string, limit: number): Promise<Row[][]> {
  const pages: Row[][] = [];
  let after: IdValue | null = null;
  for (;;) {
    const page = await source.page(dataset, [id, "v"], id, after, limit);
    if (page.length === 0) return pages;
    pages.push(page);
    after = page[page.length - 1]![id] as IdValue;
  }
}

test("integer ids with duplicates", async () => {
  await ingestOk(lh, "dups", "id,v\n4,d\n2,b1\n1,a\n2,b2\n3,c\n2,b3\n5,e\n");
  const pages = await readAll("dups", "id", 2);
  expect(
    pages
      .flat()
      .map((r) => r.v)
      .sort(),
  ).toEqual(["a", "b1", "b2", "b3", "c", "d", "e"]);
  expect(pages.flat().map((r) => r.id)).toEqual([1, 2, 2, 2, 3, 4, 5]);
  expect(pages.map((p) => p.map((r) => r.id))).toEqual([[1, 2, 2, 2], [3, 4], [5]]);
  expect(await source.describe("dups")).toMatchObject({ columns: ["id", "v"], rows: 7 });
});

test("string ids, and rows without an id are not read", async () => {
  await ingestOk(lh, "strs", "code,v\nb,2\n,skip\na,1\nc,3\n");
  const pages = await readAll("strs", "code", 1);
  expect(pages.flat().map((r) => r.code)).toEqual(["a", "b", "c"]);
});

test("a missing dataset is not found", async () => {
  await expect(source.describe("nope")).rejects.toMatchObject({ code: "not_found" });
});
