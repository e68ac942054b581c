// DatasetWriterPort: another module writes a dataset in-process through the upload's own path —
// the same modes, the same typed read, the same catalog version.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { rows } from "../support/sql.ts";

let lh: Awaited<ReturnType<typeof testLakehouse>>;
beforeAll(async () => {
  lh = await testLakehouse();
});
afterAll(() => lh.close());

test("writeNdjson creates, refuses a silent replace, appends with the dataset's types, and is recorded as a version", async () => {
  const w = lh.ingest.writer;
  const first = await w.writeNdjson("distilled", new TextEncoder().encode('{"id":1,"zip":"02134"}\n{"id":2,"zip":null}\n'), { actor: "internal" });
  expect(first).toMatchObject({ name: "distilled", rows: 2, result: "created" });
  await expect(w.writeNdjson("distilled", new TextEncoder().encode('{"id":3}\n'), {})).rejects.toThrow("mode=append");
  const stream = new Blob(['{"id":3,"zip":"60601"}\n']).stream();
  expect(await w.writeNdjson("distilled", stream, { mode: "append" })).toMatchObject({ rows: 1, result: "appended" });
  expect(await rows(lh, "select id, zip from distilled order by id")).toEqual([
    [1, "02134"],
    [2, null],
    [3, "60601"],
  ]);
  expect(lh.catalog.catalog.get("distilled")).toMatchObject({ version: 2, op: "append" });
});
