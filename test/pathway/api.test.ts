// The pathway routes over the whole lakehouse: each operation and its errors, replay counting,
// idempotent uids, dedupe by similarity, expected_version under 16 parallel updates, revise
// chains, retire/unretire, as_of, forget, and the audit chain.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Lakehouse } from "../../src/app.ts";
import { testLakehouse } from "../support/app.ts";
import { add, get, P, req } from "./helpers.ts";

let lh: Lakehouse;
beforeAll(async () => {
  lh = await testLakehouse();
  await lh.pathway.caughtUp;
});
afterAll(() => lh.close());

const trace = (over: Record<string, unknown> = {}) => ({ user_id: "u1", kind: "fact", content: "prefers morning shifts in Joliet", ...over });
const tick = () => Bun.sleep(3);

describe("ADD", () => {
  test("creates (201), then the same memory again is replayed (200) with replay_count + 1", async () => {
    const first = await add(lh, trace({ agent_id: "add-1", tags: ["shift"], data: { city: "Joliet" } }));
    expect(first.status).toBe(201);
    expect(first.body.result).toBe("created");
    expect(first.body.trace).toMatchObject({ version: 1, replay_count: 0, predecessor: null, superseded_by: null, retired_at: null });
    const again = await add(lh, trace({ agent_id: "add-1", tags: ["shift"], data: { city: "Joliet" } }));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ result: "replayed", trace: { uid: first.body.trace.uid, replay_count: 1 } });
    // Another scope or kind is another memory.
    expect((await add(lh, trace({ agent_id: "add-2", tags: ["shift"], data: { city: "Joliet" } }))).status).toBe(201);
    expect((await add(lh, trace({ agent_id: "add-1", kind: "preference", tags: ["shift"], data: { city: "Joliet" } }))).status).toBe(201);
  });

  test("a client uid is idempotent: same content replays, other content is 409, an empty uid is 400", async () => {
    const a = await add(lh, trace({ uid: "client-1", content: "idempotent one" }));
    expect(a.status).toBe(201);
    expect(a.body.trace.uid).toBe("client-1");
    const b = await add(lh, trace({ uid: "client-1", content: "idempotent one" }));
    expect(b.body).toMatchObject({ result: "replayed", trace: { uid: "client-1", replay_count: 1 } });
    const c = await add(lh, trace({ uid: "client-1", content: "something else" }));
    expect(c.status).toBe(409);
    expect(c.body.error.details).toMatchObject({ uid: "client-1", current_version: 1 });
    expect((await add(lh, trace({ uid: "" }))).status).toBe(400);
  });

  test("a batch is created whole; a duplicate inside it replays the first", async () => {
    const r = await add(lh, {
      traces: [trace({ run_id: "batch", content: "b1" }), trace({ run_id: "batch", content: "b2" }), trace({ run_id: "batch", content: "b1" })],
    });
    expect(r.status).toBe(201);
    expect(r.body.results.map((x: any) => x.result)).toEqual(["created", "created", "replayed"]);
    expect(r.body.results[2].trace.uid).toBe(r.body.results[0].trace.uid);
    expect(r.body.results[0].trace.replay_count).toBe(1);
  });

  test("a batch with one conflicting item writes nothing", async () => {
    const before = (await get(lh, "/audit/verify")).receipts;
    const r = await add(lh, { traces: [trace({ run_id: "atomic", content: "fresh" }), trace({ uid: "client-1", content: "clash" })] });
    expect(r.status).toBe(409);
    expect((await get(lh, "/audit/verify")).receipts).toBe(before);
    expect((await get(lh, "/traces?run_id=atomic")).traces).toEqual([]);
  });

  test("dedupe by similarity replays a near-identical memory in the same scope, without a model", async () => {
    const first = await add(lh, trace({ user_id: "dedupe", content: "Maria prefers morning shifts at the Joliet warehouse" }));
    const near = await add(lh, trace({ user_id: "dedupe", content: "Maria prefers morning shifts at the Joliet warehouse!", dedupe: { min_similarity: 0.8 } }));
    expect(near.body).toMatchObject({ result: "replayed", trace: { uid: first.body.trace.uid, replay_count: 1 } });
    const far = await add(lh, trace({ user_id: "dedupe", content: "Forklift certification expired in March", dedupe: { min_similarity: 0.8 } }));
    expect(far.body.result).toBe("created");
    // Without dedupe the near copy is a new trace.
    expect((await add(lh, trace({ user_id: "dedupe", content: "Maria prefers morning shifts at the Joliet warehouse!!" }))).body.result).toBe("created");
  });

  test("bad input is a 400 naming the field, with nothing written", async () => {
    const before = (await get(lh, "/audit/verify")).receipts;
    const cases: [unknown, string][] = [
      [{ kind: "fact", content: "no scope" }, "user_id"],
      [trace({ content: 5 }), "content"],
      [trace({ content: "x".repeat(32 * 1024 + 1) }), "content"],
      [trace({ data: { blob: "x".repeat(64 * 1024) } }), "data"],
      [trace({ tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }), "tags"],
      [trace({ colour: "blue" }), "colour"],
      [trace({ kind: "" }), "kind"],
    ];
    for (const [body, field] of cases) {
      const r = await add(lh, body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("validation_failed");
      expect(JSON.stringify(r.body.error.details)).toContain(field);
    }
    expect((await get(lh, "/audit/verify")).receipts).toBe(before);
  });
});

describe("UPDATE, RETIRE, UNRETIRE", () => {
  test("update bumps the version and keeps the old one in history; expected_version is required and checked", async () => {
    const { uid } = (await add(lh, trace({ user_id: "upd", content: "v1 text" }))).body.trace;
    expect((await req(lh, "PUT", `/traces/${uid}`, { content: "v2 text" })).status).toBe(400);
    const up = await req(lh, "PUT", `/traces/${uid}`, { expected_version: 1, content: "v2 text", tags: ["new"] });
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ uid, version: 2, content: "v2 text", tags: ["new"] });
    const stale = await req(lh, "PUT", `/traces/${uid}`, { expected_version: 1, content: "v3" });
    expect(stale.status).toBe(409);
    expect(stale.body.error.details).toEqual({ uid, current_version: 2 });
    const hist = await get(lh, `/traces/${uid}/history`);
    expect(hist.versions.map((v: any) => [v.version, v.content])).toEqual([
      [2, "v2 text"],
      [1, "v1 text"],
    ]);
    expect((await req(lh, "PUT", "/traces/nope", { expected_version: 1, content: "x" })).status).toBe(404);
  });

  test("16 parallel updates with the same expected_version: exactly one wins", async () => {
    const { uid } = (await add(lh, trace({ user_id: "race", content: "start" }))).body.trace;
    const all = await Promise.all(Array.from({ length: 16 }, (_, i) => req(lh, "PUT", `/traces/${uid}`, { expected_version: 1, content: `writer ${i}` })));
    expect(all.filter((r) => r.status === 200)).toHaveLength(1);
    expect(all.filter((r) => r.status === 409)).toHaveLength(15);
    const winner = all.find((r) => r.status === 200)!.body.content;
    expect((await get(lh, `/traces/${uid}`)).content).toBe(winner);
    expect((await get(lh, `/traces/${uid}`)).version).toBe(2);
  });

  test("retired leaves list and search, stays readable; unretire restores it", async () => {
    const { uid } = (await add(lh, trace({ user_id: "ret", content: "retire me: night shift at the Aurora dock" }))).body.trace;
    const r = await req(lh, "POST", `/traces/${uid}/retire`, { expected_version: 1 });
    expect(r.status).toBe(200);
    expect(r.body.retired_at).not.toBeNull();
    expect((await req(lh, "POST", `/traces/${uid}/retire`, { expected_version: 2 })).status).toBe(409);
    expect((await get(lh, "/traces?user_id=ret")).traces).toEqual([]);
    expect((await get(lh, "/traces?user_id=ret&include_retired=true")).traces.map((t: any) => t.uid)).toEqual([uid]);
    expect((await req(lh, "POST", "/search", { query: "night shift Aurora dock", user_id: "ret" })).body.hits).toEqual([]);
    const incl = await req(lh, "POST", "/search", { query: "night shift Aurora dock", user_id: "ret", include_retired: true });
    expect(incl.body.hits.map((h: any) => h.trace.uid)).toEqual([uid]);
    expect((await get(lh, `/traces/${uid}`)).retired_at).not.toBeNull();
    const back = await req(lh, "POST", `/traces/${uid}/unretire`, { expected_version: 2 });
    expect(back.body).toMatchObject({ version: 3, retired_at: null });
    expect((await req(lh, "POST", "/search", { query: "night shift Aurora dock", user_id: "ret" })).body.hits[0].trace.uid).toBe(uid);
  });
});

describe("REVISE and HISTORY", () => {
  test("a chain of three is walked backward; superseded ones leave search and list but stay readable", async () => {
    const a = (await add(lh, trace({ user_id: "rev", content: "rate is 18 per hour" }))).body.trace;
    const b = await req(lh, "POST", `/traces/${a.uid}/revise`, { content: "rate is 19 per hour" });
    expect(b.status).toBe(201);
    expect(b.body.trace).toMatchObject({ predecessor: a.uid, version: 1, user_id: "rev", kind: "fact" });
    expect(b.body.predecessor).toMatchObject({ uid: a.uid, superseded_by: b.body.trace.uid, version: 2 });
    const c = await req(lh, "POST", `/traces/${b.body.trace.uid}/revise`, { content: "rate is 21 per hour", new_uid: "rev-c" });
    expect(c.body.trace.uid).toBe("rev-c");
    expect((await req(lh, "POST", `/traces/${a.uid}/revise`, { content: "again" })).status).toBe(409);
    const hist = await get(lh, "/traces/rev-c/history");
    expect(hist).toMatchObject({ cycle: false, truncated: false });
    expect(hist.versions.map((v: any) => [v.uid, v.version])).toEqual([
      ["rev-c", 1],
      [b.body.trace.uid, 2],
      [b.body.trace.uid, 1],
      [a.uid, 2],
      [a.uid, 1],
    ]);
    expect((await get(lh, "/traces?user_id=rev")).traces.map((t: any) => t.uid)).toEqual(["rev-c"]);
    const hits = (await req(lh, "POST", "/search", { query: "rate per hour", user_id: "rev", k: 10 })).body.hits;
    expect(hits.map((h: any) => h.trace.uid)).toEqual(["rev-c"]);
    expect((await get(lh, `/traces/${a.uid}`)).superseded_by).toBe(b.body.trace.uid);
  });
});

describe("LIST and SEARCH", () => {
  test("list filters by scope, kind, tags (all of), paginates newest first by cursor", async () => {
    const uids: string[] = [];
    for (let i = 0; i < 5; i++)
      uids.push(
        (await add(lh, trace({ namespace: "page", kind: i % 2 ? "preference" : "fact", content: `page item ${i}`, tags: i < 3 ? ["x", "y"] : ["x"] }))).body
          .trace.uid,
      );
    const p1 = await get(lh, "/traces?namespace=page&limit=2");
    expect(p1.traces.map((t: any) => t.uid)).toEqual([uids[4], uids[3]]);
    const p2 = await get(lh, `/traces?namespace=page&limit=2&cursor=${p1.next_cursor}`);
    expect(p2.traces.map((t: any) => t.uid)).toEqual([uids[2], uids[1]]);
    const p3 = await get(lh, `/traces?namespace=page&limit=2&cursor=${p2.next_cursor}`);
    expect(p3.traces.map((t: any) => t.uid)).toEqual([uids[0]]);
    expect(p3.next_cursor).toBeUndefined();
    expect((await get(lh, "/traces?namespace=page&kind=preference")).traces.map((t: any) => t.uid)).toEqual([uids[3], uids[1]]);
    expect((await get(lh, "/traces?namespace=page&tags=x,y")).traces.map((t: any) => t.uid)).toEqual([uids[2], uids[1], uids[0]]);
  });

  test("search applies the shared filter language (object and text) on scope, kind, tags and data", async () => {
    await add(lh, trace({ namespace: "flt", content: "Joliet warehouse morning shift", data: { city: "Joliet", rate: 18 }, tags: ["warehouse"] }));
    await add(lh, trace({ namespace: "flt", content: "Aurora warehouse morning shift", data: { city: "Aurora", rate: 22 }, tags: ["warehouse"] }));
    const obj = await req(lh, "POST", "/search", { query: "warehouse morning shift", namespace: "flt", filter: { "data.city": "Joliet" } });
    expect(obj.body.hits.map((h: any) => h.trace.data.city)).toEqual(["Joliet"]);
    expect(obj.body.hits[0].score).toBeGreaterThan(0);
    const text = await req(lh, "POST", "/search", { query: "warehouse morning shift", namespace: "flt", filter: "data.rate >= 20 and tags = warehouse" });
    expect(text.body.hits.map((h: any) => h.trace.data.city)).toEqual(["Aurora"]);
    const bad = await req(lh, "POST", "/search", { query: "x", filter: { rate: { $near: 1 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toContain("$near");
    expect((await req(lh, "POST", "/search", { k: 3 })).status).toBe(400);
  });
});

describe("SEARCH pending_scanned", () => {
  test("says how many trace embeddings the search scanned exactly because the graph did not hold them yet", async () => {
    // 400 traces in one ADD reach the vector index at once; the graph inserts them in its own
    // thread over hundreds of milliseconds, so a search right after finds most of them pending.
    const traces = Array.from({ length: 400 }, (_, i) => trace({ namespace: "pend", content: `forklift shift ${i} at dock ${i % 7}` }));
    expect((await add(lh, { traces })).status).toBe(201);
    const early = await req(lh, "POST", "/search", { query: "forklift shift at dock", namespace: "pend", k: 5 });
    expect(early.status).toBe(200);
    expect(early.body.hits).toHaveLength(5);
    expect(early.body.pending_scanned).toBeGreaterThan(0);
    expect(early.body.pending_scanned).toBeLessThanOrEqual(400); // after the filter: only this namespace's
    await lh.vector.service.waitIndexed("pathway-traces");
    const late = await req(lh, "POST", "/search", { query: "forklift shift at dock", namespace: "pend", k: 5 });
    expect(late.body.pending_scanned).toBe(0);
    expect(late.body.hits).toHaveLength(5);
  });
});

describe("as_of", () => {
  test("GET, LIST and SEARCH answer what memory held before and after an update, a retire and a revise", async () => {
    const t0 = new Date().toISOString();
    await tick();
    const { uid } = (await add(lh, trace({ user_id: "asof", content: "lives in Joliet" }))).body.trace;
    await tick();
    const t1 = new Date().toISOString();
    await tick();
    await req(lh, "PUT", `/traces/${uid}`, { expected_version: 1, content: "lives in Aurora" });
    await tick();
    const t2 = new Date().toISOString();
    await tick();
    await req(lh, "POST", `/traces/${uid}/retire`, { expected_version: 2 });
    await tick();
    const t3 = new Date().toISOString();
    await tick();
    await req(lh, "POST", `/traces/${uid}/unretire`, { expected_version: 3 });
    const rev = (await req(lh, "POST", `/traces/${uid}/revise`, { content: "lives in Naperville" })).body.trace;
    await tick();
    const t4 = new Date().toISOString();

    expect((await req(lh, "GET", `/traces/${uid}?as_of=${t0}`)).status).toBe(404);
    expect((await get(lh, `/traces/${uid}?as_of=${t1}`)).content).toBe("lives in Joliet");
    expect((await get(lh, `/traces/${uid}?as_of=${t2}`)).content).toBe("lives in Aurora");
    expect((await get(lh, `/traces/${uid}?as_of=${t3}`)).retired_at).not.toBeNull();
    expect((await get(lh, `/traces/${uid}?as_of=${t4}`)).superseded_by).toBe(rev.uid);

    const listed = async (at: string) => (await get(lh, `/traces?user_id=asof&as_of=${at}`)).traces.map((t: any) => t.content);
    expect(await listed(t1)).toEqual(["lives in Joliet"]);
    expect(await listed(t2)).toEqual(["lives in Aurora"]);
    expect(await listed(t3)).toEqual([]);
    expect(await listed(t4)).toEqual(["lives in Naperville"]);

    const found = async (at: string) =>
      (await req(lh, "POST", "/search", { query: "lives in Joliet", user_id: "asof", as_of: at })).body.hits.map((h: any) => h.trace.content);
    expect(await found(t1)).toEqual(["lives in Joliet"]);
    expect(await found(t2)).toEqual(["lives in Aurora"]);
    expect(await found(t3)).toEqual([]);
    expect(await found(t4)).toEqual(["lives in Naperville"]);
    expect(await found(t0)).toEqual([]);
    expect((await req(lh, "GET", `/traces/${uid}?as_of=yesterday`)).status).toBe(400);
  });
});

describe("FORGET and the audit trail", () => {
  test("forget erases the trace from get, list, search, history and the vector index; the audit keeps a tombstone", async () => {
    const secret = "my social security number is 078-05-1120";
    const { uid } = (await add(lh, trace({ user_id: "forget", content: secret, tags: ["pii"] }))).body.trace;
    await req(lh, "PUT", `/traces/${uid}`, { expected_version: 1, content: `${secret} (confirmed)` });
    const gone = await req(lh, "DELETE", `/traces/${uid}`);
    expect(gone.body).toEqual({ uid, forgotten: true, versions: 2 });
    expect((await req(lh, "GET", `/traces/${uid}`)).status).toBe(404);
    expect((await req(lh, "GET", `/traces/${uid}/history`)).status).toBe(404);
    expect((await req(lh, "DELETE", `/traces/${uid}`)).status).toBe(404);
    expect((await get(lh, "/traces?user_id=forget&include_retired=true&include_superseded=true")).traces).toEqual([]);
    expect((await req(lh, "POST", "/search", { query: secret, user_id: "forget", include_retired: true })).body.hits).toEqual([]);
    expect(lh.vector.service.getMetadata("pathway-traces", `${uid}@1`)).toBeUndefined();
    expect(lh.vector.service.getMetadata("pathway-traces", `${uid}@2`)).toBeUndefined();
    const audit = await get(lh, `/audit?uid=${uid}`);
    expect(audit.receipts.map((r: any) => r.op)).toEqual(["add", "update", "forget"]);
    expect(JSON.stringify(audit)).not.toContain("078-05");
    expect(audit.receipts[2]).toMatchObject({ after_hash: null, version: 2 });
    expect((await add(lh, trace({ uid, content: "reuse" }))).status).toBe(409);
  });

  test("every mutation has a receipt chained to the one before; verify walks the chain", async () => {
    const { uid } = (await add(lh, trace({ user_id: "audit", content: "audited" }))).body.trace;
    await add(lh, trace({ user_id: "audit", content: "audited" }));
    await req(lh, "PUT", `/traces/${uid}`, { expected_version: 1, content: "audited twice" });
    await req(lh, "POST", `/traces/${uid}/retire`, { expected_version: 2 });
    await req(lh, "POST", `/traces/${uid}/unretire`, { expected_version: 3 });
    const rev = (await req(lh, "POST", `/traces/${uid}/revise`, { content: "audited thrice" })).body.trace;
    const mine = await get(lh, `/audit?uid=${uid}`);
    expect(mine.receipts.map((r: any) => [r.op, r.version])).toEqual([
      ["add", 1],
      ["replay", 1],
      ["update", 2],
      ["retire", 3],
      ["unretire", 4],
      ["supersede", 5],
    ]);
    for (const r of mine.receipts) expect(r.actor).toBe("anonymous@127.0.0.1");
    expect((await get(lh, `/audit?uid=${rev.uid}`)).receipts.map((r: any) => r.op)).toEqual(["revise"]);
    const all = await get(lh, "/audit?limit=1000");
    for (let i = 1; i < all.receipts.length; i++) {
      expect(all.receipts[i].prev).toBe(all.receipts[i - 1].hash);
      expect(all.receipts[i].seq).toBe(all.receipts[i - 1].seq + 1);
    }
    const page = await get(lh, "/audit?limit=2");
    expect(page.receipts).toHaveLength(2);
    expect((await get(lh, `/audit?limit=2&since=${page.next_since}`)).receipts[0].seq).toBe(3);
    expect(await get(lh, "/audit/verify")).toMatchObject({ ok: true, receipts: all.receipts.length, mismatched_traces: 0 });
  });
});

test("the routes are in the OpenAPI document", async () => {
  const doc = (await (await lh.app.fetch(new Request("http://localhost/v1/openapi.json"), { ip: "127.0.0.1" })).json()) as any;
  for (const path of [`${P}/traces`, `${P}/traces/{uid}`, `${P}/traces/{uid}/revise`, `${P}/search`, `${P}/audit/verify`])
    expect(doc.paths[path]).toBeDefined();
});
