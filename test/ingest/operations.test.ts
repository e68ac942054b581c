// ingest.upload in-process: a stream in, the same result as over HTTP, queryable with sql.query
// at once; ingest.completed is published; bad inputs are validation errors naming the field.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { LakehouseEvents } from "../../src/events.ts";
import type { IngestResult } from "../../src/ingest/index.ts";
import type { QueryResult } from "../../src/sql/engine.ts";
import { testLakehouse } from "../support/app.ts";
import { json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;

const CSV = "id,zip\n1,02134\n2,90210\n3,00501\n";
const stream = (text: string, contentType = "text/csv") => ({ body: new Blob([text]).stream(), contentType });

describe("ingest.upload", () => {
  let lh: LH;
  const completed: LakehouseEvents["ingest.completed"][] = [];
  beforeAll(async () => {
    lh = await testLakehouse();
    lh.events.on("ingest.completed", (e) => {
      completed.push(e);
    });
  });
  afterAll(() => lh.close());

  test("a stream in-process becomes a dataset sql.query reads at once", async () => {
    const result = await lh.ops.call<IngestResult>("ingest.upload", {
      name: "zips",
      format: "csv",
      stream: { body: new Blob([CSV]).stream(), contentType: "text/csv" },
    });
    expect(result).toMatchObject({ name: "zips", rows: 3, columns: 2, result: "created" });
    const count = await lh.ops.call<QueryResult>("sql.query", { sql: "select count(*) from zips" });
    expect(count.rows).toEqual([[3]]);
    const zips = await lh.ops.call<QueryResult>("sql.query", { sql: "select zip from zips order by id" });
    expect(zips.rows).toEqual([["02134"], ["90210"], ["00501"]]);
    expect(completed.at(-1)).toEqual({ name: "zips", rows: 3, bytes: result.bytes, ms: result.ms, result: "created" });
  });

  test("in-process and HTTP agree: the same upload is unchanged either way", async () => {
    const local = await lh.ops.call<IngestResult>("ingest.upload", { name: "twice", stream: stream(CSV) });
    const res = await ingest(lh, "twice", CSV);
    expect(res.status).toBe(200);
    const remote = await json(res);
    expect(remote).toMatchObject({ result: "unchanged", key: local.key, dataset_id: local.dataset_id, fingerprint: local.fingerprint, rows: 3 });
    expect(completed.at(-1)).toMatchObject({ name: "twice", result: "unchanged" });
  });

  test("query options arrive typed in-process: header as a boolean, nulls and delimiter", async () => {
    const result = await lh.ops.call<IngestResult>("ingest.upload", {
      name: "opts",
      header: false,
      delimiter: ";",
      nulls: "NA",
      stream: stream("1;NA\n2;x\n"),
    });
    expect(result).toMatchObject({ rows: 2, result: "created" });
    const q = await lh.ops.call<QueryResult>("sql.query", { sql: "select * from opts order by 1" });
    expect(q.rows).toEqual([
      [1, null],
      [2, "x"],
    ]);
  });

  test("the declared length is checked before the body is read", async () => {
    const small = await testLakehouse({ ingest: { max_ingest_bytes: 100 } });
    try {
      const unread = new ReadableStream<Uint8Array>({
        pull() {
          throw new Error("the body was read");
        },
      });
      await expect(small.ops.call("ingest.upload", { name: "big", stream: { body: unread, contentType: "text/csv", length: 1000 } })).rejects.toMatchObject({
        code: "too_large",
        details: { limit_bytes: 100 },
      });
    } finally {
      await small.close();
    }
  });

  test("bad inputs: validation_failed naming the field, a missing stream too", async () => {
    await expect(lh.ops.call("ingest.upload", { name: "x", mode: "merge", stream: stream(CSV) })).rejects.toMatchObject({
      code: "validation_failed",
      details: [{ path: "mode" }],
    });
    await expect(lh.ops.call("ingest.upload", { name: "x", header: "maybe", stream: stream(CSV) })).rejects.toMatchObject({ code: "validation_failed" });
    await expect(lh.ops.call("ingest.upload", { name: "x" })).rejects.toMatchObject({ code: "validation_failed", details: [{ path: "stream" }] });
    await expect(lh.ops.call("ingest.upload", { name: "x", stream: { body: null } })).rejects.toMatchObject({ code: "bad_request" });
    const res = await ingest(lh, "x", CSV, { query: { mode: "merge" } });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: "validation_failed", details: [{ path: "mode" }] });
  });
});
