// Where the text a corpus embedded (metadata `_text`) is visible, as docs/matrix.md says (issue 11,
// point 7): the vector API returns an item as stored, `_text` included (what was embedded is what a
// user debugging a result needs to see); matrix search results carry the row's metadata columns
// only, with and without explain; a dataset column cannot be named `_text` (nor `_fields`, where a
// fielded corpus keeps each field's span in that text).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { call, json, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { toCsv, workers } from "../support/staffing.ts";
import { buildCorpus, WORKERS_CORPUS } from "./fixtures.ts";

const lh = await testLakehouse();
afterAll(() => lh.close());
const ROWS = workers(24);

beforeAll(async () => {
  await ingestOk(lh, "workers", toCsv(ROWS as any));
  await buildCorpus(lh, WORKERS_CORPUS);
});

test("the vector API returns the embedded text under _text: the template filled from the row", async () => {
  const row = ROWS[5]!;
  const item = await json(call(lh, `/v1/vectors/indexes/matrix-workers/items/${row.worker_id}`));
  expect(item.metadata._text).toBe(`${row.primary_skill} in ${row.city}, ${row.state}: ${row.resume_text}`);
  // Where each field's value lies in it (the corpus is fielded: src/matrix/fields.ts).
  const text: string = item.metadata._text;
  expect(item.metadata._fields.map(([s, e]: [number, number]) => text.slice(s, e))).toEqual([row.primary_skill, row.city, row.state, row.resume_text]);
  expect(item.metadata).toMatchObject({ primary_skill: row.primary_skill, city: row.city, person_id: row.person_id });
  const hits = await json(post(lh, "/v1/vectors/indexes/matrix-workers/search", { vector: item.vector, k: 1 }));
  expect(hits.hits[0].metadata._text).toBe(item.metadata._text);
});

test("matrix search results never carry _text or _fields, in any mode, with or without explain", async () => {
  for (const mode of ["hybrid", "vector", "lexical"])
    for (const explain of [false, true]) {
      const res = await json(post(lh, "/v1/matrix/search", { query: "welder in Chicago", corpora: ["workers"], k: 5, explain, mode }));
      expect(res.results.length).toBeGreaterThan(0);
      for (const r of res.results) {
        expect(Object.keys(r.metadata).sort()).toEqual([...WORKERS_CORPUS.metadata].sort());
        expect(JSON.stringify(r)).not.toContain('"_text"');
        expect(JSON.stringify(r)).not.toContain('"_fields"');
      }
    }
});

test("_text and _fields are reserved: a corpus cannot take them as metadata columns", async () => {
  for (const key of ["_text", "_fields"]) {
    const res = await post(lh, "/v1/matrix/corpora", { ...WORKERS_CORPUS, name: "other", metadata: ["city", key] });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe("validation_failed");
  }
});
