// POST /v1/matrix/search modes over a real app: hybrid is the default with a query (vector with
// a vector), lexical finds an exact rare word the embedder blurs, explain shows each hit's two
// parts, lexical and hybrid need query text.
import { afterAll, describe, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { json, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { toCsv, workers } from "../support/staffing.ts";
import { buildCorpus, WORKERS_CORPUS } from "./fixtures.ts";

const lh = await testLakehouse();
afterAll(() => lh.close());
const rows = workers(120);
// One resume holds a word no other text has.
rows[77] = { ...rows[77]!, resume_text: `${rows[77]!.resume_text} Holds a zeppelin pilot licence.` };
await ingestOk(lh, "workers", toCsv(rows as any));
const built = await buildCorpus(lh, WORKERS_CORPUS);
const search = async (body: Record<string, unknown>) => json(post(lh, "/v1/matrix/search", { corpora: ["workers"], playbooks: false, ...body }));

describe("search modes", () => {
  test("with a query the default is hybrid; with a vector, vector", async () => {
    expect((await search({ query: "welder Detroit" })).fusion).toEqual({ method: "calibrated", mode: "hybrid", lexical_weight: 2 });
    // A vector query is in the corpus's model (the one its status names).
    const vec = (await lh.embed.embedder.embed(["welder Detroit"], built.model)).vectors[0];
    expect((await search({ vector: vec })).fusion).toEqual({ method: "calibrated", mode: "vector" });
  });

  test("lexical and hybrid need query text: 400 naming mode", async () => {
    const res = await post(lh, "/v1/matrix/search", { vector: [0.1, 0.2], mode: "lexical" });
    expect(res.status).toBe(400);
    expect((await json(res)).error.details[0].path).toBe("mode");
    expect((await post(lh, "/v1/matrix/search", { query: "x", mode: "fuzzy" })).status).toBe(400);
  });

  test("lexical mode ranks the only document with a rare word first; its raw score is BM25 over the query's maximum", async () => {
    const res = await search({ query: "zeppelin", mode: "lexical", explain: true, k: 5 });
    expect(res.results.map((r: any) => r.id)).toEqual([rows[77]!.worker_id]);
    const src = res.results[0].explain.sources[0];
    expect(src.raw).toBeGreaterThan(0);
    expect(src.raw).toBeLessThan(1);
    expect(src.parts).toBeUndefined();
    expect(res.timings.lexical_ms).toBeGreaterThanOrEqual(0);
  });

  test("hybrid explains each hit's vector and lexical parts, and its score is their combination", async () => {
    const res = await search({ query: "zeppelin pilot licence", explain: true, k: 10 });
    expect(res.results[0].id).toBe(rows[77]!.worker_id);
    for (const r of res.results) {
      const { vector, lexical } = r.explain.sources[0].parts;
      // The default lexical_weight is 2: (zv + 2·zl) / sqrt(1 + 4).
      expect(r.explain.sources[0].calibrated).toBeCloseTo((vector.calibrated + 2 * lexical.calibrated) / Math.sqrt(5), 5);
      expect(vector.rank === null || vector.rank >= 1).toBe(true);
      expect(lexical.rank === null || lexical.rank >= 1).toBe(true);
    }
    // Both parts found the rare word's document.
    expect(res.results[0].explain.sources[0].parts.lexical.rank).toBe(1);
  });

  test("lexical_weight 0 gives the vector order; the request's weight is reported", async () => {
    const q = { query: "forklift operator Joliet", k: 10 };
    const hybrid0 = await search({ ...q, lexical_weight: 0 });
    const vector = await search({ ...q, mode: "vector" });
    expect(hybrid0.fusion.lexical_weight).toBe(0);
    expect(hybrid0.results.map((r: any) => r.id)).toEqual(vector.results.map((r: any) => r.id));
  });

  test("filters apply to every mode alike", async () => {
    const filter = { city: "Gary" };
    for (const mode of ["hybrid", "vector", "lexical"]) {
      const res = await search({ query: "electrician", mode, filter, k: 20 });
      expect(res.results.length).toBeGreaterThan(0);
      for (const r of res.results) expect(r.metadata.city).toBe("Gary");
    }
  });
});
