// Corpora built from datasets through the real app (ingest → SQL → embed → vector), searched.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { call, json, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { toCsv, workers } from "../support/staffing.ts";
import { buildCorpus, WORKERS_CORPUS } from "./fixtures.ts";

const lh = await testLakehouse();
afterAll(() => lh.close());

const WORKERS = workers(96);
// One row with nothing to embed: it is skipped and counted.
const ROWS = [...WORKERS, { ...WORKERS[0]!, worker_id: "W99999", person_id: "P99999", primary_skill: "", city: "", state: "", resume_text: "" }];
const SKILLS_CORPUS = {
  name: "skills",
  dataset: "workers",
  id_column: "worker_id",
  template: "{primary_skill} in {city}",
  metadata: ["person_id", "primary_skill", "city", "state"],
};

let built: any;
beforeAll(async () => {
  await ingestOk(lh, "workers", toCsv(ROWS as any));
  // Two scales, the case calibration is for: résumés weighed as much as their short fields and
  // embedded by the hash model sit on a lower raw scale than the short "skills" texts in the
  // default model.
  built = await buildCorpus(lh, { ...WORKERS_CORPUS, model: "hash-384", field_weights: { resume_text: 1 } });
  await buildCorpus(lh, SKILLS_CORPUS);
});

const search = (body: Record<string, unknown>) => json(post(lh, "/v1/matrix/search", body));

describe("corpora", () => {
  test("a build reads every row, skips and counts empty texts, and ends ready with a calibration", async () => {
    expect(built).toMatchObject({ state: "ready", rows_done: ROWS.length, rows_total: ROWS.length, skipped_empty: 1, count: WORKERS.length, eta_s: 0 });
    expect(built.rows_per_s).toBeGreaterThan(0);
    expect(built.calibration.std).toBeGreaterThan(0);
    const list = await json(call(lh, "/v1/matrix/corpora"));
    expect(list.corpora.map((c: any) => c.name)).toEqual(["skills", "workers"]);
  });

  test("rebuilding while a build runs is a conflict", async () => {
    const first = await post(lh, "/v1/matrix/corpora", { ...SKILLS_CORPUS, name: "skills2" });
    expect(first.status).toBe(201);
    expect((await json(first)).state).toBe("building");
    const second = await post(lh, "/v1/matrix/corpora", { ...SKILLS_CORPUS, name: "skills2" });
    expect(second.status).toBe(409);
    await lh.matrix.corpora.settled("skills2");
    const del = await call(lh, "/v1/matrix/corpora/skills2", { method: "DELETE" });
    expect(del.status).toBe(200);
    expect((await call(lh, "/v1/matrix/corpora/skills2")).status).toBe(404);
    expect(lh.vector.service.listIndexes().some((i) => i.name === "matrix-skills2")).toBe(false);
  });
});

describe("search", () => {
  test("says how many items were scored exactly because their graph did not hold them yet (pending_scanned)", async () => {
    const index = "matrix-workers";
    const stats = () => lh.vector.service.listIndexes().find((i) => i.name === index)!;
    // No writes meanwhile, so pending only shrinks: what a search scanned exactly is at least what
    // is still pending after it (no filter: every pending item is scanned).
    const during = await search({ query: "forklift operator", corpora: ["workers"], k: 5, mode: "vector" });
    expect(during.pending_scanned).toBeGreaterThanOrEqual(stats().pending);
    for (let i = 0; i < 400 && stats().pending > 0; i++) await Bun.sleep(25);
    expect(stats().pending).toBe(0);
    expect((await search({ query: "forklift operator", corpora: ["workers"], k: 5 })).pending_scanned).toBe(0);
  });

  test("finds the matching rows and never returns the stored text as metadata", async () => {
    const res = await search({ query: "forklift operator in Joliet", corpora: ["workers"], k: 3 });
    expect(res.results.length).toBe(3);
    expect(res.results[0].metadata).toMatchObject({ primary_skill: "Forklift Operator", city: "Joliet" });
    expect(res.results[0].metadata._text).toBeUndefined();
    expect(res.timings.total_ms).toBeGreaterThanOrEqual(0);
  });

  test("the filter applies inside each corpus search, so k matching results come back", async () => {
    const filter = { state: "IL", available: true, hourly_rate: { $lte: 22 } };
    const matching = WORKERS.filter((w) => w.state === "IL" && w.available && w.hourly_rate <= 22);
    expect(matching.length).toBeGreaterThan(12);
    const res = await search({ query: "welder", corpora: ["workers"], k: 12, per_corpus_k: 12, filter });
    expect(res.results.length).toBe(12);
    for (const r of res.results) expect(r.metadata.state === "IL" && r.metadata.available === true && r.metadata.hourly_rate <= 22).toBe(true);
  });

  test("the filter may be written as text, as in the issue: the same results as the object form", async () => {
    const asText = await search({
      query: "welder",
      corpora: ["workers"],
      k: 12,
      per_corpus_k: 12,
      filter: "state = IL and available = true and hourly_rate <= 22",
    });
    const asObject = await search({
      query: "welder",
      corpora: ["workers"],
      k: 12,
      per_corpus_k: 12,
      filter: { state: "IL", available: true, hourly_rate: { $lte: 22 } },
    });
    expect(asText.results.length).toBe(12);
    expect(asText.results.map((r: any) => r.id)).toEqual(asObject.results.map((r: any) => r.id));
    const bad = await post(lh, "/v1/matrix/search", { query: "x", filter: "state = IL and hourly_rate <=" });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details[0]).toEqual({ path: "filter", message: "expected a value, found the end at character 30" });
  });

  test("calibration keeps a corpus with a higher score scale from drowning the other", async () => {
    // Raw vector similarities: the scale problem calibration solves (hybrid scores are calibrated already).
    const res = await search({ query: "electrician in Detroit", k: 6, explain: true, mode: "vector" });
    const raw = res.results.map((r: any) => ({ corpus: r.corpus, raw: r.explain.sources[0].raw }));
    // The short texts of "skills" score far higher raw similarities than the long resumes...
    const bestWorkersRaw = Math.max(...raw.filter((r: any) => r.corpus === "workers").map((r: any) => r.raw));
    const skillsRaw = raw.filter((r: any) => r.corpus === "skills").map((r: any) => r.raw);
    expect(Math.min(...skillsRaw)).toBeGreaterThan(bestWorkersRaw);
    // ...yet the fused top results hold both corpora, and the best resume is the exact match.
    expect(new Set(res.results.slice(0, 4).map((r: any) => r.corpus))).toEqual(new Set(["skills", "workers"]));
    const topWorker = res.results.find((r: any) => r.corpus === "workers");
    expect(topWorker.metadata).toMatchObject({ primary_skill: "Electrician", city: "Detroit" });
    for (const r of res.results) expect(r.score).toBeCloseTo(r.explain.confidence, 5);
  });

  test("per-corpus weights change the merge", async () => {
    const res = await search({ query: "electrician in Detroit", k: 5, weights: { skills: 0 } });
    expect(res.results[0].corpus).toBe("workers");
    const bad = await post(lh, "/v1/matrix/search", { query: "x", corpora: ["workers"], weights: { skills: 1 } });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details[0].path).toBe("weights.skills");
  });

  test("rrf fusion reports its k", async () => {
    const res = await search({ query: "electrician in Detroit", k: 4, fusion: "rrf" });
    expect(res.fusion).toEqual({ method: "rrf", rrf_k: 60, mode: "hybrid", lexical_weight: 2 });
    expect(res.results[0].score).toBeLessThanOrEqual(2 / 61 + 1e-9);
  });

  test("dedupe_key reports one entity found in both corpora once", async () => {
    const plain = await search({ query: "truck driver in Gary", k: 10 });
    const people = plain.results.map((r: any) => r.metadata.person_id);
    expect(new Set(people).size).toBeLessThan(people.length);
    const deduped = await search({ query: "truck driver in Gary", k: 10, dedupe_key: "person_id", explain: true });
    const ids = deduped.results.map((r: any) => r.metadata.person_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(deduped.results.some((r: any) => new Set(r.explain.sources.map((s: any) => s.corpus)).size === 2)).toBe(true);
  });

  test("relevance drops are counted and, with explain, attributed", async () => {
    const res = await search({ query: "forklift operator in Joliet", corpora: ["workers"], k: 50, relevance: { required_terms: ["forklift"] }, explain: true });
    expect(res.results.length).toBe(WORKERS.filter((w) => w.primary_skill === "Forklift Operator").length);
    for (const r of res.results) expect(r.metadata.primary_skill).toBe("Forklift Operator");
    expect(res.relevance.dropped.required_terms).toBeGreaterThan(0);
    expect(res.relevance.drops.length).toBe(res.relevance.dropped.required_terms);
    expect(res.relevance.drops[0]).toMatchObject({ corpus: "workers", reason: "required_terms" });

    const cut = await search({ query: "forklift operator in Joliet", corpora: ["workers"], k: 50, relevance: { min_score: 2 } });
    expect(cut.results.every((r: any) => r.score >= 2)).toBe(true);
    expect(cut.relevance.dropped.min_score).toBeGreaterThan(0);
    expect(cut.relevance.drops).toBeUndefined();
  });

  test("the gate comes with every search: strong when nothing passes, small for a clear answer", async () => {
    const none = await search({ query: "forklift", k: 5, relevance: { required_terms: ["astronaut"] } });
    expect(none.results).toEqual([]);
    expect(none.gate).toMatchObject({ tier: "strong", reason: "no result passed relevance" });
    const good = await search({ query: "forklift operator in Joliet, IL", k: 5 });
    expect(good.gate.tier).toBe("small");
    expect(good.gate.signals.passing).toBeGreaterThanOrEqual(3);
  });

  test("the gate names query words no corpus uses, and sends such a query to the strong model", async () => {
    const res = await search({ query: "custodian welder Detroit", k: 5 });
    expect(res.results.length).toBeGreaterThan(0);
    expect(res.gate.signals).toMatchObject({ unknown_terms: ["custodian"], unknown_share: 1 / 3 });
    expect(res.gate.tier).toBe("strong");
    expect(res.gate.reason).toContain('"custodian" occurs in none of the searched corpora');
    // Words every corpus knows: the signal is there, and empty.
    expect((await search({ query: "welder Detroit", k: 5 })).gate.signals).toMatchObject({ unknown_terms: [], unknown_share: 0 });
  });

  test("POST /gate decides on given results", async () => {
    const small = await json(
      post(lh, "/v1/matrix/gate", {
        results: [
          { corpus: "a", score: 6 },
          { corpus: "a", score: 4 },
          { corpus: "b", score: 3.5 },
        ],
        corpora: ["a", "b"],
      }),
    );
    expect(small.tier).toBe("small");
    const strong = await json(
      post(lh, "/v1/matrix/gate", {
        results: [
          { corpus: "a", score: 1 },
          { corpus: "a", score: 0.9 },
          { corpus: "a", score: 0.8 },
        ],
      }),
    );
    expect(strong).toMatchObject({ tier: "strong", signals: { top_score: 1, passing: 3 } });
  });
});

describe("bad input", () => {
  test("an unknown corpus is 404", async () => {
    const res = await post(lh, "/v1/matrix/search", { query: "x", corpora: ["nope"] });
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe("not_found");
    expect((await call(lh, "/v1/matrix/corpora/nope")).status).toBe(404);
  });

  test("a bad filter is 400 naming the bad node", async () => {
    const res = await post(lh, "/v1/matrix/search", { query: "x", filter: { $or: [{ state: "IL" }, { hourly_rate: { $near: 3 } }] } });
    expect(res.status).toBe(400);
    expect((await json(res)).error.details[0].path).toBe("filter.$or[1].hourly_rate.$near");
  });

  test("an empty query, or neither query nor vector, is 400", async () => {
    for (const body of [{ query: "" }, { query: "   " }, {}]) {
      const res = await post(lh, "/v1/matrix/search", body);
      expect(res.status).toBe(400);
      expect((await json(res)).error.details[0].path).toBe("query");
    }
  });

  test("a corpus over a missing dataset is 404, over a missing column 400, and leaves nothing behind", async () => {
    const missing = await post(lh, "/v1/matrix/corpora", { ...WORKERS_CORPUS, name: "ghost", dataset: "no_such" });
    expect(missing.status).toBe(404);
    const badCol = await post(lh, "/v1/matrix/corpora", { ...WORKERS_CORPUS, name: "ghost", template: "{nope} {city}" });
    expect(badCol.status).toBe(400);
    const badColError = (await json(badCol)).error;
    expect(badColError.message).toContain('"nope"');
    expect(badColError).toMatchObject({ code: "validation_failed", details: [{ path: "template" }] });
    expect((await call(lh, "/v1/matrix/corpora/ghost")).status).toBe(404);
  });

  test("a model the embedding provider cannot serve is refused before anything is written", async () => {
    const res = await post(lh, "/v1/matrix/corpora", { ...WORKERS_CORPUS, name: "other_model", model: "no-such-model" });
    expect(res.status).toBe(400);
    expect((await call(lh, "/v1/matrix/corpora/other_model")).status).toBe(404);
  });

  test("text and template together, or a playbook for an unknown item, are refused", async () => {
    expect((await post(lh, "/v1/matrix/corpora", { ...WORKERS_CORPUS, name: "both", text: ["resume_text"] })).status).toBe(400);
    const pb = await post(lh, "/v1/matrix/playbooks", { query: "x", corpus: "workers", id: "nobody", outcome: "success" });
    expect(pb.status).toBe(404);
  });
});
