// Issue 11, points 1 and 2: an upload into an existing dataset is read with the dataset's column
// types (CSV, NDJSON, Parquet), matched by name; a value that does not fit is a 400 naming the
// line, the column and the value with nothing committed; schema=strict answers its own 409 with the
// diff, schema=evolve adds, fills, drops and widens in one commit. On both storage backends.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { json } from "../support/http.ts";
import { ingest, ingestOk } from "../support/ingest.ts";
import { type RunningS3, s3Options, startS3rver } from "../support/s3rver.ts";
import { rows } from "../support/sql.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;

/** The staffing workers' shape: the zip is text (a leading zero), rates and scores are DOUBLE, a DATE. */
const WORKERS =
  "worker_id,name,zip,hourly_rate,reliability_score,last_assignment_date\n" + "1,ann,02134,18.5,0.93,2024-01-02\n" + "2,bob,90210,21.25,0.81,2023-11-30\n";

/** What a failed upload must not have changed: the manifest and the dataset's objects. */
async function snapshot(lh: LH, name: string) {
  return { manifest: lh.catalog.catalog.get(name), keys: (await lh.storage.store.list(`datasets/${name}/`)).items.map((i) => i.key) };
}

const append = { query: { mode: "append" } };
const evolveAppend = { query: { mode: "append", schema: "evolve" } };

function suite(label: string, open: () => Promise<LH>) {
  describe(`typed appends (${label})`, () => {
    let lh: LH;
    let n = 0;
    /** A fresh workers dataset per test. */
    const workers = async () => {
      const name = `workers_${++n}`;
      await ingestOk(lh, name, WORKERS);
      return name;
    };
    beforeAll(async () => {
      lh = await open();
    });
    afterAll(() => lh?.close());

    test("the issue's one-row CSV append works: zip=60601 stays text, 18 into DOUBLE, 1 into DOUBLE, an empty DATE is NULL", async () => {
      const name = await workers();
      const before = lh.catalog.catalog.get(name)!;
      const res = await ingest(lh, name, "worker_id,name,zip,hourly_rate,reliability_score,last_assignment_date\n3,cy,60601,18,1,\n", append);
      expect(res.status).toBe(200);
      expect(await json(res)).toMatchObject({ result: "appended", rows: 1, version: 2, fingerprint: before.fingerprint });
      expect(await rows(lh, `SELECT zip, hourly_rate, reliability_score, last_assignment_date FROM ${name} WHERE worker_id = 3`)).toEqual([
        ["60601", 18, 1, null],
      ]);
      const after = lh.catalog.catalog.get(name)!;
      expect(after.fields.map((f) => [f.name, f.type])).toEqual(before.fields.map((f) => [f.name, f.type]));
      // Nullability merges: the dataset had no NULL dates before, it has one now.
      expect(after.fields.find((f) => f.name === "last_assignment_date")!.nullable).toBe(true);
      expect(after.op).toBe("append");
    });

    test("the same row as typed NDJSON with nulls, a key left out, and the columns in another order", async () => {
      const name = await workers();
      const ndjson =
        '{"last_assignment_date":null,"reliability_score":1,"hourly_rate":18,"zip":60601,"name":"cy","worker_id":3}\n' +
        '{"worker_id":4,"name":"dee","zip":"00501","hourly_rate":null,"reliability_score":0.5}\n';
      const res = await ingest(lh, name, ndjson, { ...append, type: "ndjson" });
      expect(res.status).toBe(200);
      expect(await rows(lh, `SELECT worker_id, zip, hourly_rate, reliability_score, last_assignment_date FROM ${name} WHERE worker_id > 2 ORDER BY 1`)).toEqual(
        [
          [3, "60601", 18, 1, null],
          [4, "00501", null, 0.5, null],
        ],
      );
    });

    test("column order does not matter: matched by name, written in the dataset's order", async () => {
      const name = await workers();
      const res = await ingest(lh, name, "last_assignment_date,reliability_score,hourly_rate,zip,name,worker_id\n2024-05-06,0.7,19.5,02139,eve,5\n", append);
      expect(res.status).toBe(200);
      const m = lh.catalog.catalog.get(name)!;
      // The new object's own columns are the manifest's: no schema note of its own.
      expect(m.objects.at(-1)!.fingerprint).toBeUndefined();
      expect(await rows(lh, `SELECT * FROM ${name} WHERE worker_id = 5`)).toEqual([[5, "eve", "02139", 19.5, 0.7, "2024-05-06"]]);
    });

    test("a Parquet upload is cast by name to the dataset's types", async () => {
      const name = await workers();
      // A Parquet file with other types for the same columns: the dataset's "ints" as BIGINT and zip as BIGINT.
      await ingestOk(lh, `${name}_src`, "worker_id,name,zip,hourly_rate,reliability_score,last_assignment_date\n6,fay,60601,18,1,2024-02-03\n");
      const src = lh.catalog.catalog.get(`${name}_src`)!;
      expect(src.fields.map((f) => f.type)).toEqual(["BIGINT", "VARCHAR", "BIGINT", "BIGINT", "BIGINT", "DATE"]);
      const parquet = await lh.storage.store.getBytes(src.objects[0]!.key);
      const res = await ingest(lh, name, parquet, { ...append, type: "parquet" });
      expect(res.status).toBe(200);
      expect(await rows(lh, `SELECT zip, hourly_rate, reliability_score FROM ${name} WHERE worker_id = 6`)).toEqual([["60601", 18, 1]]);
      expect(lh.catalog.catalog.get(name)!.fingerprint).toBe(lh.catalog.catalog.get(name)!.fingerprint);
    });

    test("a value that does not fit is a 400 naming the line, the column and the value; nothing is committed", async () => {
      const name = await workers();
      const before = await snapshot(lh, name);
      const header = "worker_id,name,zip,hourly_rate,reliability_score,last_assignment_date\n";
      const bad = await ingest(lh, name, `${header}3,cy,60601,18,1,\n4,dee,60602,abc,1,\n`, append);
      expect(bad.status).toBe(400);
      const err = (await json(bad)).error;
      expect(err.details).toEqual({ line: 3, column: "hourly_rate", value: "abc", type: "DOUBLE" });
      expect(err.message).toContain('line 3, column "hourly_rate": "abc" is not a valid DOUBLE');
      expect(err.message).toContain("schema=evolve");
      // DuckDB would round 1.5 into a BIGINT silently; the exact cast refuses it, naming its line.
      const rounded = (await json(ingest(lh, name, `${header}3,cy,60601,18,1,\n4.5,dee,60602,20,1,\n`, append))).error;
      expect(rounded.details).toEqual({ line: 3, column: "worker_id", value: "4.5", type: "BIGINT" });
      const ndjson = (await json(ingest(lh, name, '{"worker_id":3}\n{"worker_id":4,"last_assignment_date":"soon"}\n', { ...append, type: "ndjson" }))).error;
      expect(ndjson.details).toEqual({ line: 2, column: "last_assignment_date", value: "soon", type: "DATE" });
      const truthy = (await json(ingest(lh, name, '{"worker_id":true}\n', { ...append, type: "ndjson" }))).error;
      expect(truthy.details).toMatchObject({ line: 1, column: "worker_id", value: "true" });
      expect(await snapshot(lh, name)).toEqual(before);
    });

    test("schema=evolve on append: a new column is added (NULL in earlier rows), a missing one filled with NULL, a misfit widened", async () => {
      const name = await workers();
      const res = await ingest(lh, name, "worker_id,zip,hourly_rate,shift\n3.5,60601,n/a,night\n", evolveAppend);
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body.result).toBe("appended");
      expect(body.schema_change).toEqual({
        added: [{ name: "shift", type: "VARCHAR" }],
        removed: [],
        retyped: [
          { name: "worker_id", from: "BIGINT", to: "DOUBLE" },
          { name: "hourly_rate", from: "DOUBLE", to: "VARCHAR" },
        ],
        reordered: false,
      });
      const m = lh.catalog.catalog.get(name)!;
      expect(m.op).toBe("evolve");
      expect(m.fields.map((f) => f.name)).toEqual(["worker_id", "name", "zip", "hourly_rate", "reliability_score", "last_assignment_date", "shift"]);
      expect(await rows(lh, `SELECT worker_id, name, hourly_rate, shift FROM ${name} ORDER BY worker_id`)).toEqual([
        [1, "ann", "18.5", null],
        [2, "bob", "21.25", null],
        [3.5, null, "n/a", "night"],
      ]);
    });

    test("schema=evolve on replace drops the columns the upload lacks, in one commit", async () => {
      const name = await workers();
      const before = lh.catalog.catalog.get(name)!;
      const res = await ingest(lh, name, "worker_id,zip\n9,10001\n", { query: { mode: "replace", schema: "evolve" } });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toMatchObject({ result: "replaced", version: before.version + 1 });
      expect(body.schema_change.removed.map((r: { name: string }) => r.name)).toEqual(["name", "hourly_rate", "reliability_score", "last_assignment_date"]);
      expect(await rows(lh, `SELECT * FROM ${name}`)).toEqual([[9, "10001"]]);
    });

    test("the same upload again is unchanged, with no mode or with its mode", async () => {
      const name = await workers();
      expect((await json(ingest(lh, name, WORKERS))).result).toBe("unchanged");
      const row = "worker_id,name,zip,hourly_rate,reliability_score,last_assignment_date\n3,cy,60601,18,1,\n";
      expect((await json(ingest(lh, name, row, append))).result).toBe("appended");
      expect((await json(ingest(lh, name, row, append))).result).toBe("unchanged");
      expect(lh.catalog.catalog.get(name)!.row_count).toBe(3);
    });
  });
}

suite("fs", () => testLakehouse());

describe("s3", () => {
  let s3: RunningS3;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(() => s3?.stop());
  suite("s3", () => testLakehouse({ storage: { backend: "s3", s3: s3Options(s3) } }));
});
