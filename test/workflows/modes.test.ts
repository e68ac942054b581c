// Every module mode against a whole lakehouse (real HTTP routes, real modules): its happy path, and
// a bad input refused at validation by the operation's own schema, naming the step and the field.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { call, json, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { toCsv, workers } from "../support/staffing.ts";
import { buildCorpus, WORKERS_CORPUS } from "../matrix/fixtures.ts";
import { startRun, stepOf, waitRun } from "./helpers.ts";

const lh = await testLakehouse();
afterAll(() => lh.close());

beforeAll(async () => {
  await ingestOk(lh, "workers", toCsv(workers(48) as any));
  await buildCorpus(lh as any, WORKERS_CORPUS);
  expect((await post(lh, "/v1/vectors/indexes", { name: "tiny", dim: 3 })).status).toBe(201);
  const items = [
    { id: "x", vector: [1, 0, 0], metadata: { kind: "a" } },
    { id: "y", vector: [0, 1, 0], metadata: { kind: "b" } },
  ];
  expect((await post(lh, "/v1/vectors/indexes/tiny/upsert", { items })).status).toBe(200);
});

/** Runs a one-workflow definition and answers the finished run. */
async function run(steps: unknown[], inputs?: Record<string, unknown>, declared?: Record<string, string>) {
  const started = await startRun(lh, { workflow: { ...(declared ? { inputs: declared } : {}), steps }, ...(inputs ? { inputs } : {}) });
  expect(started.status).toBe(202);
  return waitRun(lh, started.body.id);
}

async function refused(steps: unknown[]) {
  const res = await startRun(lh, { workflow: { steps } });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe("validation_failed");
  return res.body.error.details as { path: string; message: string }[];
}

test("sql: rows as objects by default, so later steps reference columns by name", async () => {
  const r = await run([
    { id: "q", mode: "sql", input: { sql: "select worker_id, hourly_rate from workers where worker_id = ?", params: ["W00003"] } },
    { id: "t", mode: "transform", needs: ["q"], input: { from: "{{steps.q.output.rows[0].hourly_rate}}" } },
  ]);
  expect(r.status).toBe("succeeded");
  expect(stepOf(r, "q").output.rows).toEqual([{ worker_id: "W00003", hourly_rate: workers(48)[3]!.hourly_rate }]);
  expect(stepOf(r, "t").output).toBe(workers(48)[3]!.hourly_rate);
  const bad = await refused([{ id: "q", mode: "sql", input: { sql: "", max_rows: -1 } }]);
  expect(bad.map((d) => d.path).sort()).toEqual(["steps[0].input.max_rows", "steps[0].input.sql"]);
  // A statement DuckDB refuses fails the step with the operation's own error.
  const w = await run([{ id: "q", mode: "sql", input: { sql: "delete from workers" } }]);
  expect(stepOf(w, "q")).toMatchObject({ status: "failed", error: { code: "bad_request" } });
});

test("embed, then vector.search with the embedded vector (embed → vector by reference)", async () => {
  const r = await run([
    { id: "e", mode: "embed", input: { texts: ["Welder in Gary"] } },
    { id: "v", mode: "vector.search", input: { name: "tiny", vector: [1, 0.1, 0], k: 1, filter: { kind: "a" } } },
    { id: "dim", mode: "transform", needs: ["e"], input: { from: "{{steps.e.output.dimension}}" } },
  ]);
  expect(r.status).toBe("succeeded");
  expect(stepOf(r, "e").output.vectors).toHaveLength(1);
  expect(stepOf(r, "dim").output).toBe(384);
  expect(stepOf(r, "v").output.hits.map((h: any) => h.id)).toEqual(["x"]);
  const bad = await refused([{ id: "v", mode: "vector.search", input: { name: "tiny", vector: [1, 0, 0], k: 0 } }]);
  expect(bad[0]).toMatchObject({ path: "steps[0].input.k" });
  expect((await refused([{ id: "e", mode: "embed", input: { texts: [] } }]))[0]!.path).toBe("steps[0].input.texts");
});

test("matrix.search → matrix.relevance → matrix.gate → matrix.playbook", async () => {
  const r = await run(
    [
      { id: "search", mode: "matrix.search", input: { query: "{{inputs.q}}", corpora: ["workers"], k: 8, filter: { state: "IN" } } },
      { id: "cut", mode: "matrix.relevance", needs: ["search"], input: { results: "{{steps.search.output.results}}", required_terms: ["Welder"] } },
      { id: "gate", mode: "matrix.gate", needs: ["cut"], input: { results: "{{steps.cut.output.results}}", corpora: ["workers"] } },
      {
        id: "seal",
        mode: "matrix.playbook",
        needs: ["cut"],
        input: { query: "{{inputs.q}}", corpus: "workers", id: "{{steps.cut.output.results[0].id}}", outcome: "success" },
      },
    ],
    { q: "welder in Gary" },
    { q: "string" },
  );
  expect(r.status).toBe("succeeded");
  const found = stepOf(r, "search").output.results;
  expect(found.length).toBeGreaterThan(1);
  expect(found.every((x: any) => x.metadata.state === "IN")).toBe(true);
  const kept = stepOf(r, "cut").output;
  expect(kept.results.length).toBeGreaterThan(0);
  expect(kept.results.every((x: any) => x.metadata.primary_skill === "Welder")).toBe(true);
  expect(kept.dropped.required_terms).toBe(found.length - kept.results.length);
  expect(["small", "strong"]).toContain(stepOf(r, "gate").output.tier);
  expect(stepOf(r, "gate").output.signals.passing).toBe(kept.results.length);
  expect(stepOf(r, "seal").output).toMatchObject({ corpus: "workers", item_id: kept.results[0].id, outcome: "success" });
  const bad = await refused([{ id: "s", mode: "matrix.playbook", input: { query: "x", corpus: "workers", id: "W1", outcome: "maybe" } }]);
  expect(bad[0]!.path).toBe("steps[0].input.outcome");
  expect((await refused([{ id: "g", mode: "matrix.gate", input: { results: "nope" } }]))[0]!.path).toBe("steps[0].input.results");
  expect((await refused([{ id: "c", mode: "matrix.relevance", input: { results: [], gap: -1 } }]))[0]!.path).toBe("steps[0].input.gap");
});

test("pathway.add → pathway.search → pathway.revise → pathway.retire → pathway.audit", async () => {
  const r = await run([
    { id: "add", mode: "pathway.add", input: { namespace: "wf-test", kind: "fact", content: "Gary welders prefer second shift", tags: ["gary"] } },
    { id: "find", mode: "pathway.search", needs: ["add"], input: { query: "second shift welders in Gary", namespace: "wf-test", k: 3 } },
    {
      id: "revise",
      mode: "pathway.revise",
      needs: ["find"],
      input: { uid: "{{steps.find.output.hits[0].trace.uid}}", content: "Gary welders prefer second or third shift" },
    },
    { id: "retire", mode: "pathway.retire", needs: ["revise"], input: { uid: "{{steps.revise.output.trace.uid}}", expected_version: 1 } },
    { id: "audit", mode: "pathway.audit", needs: ["retire"], input: { uid: "{{steps.add.output.trace.uid}}" } },
  ]);
  expect(r.status).toBe("succeeded");
  const uid = stepOf(r, "add").output.trace.uid;
  expect(stepOf(r, "find").output.hits[0].trace.uid).toBe(uid);
  expect(stepOf(r, "revise").output.predecessor.uid).toBe(uid);
  expect(stepOf(r, "retire").output.retired_at).not.toBeNull();
  expect(stepOf(r, "audit").output.receipts.map((x: any) => x.op)).toContain("add");
  // The trace was written as the identity that started the run (over HTTP from loopback, no token: anonymous).
  expect(stepOf(r, "audit").output.receipts[0].actor).toBe(r.actor);
  const bad = await refused([{ id: "a", mode: "pathway.add", input: { namespace: "x", content: "no kind" } }]);
  expect(bad[0]!.path).toBe("steps[0].input.kind");
});

test("observer.event and observer.review (SQL truth over the dataset)", async () => {
  const r = await run([
    { id: "ev", mode: "observer.event", input: { source: "test", kind: "note", payload: { hello: 1 } } },
    {
      id: "review",
      mode: "observer.review",
      input: {
        claim: { worker_id: "W00003", skill: "Electrician" },
        evidence: [{ sql: "select primary_skill from workers where worker_id = 'W00003'", expect: "Electrician" }],
      },
    },
  ]);
  expect(r.status).toBe("succeeded");
  expect(stepOf(r, "ev").output.accepted).toBe(1);
  expect(stepOf(r, "review").output.verdict).toBe(workers(48)[3]!.primary_skill === "Electrician" ? "accept" : "reject");
  const bad = await refused([{ id: "r", mode: "observer.review", input: { claim: {} } }]);
  expect(bad[0]!.path).toBe("steps[0].input");
});

test("transform: filter, pick (dotted), rename, limit, first, count", async () => {
  const from = [
    { id: "a", metadata: { city: "Gary", rate: 20 }, score: 3 },
    { id: "b", metadata: { city: "Joliet", rate: 18 }, score: 2 },
    { id: "c", metadata: { city: "Gary", rate: 25 }, score: 1 },
  ];
  const r = await run([
    { id: "t1", mode: "transform", input: { from, filter: "metadata.city = Gary", pick: ["id", "metadata.rate"], rename: { id: "worker" } } },
    { id: "t2", mode: "transform", input: { from, filter: { "metadata.rate": { $lt: 22 } }, limit: 1, first: true, pick: ["id"] } },
    { id: "t3", mode: "transform", input: { from, count: true, limit: 2 } },
  ]);
  expect(stepOf(r, "t1").output).toEqual([
    { worker: "a", metadata: { rate: 20 } },
    { worker: "c", metadata: { rate: 25 } },
  ]);
  expect(stepOf(r, "t2").output).toEqual({ id: "a" });
  expect(stepOf(r, "t3").output.count).toBe(2);
});

test("the modes list says which modes are usable here and gives each input's JSON Schema", async () => {
  const body = await json(call(lh, "/v1/workflows/modes"));
  const by = Object.fromEntries(body.modes.map((m: any) => [m.name, m]));
  expect(by.sql).toMatchObject({ available: true, operation: "sql.query" });
  expect(by.sql.input.properties.sql).toBeDefined();
  expect(by["llm.generate"].available).toBe(false);
  expect(by["llm.generate"].reason).toContain("workflows.llm.provider");
  expect(by.transform.input.properties.from).toBeDefined();
});
