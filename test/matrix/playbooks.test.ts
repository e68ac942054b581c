// The learning loop: a success lifts its result for the same and for a paraphrased query, a
// failure sinks it, an unrelated query is untouched; playbooks are listable and deletable.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { call, json, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { toCsv, workers } from "../support/staffing.ts";
import { buildCorpus, WORKERS_CORPUS } from "./fixtures.ts";

const lh = await testLakehouse();
afterAll(() => lh.close());

const QUERY = "forklift operator in Joliet IL available now";
const PARAPHRASE = "available now: forklift operators near Joliet, IL";
const UNRELATED = "welder in Detroit";

beforeAll(async () => {
  await ingestOk(lh, "workers", toCsv(workers(96) as any));
  await buildCorpus(lh, WORKERS_CORPUS);
});

const ranking = async (query: string, extra: Record<string, unknown> = {}) =>
  (await json(post(lh, "/v1/matrix/search", { query, corpora: ["workers"], k: 30, ...extra }))).results.map((r: any) => r.id) as string[];

describe("playbooks", () => {
  let target: string;
  let successId: string;

  test("a success lifts its result for the same query and for a paraphrase, with the boost explained", async () => {
    const before = await ranking(QUERY);
    const beforeParaphrase = await ranking(PARAPHRASE);
    // Mid-list: below every exact match of skill and city, which a success for this very query lifts it past.
    target = before[4]!;
    const res = await post(lh, "/v1/matrix/playbooks", { query: QUERY, corpus: "workers", id: target, outcome: "success", note: "placed, client happy" });
    expect(res.status).toBe(201);
    const pb = await json(res);
    successId = pb.id;
    expect(pb).toMatchObject({ corpus: "workers", item_id: target, outcome: "success", note: "placed, client happy" });
    expect(pb.vector).toBeUndefined();

    const after = await ranking(QUERY);
    expect(after.indexOf(target)).toBeLessThan(before.indexOf(target));
    expect(after[0]).toBe(target);
    const afterParaphrase = await ranking(PARAPHRASE);
    expect(afterParaphrase.indexOf(target)).toBeLessThan(beforeParaphrase.indexOf(target));

    const explained = await json(post(lh, "/v1/matrix/search", { query: PARAPHRASE, corpora: ["workers"], k: 30, explain: true }));
    const boosted = explained.results.find((r: any) => r.id === target);
    expect(boosted.explain.boosts).toHaveLength(1);
    expect(boosted.explain.boosts[0]).toMatchObject({ playbook: successId, outcome: "success" });
    expect(boosted.explain.boosts[0].similarity).toBeGreaterThan(0.6);
    expect(boosted.explain.boosts[0].similarity).toBeLessThan(1);
    expect(boosted.score).toBeCloseTo(boosted.explain.confidence + boosted.explain.boosts[0].effect, 4);
  });

  test("an unrelated query and a search with playbooks off are untouched", async () => {
    const res = await json(post(lh, "/v1/matrix/search", { query: UNRELATED, corpora: ["workers"], k: 30, explain: true }));
    expect(res.results.every((r: any) => r.explain.boosts.length === 0)).toBe(true);
    const off = await ranking(QUERY, { playbooks: false });
    expect(off[0]).not.toBe(target);
  });

  test("a failure sinks its result", async () => {
    const before = await ranking(PARAPHRASE);
    const loser = before.find((id) => id !== target)!;
    const res = await post(lh, "/v1/matrix/playbooks/bulk", { playbooks: [{ query: QUERY, corpus: "workers", id: loser, outcome: "failure", rating: 5 }] });
    expect(res.status).toBe(201);
    expect((await json(res)).playbooks).toHaveLength(1);
    const after = await ranking(PARAPHRASE);
    expect(after.indexOf(loser)).toBeGreaterThan(before.indexOf(loser));
  });

  test("playbooks are listed oldest first and can be deleted, which removes their effect", async () => {
    const list = await json(call(lh, "/v1/matrix/playbooks"));
    expect(list.playbooks.map((p: any) => p.outcome)).toEqual(["success", "failure"]);
    expect((await call(lh, `/v1/matrix/playbooks/${successId}`, { method: "DELETE" })).status).toBe(200);
    expect((await call(lh, `/v1/matrix/playbooks/${successId}`, { method: "DELETE" })).status).toBe(404);
    expect((await ranking(QUERY))[0]).not.toBe(target);
  });

  test("bad playbooks are refused whole", async () => {
    const before = (await json(call(lh, "/v1/matrix/playbooks"))).playbooks.length;
    const res = await post(lh, "/v1/matrix/playbooks/bulk", {
      playbooks: [
        { query: QUERY, corpus: "workers", id: "W00001", outcome: "success" },
        { query: QUERY, corpus: "workers", id: "W00002", outcome: "maybe" },
      ],
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error.details[0].path).toBe("playbooks[1].outcome");
    expect((await post(lh, "/v1/matrix/playbooks", { query: " ", corpus: "workers", id: "W00001", outcome: "success" })).status).toBe(400);
    expect((await post(lh, "/v1/matrix/playbooks", { query: QUERY, corpus: "nope", id: "W00001", outcome: "success" })).status).toBe(404);
    expect((await json(call(lh, "/v1/matrix/playbooks"))).playbooks.length).toBe(before);
  });
});

describe("playbook recall", () => {
  test("a success below the per-corpus cut is brought back, scored exactly, and only when it passes the filter", async () => {
    const query = "truck driver in Milwaukee";
    const wide = await ranking(query, { k: 60, per_corpus_k: 60, playbooks: false });
    const far = wide[45]!;
    const narrow = await ranking(query, { k: 20, per_corpus_k: 20 });
    expect(narrow).not.toContain(far);
    expect((await post(lh, "/v1/matrix/playbooks", { query, corpus: "workers", id: far, outcome: "success" })).status).toBe(201);

    const res = await json(post(lh, "/v1/matrix/search", { query, corpora: ["workers"], k: 20, per_corpus_k: 20, explain: true }));
    const back = res.results.find((r: any) => r.id === far);
    expect(back).toBeDefined();
    expect(back.explain.boosts[0].outcome).toBe("success");
    const wideExplained = await json(post(lh, "/v1/matrix/search", { query, corpora: ["workers"], k: 60, per_corpus_k: 60, playbooks: false, explain: true }));
    const exact = wideExplained.results.find((r: any) => r.id === far).explain.sources[0].raw;
    expect(back.explain.sources[0].raw).toBeCloseTo(exact, 4);

    const state = back.metadata.state;
    const filtered = await ranking(query, { k: 20, per_corpus_k: 20, filter: { state: { $ne: state } } });
    expect(filtered).not.toContain(far);
  });
});
