// The matrix's operations called in-process (ops.call) answer what HTTP answers, publish their
// events, and refuse bad input with the field's path.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { LakehouseEvents } from "../../src/events.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { toCsv, workers } from "../support/staffing.ts";
import { WORKERS_CORPUS } from "./fixtures.ts";

const lh = await testLakehouse();
afterAll(() => lh.close());

const built: LakehouseEvents["matrix.corpus_built"][] = [];
const recorded: LakehouseEvents["matrix.playbooks_recorded"][] = [];
lh.events.on("matrix.corpus_built", (e) => void built.push(e));
lh.events.on("matrix.playbooks_recorded", (e) => void recorded.push(e));

const ROWS = workers(48);

beforeAll(async () => {
  await ingestOk(lh, "workers", toCsv(ROWS as any));
});

describe("corpora", () => {
  test("build_corpus in-process creates and builds; get_corpus and list_corpora agree with HTTP; the bus hears the build end", async () => {
    const status = await lh.ops.call<any>("matrix.build_corpus", WORKERS_CORPUS);
    expect(status).toMatchObject({ name: "workers", dataset: "workers", state: "building" });
    await lh.matrix.corpora.settled("workers");

    const viaOps = await lh.ops.call<any>("matrix.get_corpus", { name: "workers" });
    const viaHttp = await json(call(lh, "/v1/matrix/corpora/workers"));
    expect(viaOps).toEqual(viaHttp);
    expect(viaOps).toMatchObject({ state: "ready", rows_done: ROWS.length, count: ROWS.length });
    expect(await lh.ops.call("matrix.list_corpora")).toEqual(await json(call(lh, "/v1/matrix/corpora")));
    expect(built).toEqual([{ name: "workers", dataset: "workers", state: "ready", rows: ROWS.length }]);
  });

  test("a rebuild over HTTP answers 202, a new corpus 201", async () => {
    const again = await post(lh, "/v1/matrix/corpora", WORKERS_CORPUS);
    expect(again.status).toBe(202);
    await lh.matrix.corpora.settled("workers");
    const other = await post(lh, "/v1/matrix/corpora", { ...WORKERS_CORPUS, name: "other" });
    expect(other.status).toBe(201);
    await lh.matrix.corpora.settled("other");
    expect((await lh.ops.call<any>("matrix.delete_corpus", { name: "other" })).name).toBe("other");
    await expect(lh.ops.call("matrix.get_corpus", { name: "other" })).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("search, gate, playbooks", () => {
  const query = { query: "forklift operator in Joliet", corpora: ["workers"], k: 5, explain: true };

  test("search in-process returns the results HTTP returns", async () => {
    const viaOps = await lh.ops.call<any>("matrix.search", query);
    const viaHttp = await json(post(lh, "/v1/matrix/search", query));
    expect(viaOps.results).toEqual(viaHttp.results);
    expect(viaOps.gate).toEqual(viaHttp.gate);
    expect(viaOps.relevance).toEqual(viaHttp.relevance);
    expect(viaOps.results[0].metadata).toMatchObject({ primary_skill: "Forklift Operator", city: "Joliet" });
  });

  test("gate in-process decides like HTTP", async () => {
    const input = {
      results: [
        { corpus: "a", score: 6 },
        { corpus: "a", score: 4 },
        { corpus: "b", score: 3.5 },
      ],
      corpora: ["a", "b"],
    };
    const viaOps = await lh.ops.call<any>("matrix.gate", input);
    expect(viaOps.tier).toBe("small");
    expect(viaOps).toEqual(await json(post(lh, "/v1/matrix/gate", input)));
  });

  test("recording playbooks in-process stores them without their vectors and tells the bus", async () => {
    const hits = (await lh.ops.call<any>("matrix.search", query)).results;
    const one = await lh.ops.call<any>("matrix.record_playbook", { query: query.query, corpus: "workers", id: hits[2].id, outcome: "success" });
    expect(one).toMatchObject({ corpus: "workers", item_id: hits[2].id, outcome: "success" });
    expect(one.vector).toBeUndefined();
    const bulk = await lh.ops.call<any>("matrix.record_playbooks", {
      playbooks: [
        { query: query.query, corpus: "workers", id: hits[3].id, outcome: "failure", rating: 4 },
        { query: query.query, corpus: "workers", id: hits[4].id, outcome: "success" },
      ],
    });
    expect(bulk.playbooks).toHaveLength(2);
    expect(recorded).toEqual([
      { count: 1, corpora: ["workers"], outcomes: { success: 1, failure: 0 } },
      { count: 2, corpora: ["workers"], outcomes: { success: 1, failure: 1 } },
    ]);
    const list = await lh.ops.call<any>("matrix.list_playbooks");
    expect(list).toEqual(await json(call(lh, "/v1/matrix/playbooks")));
    // Oldest first; the ones of one bulk call share their creation time, so their order is open.
    expect(list.playbooks[0].id).toBe(one.id);
    expect(
      list.playbooks
        .slice(1)
        .map((p: any) => p.id)
        .sort(),
    ).toEqual(bulk.playbooks.map((p: any) => p.id).sort());
    expect((await lh.ops.call<any>("matrix.delete_playbook", { id: one.id })).id).toBe(one.id);
    await expect(lh.ops.call("matrix.delete_playbook", { id: one.id })).rejects.toMatchObject({ code: "not_found" });
  });

  test("a playbook about an unknown item is not found, and nothing is stored or published", async () => {
    const before = recorded.length;
    const size = lh.matrix.playbooks.size;
    await expect(
      lh.ops.call("matrix.record_playbooks", {
        playbooks: [
          { query: "x", corpus: "workers", id: ROWS[0]!.worker_id, outcome: "success" },
          { query: "x", corpus: "workers", id: "nobody", outcome: "success" },
        ],
      }),
    ).rejects.toMatchObject({ code: "not_found" });
    expect(lh.matrix.playbooks.size).toBe(size);
    expect(recorded.length).toBe(before);
  });
});

describe("bad input", () => {
  test("fails validation with the field's path, as over HTTP", async () => {
    await expect(lh.ops.call("matrix.search", { query: "x", k: 0 })).rejects.toMatchObject({
      code: "validation_failed",
      details: [expect.objectContaining({ path: "k" })],
    });
    await expect(
      lh.ops.call("matrix.record_playbooks", { playbooks: [{ query: "x", corpus: "workers", id: "W00001", outcome: "maybe" }] }),
    ).rejects.toMatchObject({ code: "validation_failed", details: [expect.objectContaining({ path: "playbooks[0].outcome" })] });
    await expect(lh.ops.call("matrix.gate", { results: [], extra: 1 })).rejects.toMatchObject({ code: "validation_failed" });
    // The domain's own checks come through unchanged.
    await expect(lh.ops.call("matrix.search", { k: 3 })).rejects.toMatchObject({
      code: "validation_failed",
      details: [{ path: "query", message: "exactly one of query or vector" }],
    });
  });
});

test("the OpenAPI document describes every matrix operation with its result", async () => {
  const doc = await json(call(lh, "/v1/openapi.json"));
  expect(doc.paths["/v1/matrix/search"].post.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/MatrixSearchResult" });
  expect(Object.keys(doc.paths["/v1/matrix/corpora"].post.responses)).toEqual(expect.arrayContaining(["201", "202", "404", "409"]));
  expect(doc.components.schemas.GateDecision.properties.tier.enum).toEqual(["small", "strong"]);
  expect(doc.components.schemas.Playbook.properties.vector).toBeUndefined();
});
