// Which fields a corpus gets when created or rebuilt (src/matrix/corpus-fields.ts), and what a
// user sees over HTTP: the fields and weights in the status, field_weights checked against the
// text columns, and a change of weights re-embedding every row (the vectors are mixed with them).
import { afterAll, describe, expect, test } from "bun:test";
import { resolveFields } from "../../src/matrix/corpus-fields.ts";
import type { CorpusRecord } from "../../src/matrix/corpus-store.ts";
import type { RowSource } from "../../src/ports.ts";
import { testLakehouse } from "../support/app.ts";
import { json, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { toCsv, workers } from "../support/staffing.ts";
import { buildCorpus, WORKERS_CORPUS } from "./fixtures.ts";

const long = Array.from({ length: 36 }, (_, i) => `w${i}`).join(" ");
/** A dataset of two rows as a RowSource, counting page reads. */
function rowsOf(): RowSource & { reads: number } {
  const src = {
    reads: 0,
    describe: async () => ({ rows: 2, version: 1, columns: ["id", "skill", "notes", "city"] }),
    page: async () => {
      src.reads++;
      return [
        { id: 1, skill: "welder", notes: long, city: "Gary" },
        { id: 2, skill: "forklift operator", notes: long, city: "Joliet" },
      ];
    },
  };
  return src as unknown as RowSource & { reads: number };
}
const input = { dataset: "w", id_column: "id" };
const existing = (fields?: CorpusRecord["fields"]) => ({ name: "c", fields }) as CorpusRecord;

describe("resolveFields", () => {
  test("a new corpus weighs each text column by its length unless told", async () => {
    const src = rowsOf();
    const out = await resolveFields(src, { ...input, field_weights: { city: 2 } }, { template: "{skill}: {notes} ({city})" });
    expect(out).toEqual({
      fields: [
        { column: "skill", weight: 1 },
        { column: "notes", weight: Math.round(Math.sqrt(4 / 36) * 1000) / 1000 },
        { column: "city", weight: 2 },
      ],
      relayout: false,
    });
    expect(src.reads).toBe(1);
  });

  test("a rebuild over the same columns keeps the weights, taking new ones given, without reading rows", async () => {
    const src = rowsOf();
    const before = [
      { column: "skill", weight: 1 },
      { column: "notes", weight: 0.3 },
    ];
    const out = await resolveFields(src, { ...input, field_weights: { skill: 3 } }, { columns: ["skill", "notes"] }, existing(before));
    expect(out).toEqual({
      fields: [
        { column: "skill", weight: 3 },
        { column: "notes", weight: 0.3 },
      ],
      relayout: false,
    });
    expect(src.reads).toBe(0);
  });

  test("other columns: a new layout (the lexical index starts over); kept columns keep their weights", async () => {
    const out = await resolveFields(rowsOf(), input, { columns: ["notes", "city"] }, existing([{ column: "notes", weight: 0.3 }]));
    expect(out).toEqual({
      fields: [
        { column: "notes", weight: 0.3 },
        { column: "city", weight: 1 },
      ],
      relayout: true,
    });
  });

  test("a corpus built before fields stays whole; weighing its fields asks for a new corpus", async () => {
    expect(await resolveFields(rowsOf(), input, { columns: ["skill"] }, existing())).toEqual({ relayout: false });
    await expect(resolveFields(rowsOf(), { ...input, field_weights: { skill: 2 } }, { columns: ["skill"] }, existing())).rejects.toThrow(
      "delete it and build it again",
    );
  });
});

const lh = await testLakehouse({ embed: { cache_size: 0 } });
afterAll(() => lh.close());
await ingestOk(lh, "workers", toCsv(workers(30) as any));

describe("over HTTP", () => {
  test("field_weights must name text columns: 400 naming the key", async () => {
    const res = await post(lh, "/v1/matrix/corpora", { ...WORKERS_CORPUS, field_weights: { hourly_rate: 2 } });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details[0].path).toBe("field_weights.hourly_rate");
    expect((await post(lh, "/v1/matrix/corpora", { ...WORKERS_CORPUS, field_weights: { city: 0 } })).status).toBe(400);
  });

  test("the status names the fields; new weights re-embed every row; the same request again changes nothing", async () => {
    const st = await buildCorpus(lh, WORKERS_CORPUS);
    expect(st.fields.map((f: any) => f.column)).toEqual(["primary_skill", "city", "state", "resume_text"]);
    expect(st.fields.slice(0, 3).map((f: any) => f.weight)).toEqual([1, 1, 1]);
    expect(st.fields[3].weight).toBeLessThan(1);
    const again = await buildCorpus(lh, { ...WORKERS_CORPUS, field_weights: { resume_text: 1 } });
    expect(again.fields[3]).toEqual({ column: "resume_text", weight: 1 });
    expect(again.last_build).toEqual({ embedded: 30, metadata_updated: 0, unchanged: 0, removed: 0 });
    const same = await buildCorpus(lh, WORKERS_CORPUS);
    expect(same.fields[3].weight).toBe(1);
    expect(same.last_build.unchanged).toBe(30);
  });

  test("other text columns: the lexical index starts over with the new fields", async () => {
    const before = await json(post(lh, "/v1/matrix/search", { query: "distribution center", corpora: ["workers"], mode: "lexical", k: 50 }));
    expect(before.results.length).toBe(30);
    const st = await buildCorpus(lh, { ...WORKERS_CORPUS, template: "{primary_skill} in {city}" });
    expect(st.fields.map((f: any) => f.column)).toEqual(["primary_skill", "city"]);
    expect(st.lexical.docs).toBe(30);
    expect(st.lexical.rebuilt).toBeUndefined();
    // The résumé is no longer a field: its words match nothing; the skill still does.
    const after = await json(post(lh, "/v1/matrix/search", { query: "distribution center", corpora: ["workers"], mode: "lexical", k: 50 }));
    expect(after.results).toEqual([]);
    const skill = await json(post(lh, "/v1/matrix/search", { query: "welder", corpora: ["workers"], mode: "lexical", k: 50 }));
    expect(skill.results.length).toBeGreaterThan(0);
    for (const r of skill.results) expect(r.metadata.primary_skill).toBe("Welder");
  });
});
