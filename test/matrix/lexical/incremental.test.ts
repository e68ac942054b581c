// The lexical index follows its corpus: built with it, updated by incremental rebuilds (appended
// rows added, changed texts re-indexed, vanished rows removed), sealed into one base segment at
// the end of each build, filtered like the vector part, and after all that equal to an index
// built from scratch; on both storage backends.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LEXICAL_PREFIX } from "../../../src/matrix/lexical/indexes.ts";
import { testLakehouse } from "../../support/app.ts";
import { call, json, post } from "../../support/http.ts";
import { ingestOk } from "../../support/ingest.ts";
import { type RunningS3, s3Options, startS3rver } from "../../support/s3rver.ts";
import { toCsv, type Worker, workers } from "../../support/staffing.ts";
import { tempDir } from "../../support/tmp.ts";
import { buildCorpus, WORKERS_CORPUS } from "../fixtures.ts";
import { referenceIndex, referenceScores, reportedScores } from "./reference.ts";

const lh = await testLakehouse({ matrix: { read_page: 16, build_batch: 8 } });
afterAll(() => lh.close());

const lexical = (query: string, extra: Record<string, unknown> = {}) =>
  json(post(lh, "/v1/matrix/search", { query, corpora: ["workers"], k: 200, mode: "lexical", explain: true, playbooks: false, ...extra }));
const segments = async () => {
  const page = await lh.storage.store.list(`${LEXICAL_PREFIX}workers/`);
  return page.items.map((i) => i.key.slice(`${LEXICAL_PREFIX}workers/`.length));
};
const fieldsOf = async (app = lh) => (await json(call(app, "/v1/matrix/corpora/workers"))).fields;
async function expectMatchesScratch(rows: readonly Worker[], queries: string[]) {
  const ref = referenceIndex(rows, await fieldsOf());
  for (const q of queries) {
    const want = referenceScores(ref, q, 200);
    const got = reportedScores(await lexical(q));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [id, s] of want) expect(got.get(id)!).toBeCloseTo(s, 9);
  }
}

const QUERIES = ["forklift operator Joliet", "welder Detroit second shift", "crane rigging", "bilingual electrician"];

test("a first build indexes every row's text and seals one base segment", async () => {
  const rows = workers(40);
  await ingestOk(lh, "workers", toCsv(rows as any));
  const st = await buildCorpus(lh, WORKERS_CORPUS);
  expect(st.lexical.docs).toBe(40);
  expect(st.lexical.calibration.std).toBeGreaterThan(0);
  expect(await segments()).toEqual(["0000000000000001.base"]);
  await expectMatchesScratch(rows, QUERIES);
});

test("a rebuild with nothing changed writes no segment", async () => {
  await buildCorpus(lh, WORKERS_CORPUS);
  expect(await segments()).toEqual(["0000000000000001.base"]);
});

test("an append adds the new rows; a replace re-indexes changed texts and removes vanished rows", async () => {
  const all = workers(45);
  await ingestOk(lh, "workers", toCsv(all.slice(40) as any), { query: { mode: "append" } });
  expect((await buildCorpus(lh, WORKERS_CORPUS)).lexical.docs).toBe(45);
  await expectMatchesScratch(all, QUERIES);

  const next = all.filter((w) => w.worker_id !== "W00003");
  next[0] = { ...next[0]!, resume_text: "Now a certified crane operator with rigging experience." };
  next[1] = { ...next[1]!, hourly_rate: 99 };
  await ingestOk(lh, "workers", toCsv(next as any), { query: { mode: "replace" } });
  const st = await buildCorpus(lh, WORKERS_CORPUS);
  expect(st.lexical.docs).toBe(44);
  const crane = await lexical("crane rigging");
  expect(crane.results.map((r: any) => r.id)).toEqual([next[0]!.worker_id]);
  expect((await lexical("Forklift Operator")).results.map((r: any) => r.id)).not.toContain("W00003");
  await expectMatchesScratch(next, QUERIES);
  // One base again: the older segments it replaced are gone.
  expect((await segments()).length).toBe(1);
  // A metadata-only change reaches the lexical part's filter (it reads the vector item's metadata).
  const rate = await lexical("welder forklift electrician", { filter: { hourly_rate: 99 } });
  expect(rate.results.map((r: any) => r.id)).toEqual([next[1]!.worker_id]);
});

test("filters apply to lexical hits, in the object and the text form", async () => {
  const filter = { state: "IL", available: true, hourly_rate: { $lte: 30 } };
  const res = await lexical("forklift operator", { filter, k: 50 });
  const unfiltered = await lexical("forklift operator", { k: 200 });
  const passing = unfiltered.results.filter((r: any) => r.metadata.state === "IL" && r.metadata.available === true && r.metadata.hourly_rate <= 30);
  expect(passing.length).toBeGreaterThan(1);
  expect(passing.length).toBeLessThan(unfiltered.results.length);
  // Exactly the matching ones, in the unfiltered order.
  expect(res.results.map((r: any) => r.id)).toEqual(passing.map((r: any) => r.id));
  const text = await lexical("forklift operator", { filter: "state = IL and available = true and hourly_rate <= 30", k: 50 });
  expect(text.results.map((r: any) => r.id)).toEqual(res.results.map((r: any) => r.id));
});

test("deleting the corpus deletes its segments; a new corpus of that name starts empty", async () => {
  expect((await lh.matrix.corpora.delete("workers")).name).toBe("workers");
  expect(await segments()).toEqual([]);
});

describe("s3 backend", () => {
  let s3: RunningS3;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(() => s3.stop());

  test("segments live in the bucket: a restart loads the base, an incremental rebuild seals a new one", async () => {
    const cfg = { storage: { backend: "s3" as const, s3: s3Options(s3), fs: { root: tempDir("lh-lexical-s3-") } } };
    const rows = workers(60);
    let s3lh = await testLakehouse(cfg);
    await ingestOk(s3lh, "workers", toCsv(rows as any));
    expect((await buildCorpus(s3lh, WORKERS_CORPUS)).lexical.docs).toBe(60);
    await s3lh.close();

    s3lh = await testLakehouse(cfg);
    try {
      // A search waits for the index to load; then the status counts it.
      const res = await json(post(s3lh, "/v1/matrix/search", { query: "Welder Detroit", corpora: ["workers"], k: 100, mode: "lexical", explain: true }));
      const want = referenceScores(referenceIndex(rows, await fieldsOf(s3lh)), "Welder Detroit", 100);
      const got = reportedScores(res);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [id, score] of want) expect(got.get(id)!).toBeCloseTo(score, 9);
      const loaded = await json(call(s3lh, "/v1/matrix/corpora/workers"));
      expect(loaded.lexical.docs).toBe(60);
      expect(loaded.lexical.rebuilt).toBeUndefined();

      const next = rows.slice(1);
      await ingestOk(s3lh, "workers", toCsv(next as any), { query: { mode: "replace" } });
      expect((await buildCorpus(s3lh, WORKERS_CORPUS)).lexical.docs).toBe(59);
      const keys = (await s3lh.storage.store.list(`${LEXICAL_PREFIX}workers/`)).items.map((i) => i.key);
      expect(keys).toHaveLength(1);
      expect(keys[0]!.endsWith(".base")).toBe(true);
    } finally {
      await s3lh.close();
    }
  }, 60_000);
});
