// A rebuild after an append or a replace embeds only new or changed rows (the provider is counted
// with the embedding cache off, so nothing can hide a re-embedding) and removes vanished rows.
import { afterAll, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { json, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { toCsv, type Worker, workers } from "../support/staffing.ts";
import { buildCorpus, WORKERS_CORPUS } from "./fixtures.ts";

// Small pages and batches, so a build crosses many page and batch boundaries.
const lh = await testLakehouse({ embed: { cache_size: 0 }, matrix: { read_page: 16, build_batch: 8 } });
afterAll(() => lh.close());

const embedded: string[][] = [];
const provider = lh.embed.embedder.provider;
const original = provider.embed.bind(provider);
provider.embed = (texts, model, signal) => {
  embedded.push([...texts]);
  return original(texts, model, signal);
};

// The corpus is fielded (src/matrix/fields.ts): each field's value is embedded, each distinct one
// once per batch. The résumé is the field unique to a row, so it stands for the row here.
const textOf = (w: Worker) => w.resume_text;
/** Row résumés the provider saw since `from` (calibration probes are short word windows, never a whole résumé). */
const rowTextsSince = (from: number, rows: Worker[]) => {
  const all = new Set(rows.map(textOf));
  return embedded
    .slice(from)
    .flat()
    .filter((t) => all.has(t));
};
const ids = async (query: string) => (await json(post(lh, "/v1/matrix/search", { query, corpora: ["workers"], k: 200 }))).results.map((r: any) => r.id);

test("first build embeds every row once", async () => {
  const rows = workers(40);
  await ingestOk(lh, "workers", toCsv(rows as any));
  const st = await buildCorpus(lh, WORKERS_CORPUS);
  expect(st.last_build).toEqual({ embedded: 40, metadata_updated: 0, unchanged: 0, removed: 0 });
  expect(rowTextsSince(0, rows).sort()).toEqual(rows.map(textOf).sort());
});

test("a rebuild with nothing changed calls the provider not at all", async () => {
  const before = embedded.length;
  const st = await buildCorpus(lh, WORKERS_CORPUS);
  expect(st.state).toBe("ready");
  expect(st.last_build).toEqual({ embedded: 0, metadata_updated: 0, unchanged: 40, removed: 0 });
  expect(embedded.length).toBe(before);
});

test("after an append only the new rows are embedded", async () => {
  const all = workers(45);
  const added = all.slice(40);
  await ingestOk(lh, "workers", toCsv(added as any), { query: { mode: "append" } });
  const before = embedded.length;
  const st = await buildCorpus(lh, WORKERS_CORPUS);
  expect(st.last_build).toEqual({ embedded: 5, metadata_updated: 0, unchanged: 40, removed: 0 });
  expect(rowTextsSince(before, all).sort()).toEqual(added.map(textOf).sort());
  expect(st.count).toBe(45);
});

test("after a replace: changed texts are re-embedded, metadata-only changes are not, vanished rows are removed", async () => {
  const all = workers(45);
  const next = all.filter((w) => w.worker_id !== "W00003");
  next[0] = { ...next[0]!, resume_text: "Now a certified crane operator with rigging experience." };
  next[1] = { ...next[1]!, hourly_rate: 99 };
  await ingestOk(lh, "workers", toCsv(next as any), { query: { mode: "replace" } });
  const before = embedded.length;
  const st = await buildCorpus(lh, WORKERS_CORPUS);
  expect(st.last_build).toEqual({ embedded: 1, metadata_updated: 1, unchanged: 42, removed: 1 });
  expect(rowTextsSince(before, next)).toEqual([textOf(next[0]!)]);
  expect(st.count).toBe(44);
  expect(await ids("forklift operator")).not.toContain("W00003");
  const crane = await json(post(lh, "/v1/matrix/search", { query: "crane operator rigging", corpora: ["workers"], k: 1 }));
  expect(crane.results[0].id).toBe(next[0]!.worker_id);
  const rate = await json(post(lh, "/v1/matrix/search", { query: "x", corpora: ["workers"], k: 5, filter: { hourly_rate: 99 } }));
  expect(rate.results.map((r: any) => r.id)).toEqual([next[1]!.worker_id]);
});

test("a rebuild over another id column is a conflict", async () => {
  const res = await post(lh, "/v1/matrix/corpora", { ...WORKERS_CORPUS, id_column: "person_id" });
  expect(res.status).toBe(409);
});
