import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { rows, sql } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";

type LH = Awaited<ReturnType<typeof testLakehouse>>;

/** What the ingests left in the spool: the files of each instance's folder under ingest.temp_dir. */
const spoolFiles = (spoolRoot: string) => readdirSync(spoolRoot).flatMap((dir) => readdirSync(join(spoolRoot, dir)).filter((n) => n !== "duckdb-tmp"));

const PEOPLE = "id,zip,name\n1,02134,ann\n2,90210,bob\n";

async function objectKeys(lh: LH, prefix: string): Promise<string[]> {
  return (await lh.storage.store.list(prefix)).items.map((i) => i.key);
}

describe("ingest", () => {
  let lh: LH;
  let spoolRoot: string;
  beforeAll(async () => {
    spoolRoot = tempDir("lh-spool-");
    lh = await testLakehouse({ ingest: { temp_dir: spoolRoot, max_ingest_bytes: 64 * 1024 * 1024 } });
  });
  afterAll(() => lh.close());

  const spoolLeftovers = () => spoolFiles(spoolRoot);

  test("CSV round trip: created, then queryable with inferred types", async () => {
    const res = await ingest(lh, "people", PEOPLE);
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({ name: "people", rows: 2, columns: 3, result: "created" });
    expect(body.key).toMatch(/^datasets\/people\/[0-9a-f]{64}\.parquet$/);
    expect(body.dataset_id).toBe(lh.catalog.catalog.get("people")!.dataset_id);
    const q = await json(sql(lh, "SELECT * FROM people ORDER BY id"));
    expect(q.columns).toEqual([
      { name: "id", type: "BIGINT" },
      { name: "zip", type: "VARCHAR" },
      { name: "name", type: "VARCHAR" },
    ]);
    expect(q.rows).toEqual([
      [1, "02134", "ann"],
      [2, "90210", "bob"],
    ]);
    expect(spoolLeftovers()).toEqual([]);
  });

  test("re-ingesting identical content is unchanged: same key, no new version, no journal entry", async () => {
    await ingest(lh, "same", PEOPLE);
    const version = lh.catalog.catalog.get("same")!.version;
    const seq = lh.catalog.journal.lastSeq;
    const res = await ingest(lh, "same", PEOPLE);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.result).toBe("unchanged");
    expect(body.key).toBe(lh.catalog.catalog.get("same")!.objects[0]!.key);
    expect(lh.catalog.catalog.get("same")!.version).toBe(version);
    expect(lh.catalog.journal.lastSeq).toBe(seq);
    expect(await objectKeys(lh, "datasets/same/")).toHaveLength(1);
  });

  test("replace (mode=replace) with the same schema swaps the data; the old object stays for the versions retention keeps", async () => {
    await ingest(lh, "swap", PEOPLE);
    const oldKey = lh.catalog.catalog.get("swap")!.objects[0]!.key;
    const res = await ingest(lh, "swap", "id,zip,name\n7,00501,zed\n", { query: { mode: "replace" } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ result: "replaced", version: 2 });
    expect(await rows(lh, "SELECT id, zip FROM swap")).toEqual([[7, "00501"]]);
    expect(await lh.storage.store.head(oldKey)).not.toBeNull();
  });

  test("no mode into an existing dataset is a 409 naming the modes; nothing changes", async () => {
    await ingest(lh, "nomode", PEOPLE);
    const before = lh.catalog.catalog.get("nomode")!;
    const keysBefore = await objectKeys(lh, "");
    const res = await ingest(lh, "nomode", "id,zip,name\n7,00501,zed\n");
    expect(res.status).toBe(409);
    const err = (await json(res)).error;
    expect(err.code).toBe("conflict");
    expect(err.message).toContain("mode=append");
    expect(err.message).toContain("mode=replace");
    expect(err.details).toEqual({ dataset: "nomode", version: 1, row_count: 2, modes: ["append", "replace"] });
    expect(lh.catalog.catalog.get("nomode")).toEqual(before);
    expect(await objectKeys(lh, "")).toEqual(keysBefore);
    expect(await rows(lh, "SELECT count(*) FROM nomode")).toEqual([[2]]);
  });

  test("schema drift under strict is a 409 with the diff naming schema=evolve; the old data and manifest stay and stay queryable", async () => {
    await ingest(lh, "drift", PEOPLE);
    const before = lh.catalog.catalog.get("drift")!;
    const keysBefore = await objectKeys(lh, "datasets/drift/");
    for (const mode of ["replace", "append"]) {
      const res = await ingest(lh, "drift", "id,zip,name,rate\n3,12345,cy,1.5\n", { query: { mode } });
      expect(res.status).toBe(409);
      const err = (await json(res)).error;
      expect(err.code).toBe("conflict");
      expect(err.details.diff.added).toEqual([{ name: "rate", type: "DOUBLE" }]);
      expect(err.details.accept).toBe("schema=evolve");
      expect(err.message).toContain("schema=evolve");
    }
    // Refused before anything was converted or stored.
    expect(await objectKeys(lh, "datasets/drift/")).toEqual(keysBefore);
    expect(lh.catalog.catalog.get("drift")).toEqual(before);
    const missing = (await json(ingest(lh, "drift", "id,zip\n3,12345\n", { query: { mode: "append" } }))).error;
    expect(missing.details.diff.removed).toEqual([{ name: "name", type: "VARCHAR" }]);
    expect(missing.message).toContain("fill the missing ones with NULL");
    // A zip that looks numeric is read as the dataset's VARCHAR, not re-inferred.
    expect((await json(ingest(lh, "drift", "id,zip,name\n3,12345,cy\n", { query: { mode: "replace" } }))).result).toBe("replaced");
    expect(await rows(lh, "SELECT zip FROM drift")).toEqual([["12345"]]);
    expect(lh.catalog.catalog.get("drift")!.fingerprint).toBe(before.fingerprint);
    expect((await objectKeys(lh, "datasets/drift/")).length).toBe(keysBefore.length + 1);
  });

  test("append adds rows under the same schema; appending the same file again is unchanged", async () => {
    await ingest(lh, "grow", PEOPLE);
    const more = "id,zip,name\n3,01002,cy\n4,10001,dee\n";
    const res = await ingest(lh, "grow", more, { query: { mode: "append" } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ result: "appended", rows: 2 });
    const again = await json(ingest(lh, "grow", more, { query: { mode: "append" } }));
    expect(again.result).toBe("unchanged");
    expect(await rows(lh, "SELECT id, zip FROM grow ORDER BY id")).toEqual([
      [1, "02134"],
      [2, "90210"],
      [3, "01002"],
      [4, "10001"],
    ]);
    expect(lh.catalog.catalog.get("grow")!.row_count).toBe(4);
  });

  test("inference: clean types are inferred; ambiguity, leading zeros and empties stay strings", async () => {
    const csv =
      "\ufeffint,dbl,mixed,code,dt,ts,flag,empty,maybe,text\r\n" +
      '1,1.5,10,007,2024-01-02,2024-01-02 03:04:05,true,,1,"multi\r\nline, with ""quotes"""\r\n' +
      "2,2,x1,123,2024-02-29,2024-02-29 23:59:59,false,,,plain\r\n" +
      "3,-0.25,30,042,1999-12-31,1999-12-31 00:00:00,TRUE,,3,\r\n";
    const res = await ingest(lh, "kinds", csv);
    expect(res.status).toBe(201);
    const fields = lh.catalog.catalog.get("kinds")!.fields.map((f) => [f.name, f.type, f.nullable]);
    expect(fields).toEqual([
      ["int", "BIGINT", false],
      ["dbl", "DOUBLE", false],
      ["mixed", "VARCHAR", false],
      ["code", "VARCHAR", false],
      ["dt", "DATE", false],
      ["ts", "TIMESTAMP", false],
      ["flag", "BOOLEAN", false],
      ["empty", "VARCHAR", true],
      ["maybe", "BIGINT", true],
      ["text", "VARCHAR", true],
    ]);
    expect(await rows(lh, "SELECT * FROM kinds ORDER BY int")).toEqual([
      [1, 1.5, "10", "007", "2024-01-02", "2024-01-02T03:04:05", true, null, 1, 'multi\r\nline, with "quotes"'],
      [2, 2, "x1", "123", "2024-02-29", "2024-02-29T23:59:59", false, null, null, "plain"],
      [3, -0.25, "30", "042", "1999-12-31", "1999-12-31T00:00:00", true, null, 3, null],
    ]);
  });

  test("a leading-zero code that first appears on row 400,000 still makes the column a string", async () => {
    const lines = ["id,zip"];
    for (let i = 1; i <= 400_001; i++) lines.push(`${i},${i === 400_000 ? "02134" : 10000 + (i % 89999)}`);
    const res = await ingest(lh, "late_zero", `${lines.join("\n")}\n`);
    expect(res.status).toBe(201);
    expect(lh.catalog.catalog.get("late_zero")!.fields.map((f) => f.type)).toEqual(["BIGINT", "VARCHAR"]);
    expect(await rows(lh, "SELECT zip FROM late_zero WHERE id = 400000")).toEqual([["02134"]]);
    expect(await rows(lh, "SELECT count(*) FROM late_zero")).toEqual([[400_001]]);
  });

  test("options: delimiter, no header, custom null strings", async () => {
    const res = await ingest(lh, "opts", "1;NA;x\n2;5;N/A\n", { query: { delimiter: ";", header: false, nulls: "NA,N/A" } });
    expect(res.status).toBe(201);
    expect(await rows(lh, "SELECT * FROM opts ORDER BY 1")).toEqual([
      [1, null, "x"],
      [2, 5, null],
    ]);
  });

  test("a ragged CSV is a 400 naming the line, and leaves nothing behind", async () => {
    const keysBefore = await objectKeys(lh, "");
    const res = await ingest(lh, "ragged", 'a,b,c\n1,2,3\n4,"x\ny",6\n7,8\n9,10,11\n');
    expect(res.status).toBe(400);
    const err = (await json(res)).error;
    expect(err.details).toEqual({ line: 5 });
    expect(err.message).toContain("line 5");
    const unclosed = (await json(ingest(lh, "ragged", 'a,b\n1,2\n3,"oops\n4,5\n'))).error;
    expect(unclosed.details).toEqual({ line: 3 });
    expect(await objectKeys(lh, "")).toEqual(keysBefore);
    expect(lh.catalog.catalog.get("ragged")).toBeUndefined();
    expect(spoolLeftovers()).toEqual([]);
  });

  test("error messages never show this machine's paths", async () => {
    const res = await ingest(lh, "badjson", '{"a":1}\n{"a":\n', { type: "ndjson" });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain(spoolRoot);
    expect(text).not.toContain("/tmp");
  });

  test("multipart upload (field file) and NDJSON", async () => {
    const form = new FormData();
    form.append("file", new Blob(['{"id":1,"zip":"02134","tags":["a","b"]}\n{"id":2,"zip":"10001","tags":[]}\n']), "events.ndjson");
    const res = await ingest(lh, "events", form);
    expect(res.status).toBe(201);
    expect(await rows(lh, "SELECT id, zip, tags FROM events ORDER BY id")).toEqual([
      [1, "02134", ["a", "b"]],
      [2, "10001", []],
    ]);
  });

  test("a Parquet upload is taken as is", async () => {
    await ingest(lh, "src", PEOPLE);
    const parquet = await lh.storage.store.getBytes(lh.catalog.catalog.get("src")!.objects[0]!.key);
    const res = await ingest(lh, "copy", parquet, { type: "parquet" });
    expect(res.status).toBe(201);
    expect(await rows(lh, "SELECT * FROM copy ORDER BY id")).toEqual(await rows(lh, "SELECT * FROM src ORDER BY id"));
  });

  test("unknown content type is 415, an empty upload 400, a hostile name 400", async () => {
    expect((await ingest(lh, "x", "a\n1\n", { type: "image/png" })).status).toBe(415);
    expect((await ingest(lh, "x", "")).status).toBe(400);
    const hostile = await ingest(lh, encodeURIComponent('foo"; DROP VIEW people; --'), PEOPLE);
    expect(hostile.status).toBe(400);
    expect((await json(hostile)).error.message).toContain("invalid dataset name");
    expect(await rows(lh, "SELECT count(*) FROM people")).toEqual([[2]]);
  });

  test("a name differing only in case from a live dataset is a 409 that leaves nothing behind", async () => {
    const res = await ingest(lh, "PEOPLE", "id,zip,name\n9,11111,x\n");
    expect(res.status).toBe(409);
    expect((await lh.storage.store.list("datasets/PEOPLE/")).items).toEqual([]);
    expect(await rows(lh, "SELECT count(*) FROM people")).toEqual([[2]]);
  });

  test("catalog routes list, describe and delete (dropping the view)", async () => {
    await ingest(lh, "gone", PEOPLE);
    const list = await json(call(lh, "/v1/catalog/datasets"));
    expect(list.datasets.map((d: { name: string }) => d.name)).toContain("gone");
    const schema = await json(call(lh, "/v1/catalog/datasets/gone/schema"));
    expect(schema.fields.map((f: { name: string }) => f.name)).toEqual(["id", "zip", "name"]);
    const key = lh.catalog.catalog.get("gone")!.objects[0]!.key;
    expect((await call(lh, "/v1/catalog/datasets/gone", { method: "DELETE" })).status).toBe(200);
    expect((await call(lh, "/v1/catalog/datasets/gone")).status).toBe(404);
    // The delete is a version: its data stays while retention keeps the version that names it.
    expect(await lh.storage.store.head(key)).not.toBeNull();
    const q = await sql(lh, "SELECT * FROM gone");
    expect(q.status).toBe(404);
    expect((await json(q)).error.message).toContain('dataset "gone" was deleted');
    const entries = (await json(call(lh, `/v1/journal?since=${lh.catalog.journal.lastSeq - 2}`))).entries;
    expect(entries.map((e: { op: string; name: string }) => [e.op, e.name])).toEqual([
      ["register", "gone"],
      ["delete", "gone"],
    ]);
  });
});

describe("ingest size cap", () => {
  test("over max_ingest_bytes is 413 with nothing left behind, declared or streamed", async () => {
    const spoolRoot = tempDir("lh-spool-");
    const lh = await testLakehouse({ ingest: { temp_dir: spoolRoot, max_ingest_bytes: 10_000 } });
    try {
      const big = `id,text\n${Array.from({ length: 2000 }, (_, i) => `${i},row number ${i}`).join("\n")}`;
      expect((await ingest(lh, "big", big)).status).toBe(413);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent > 50_000) return controller.close();
          sent += 1000;
          controller.enqueue(new TextEncoder().encode(`${"x".repeat(999)}\n`));
        },
      });
      const res = await ingest(lh, "big", stream);
      expect(res.status).toBe(413);
      expect((await json(res)).error.details).toEqual({ limit_bytes: 10_000 });
      const form = new FormData();
      form.append("file", new Blob([big]), "big.csv");
      expect((await ingest(lh, "big", form)).status).toBe(413);
      // Nothing of the uploads anywhere ingest or the catalog write (other modules keep their own state).
      for (const prefix of ["datasets/", "_catalog/", "_journal/"]) expect((await lh.storage.store.list(prefix)).items).toEqual([]);
      expect(spoolFiles(spoolRoot)).toEqual([]);
      expect(lh.catalog.catalog.list()).toEqual([]);
    } finally {
      await lh.close();
    }
  });
});

describe("concurrent ingests", () => {
  test("racing replaces of one dataset are serialized; racing datasets all land", async () => {
    const lh = await testLakehouse();
    try {
      const bodies = Array.from({ length: 4 }, (_, i) => `id,zip\n${i},0000${i}\n`);
      const results = await Promise.all(bodies.map((b) => ingest(lh, "race", b, { query: { mode: "replace" } }).then((r) => json(r))));
      expect(results.map((r) => r.result).sort()).toEqual(["created", "replaced", "replaced", "replaced"]);
      const live = lh.catalog.catalog.get("race")!;
      expect(live.version).toBe(4);
      expect(live.objects).toHaveLength(1);
      const [[id, zip]] = (await rows(lh, "SELECT id, zip FROM race")) as [[number, string]];
      expect(zip).toBe(`0000${id}`);

      const names = ["d1", "d2", "d3", "d4"];
      const statuses = await Promise.all(names.map((n) => ingest(lh, n, "a\n1\n").then((r) => r.status)));
      expect(statuses).toEqual([201, 201, 201, 201]);
      expect(await rows(lh, "SELECT (SELECT count(*) FROM d1) + (SELECT count(*) FROM d4)")).toEqual([[2]]);
    } finally {
      await lh.close();
    }
  });
});
