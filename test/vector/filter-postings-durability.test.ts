// The equality postings are derived state: rebuilt from the metadata after every start. A real
// server's filtered searches and the port's filterAccept must pass exactly the items the plain
// predicate passes over the acknowledged metadata, after writes that move values and deletes,
// after kill -9 (log replay) and after a graceful restart (snapshot, then the restored vectors
// coded in the background).
import { describe, expect, test } from "bun:test";
import { compileFilter, type Metadata } from "../../src/filter/compile.ts";
import { parseFilter } from "../../src/filter/parse.ts";
import { startChild } from "../support/child.ts";
import { crashScope } from "../support/crash-scope.ts";
import { json, send } from "../support/http.ts";
import { testLakehouse } from "../support/app.ts";
import { rng } from "../support/random.ts";

const DIM = 8;
const N = 300;
const scope = crashScope("lh-vec-postings-");
/** A real server on `root`, killed after the test if still running. */
const start = (root: string) => startChild({ LH_STORAGE_FS_ROOT: root }).then((c) => scope.track(c));

const STATES = ["IL", "TX", "MI"];
function metadataOf(r: () => number): Record<string, unknown> {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const m: Record<string, unknown> = { state: r() < 0.1 ? [pick(STATES), pick(STATES)] : pick(STATES), rate: 10 + Math.floor(r() * 10) };
  if (r() < 0.5) m.shift = pick(["day", "night"]);
  return m;
}
const vectorOf = (r: () => number) => Array.from({ length: DIM }, () => r() - 0.5);

const FILTERS: unknown[] = [
  { state: "IL" },
  { state: { $in: ["TX", "MI"] } },
  { state: "IL", shift: "night" },
  "state = TX and rate <= 14",
  { shift: { $exists: false }, state: "MI" },
  { $or: [{ state: "IL" }, { rate: { $gt: 17 } }] },
  { state: "CA" },
];

/** The ids the plain predicate passes over `model`, sorted. */
function expected(model: Map<string, Metadata>, filter: unknown): string[] {
  const pred = compileFilter(parseFilter(filter));
  return [...model.entries()]
    .filter(([, m]) => pred(m))
    .map(([id]) => id)
    .sort();
}

describe("equality postings across writes and restarts", () => {
  test("filtered searches equal the plain predicate after moves, deletes, kill -9 and a graceful restart", async () => {
    const root = scope.newRoot();
    const r = rng(29);
    const model = new Map<string, Metadata>();
    let child = await start(root);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await send(child.url, method, `/v1/vectors${path}`, body);
      const out = await json(res);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      return out;
    };
    const checkAll = async (when: string) => {
      for (const filter of FILTERS) {
        const res = await call("POST", "/indexes/crew/search", { vector: vectorOf(r), k: N + 50, filter });
        const got = res.hits.map((h: { id: string }) => h.id).sort();
        expect({ when, filter, got }).toEqual({ when, filter, got: expected(model, filter) });
      }
    };
    expect((await send(child.url, "POST", "/v1/vectors/indexes", { name: "crew", dim: DIM })).status).toBe(201);
    const items = Array.from({ length: N }, (_, i) => ({ id: `w${i}`, vector: vectorOf(r), metadata: metadataOf(r) }));
    await call("POST", "/indexes/crew/upsert", { items });
    for (const it of items) model.set(it.id, it.metadata);
    // A filter first, so the postings of its fields exist before the writes that move values.
    await checkAll("after the first writes");
    const moved = items.slice(0, 80).map((it) => ({ id: it.id, vector: vectorOf(r), metadata: metadataOf(r) }));
    await call("POST", "/indexes/crew/upsert", { items: moved });
    for (const it of moved) model.set(it.id, it.metadata);
    const gone = items.slice(60, 120).map((it) => it.id);
    await call("POST", "/indexes/crew/delete", { ids: gone });
    for (const id of gone) model.delete(id);
    await checkAll("after moves and deletes");

    child.proc.kill("SIGKILL");
    await child.proc.exited;
    child = await start(root);
    await checkAll("after kill -9 (log replay)");
    const back = items.slice(60, 70).map((it) => ({ id: it.id, vector: vectorOf(r), metadata: { state: "IL", shift: "night" } }));
    await call("POST", "/indexes/crew/upsert", { items: back });
    for (const it of back) model.set(it.id, it.metadata);
    await checkAll("after re-adding deleted ids");

    child.proc.kill("SIGTERM");
    await child.proc.exited;
    child = await start(root);
    await checkAll("after a graceful restart (snapshot)");
  }, 60_000);

  test("filterAccept passes what the predicate passes, unknown ids never, and follows writes", async () => {
    const lh = await testLakehouse();
    try {
      const r = rng(31);
      await lh.vector.service.createIndex({ name: "acc", dim: DIM, metric: "cosine" });
      const model = new Map<string, Metadata>();
      const items = Array.from({ length: 200 }, (_, i) => ({ id: `a${i}`, vector: vectorOf(r), metadata: metadataOf(r) }));
      lh.vector.service.upsert("acc", items);
      for (const it of items) model.set(it.id, it.metadata);
      const ids = [...items.map((it) => it.id), "nobody"];
      const check = (when: string) => {
        for (const filter of [undefined, ...FILTERS]) {
          const accept = lh.vector.service.filterAccept("acc", filter);
          const got = ids.filter(accept).sort();
          const want = filter === undefined ? [...model.keys()].sort() : expected(model, filter);
          expect({ when, filter, got }).toEqual({ when, filter, got: want });
        }
      };
      check("after the first writes");
      const moved = items.slice(0, 50).map((it) => ({ id: it.id, vector: vectorOf(r), metadata: metadataOf(r) }));
      lh.vector.service.upsert("acc", moved);
      for (const it of moved) model.set(it.id, it.metadata);
      lh.vector.service.deleteItems("acc", ["a3", "a150"]);
      model.delete("a3");
      model.delete("a150");
      check("after moves and deletes");
    } finally {
      await lh.close();
    }
  });
});
