import { afterEach, describe, expect, test } from "bun:test";
import type { Lakehouse } from "../../src/app.ts";
import { testLakehouse } from "../support/app.ts";
import { json, ok, send } from "../support/http.ts";
import { searchIds } from "./helpers.ts";

let lh: Lakehouse;
afterEach(async () => {
  await lh?.close();
});

async function withIndex(body: Record<string, unknown> = {}) {
  lh = await testLakehouse();
  await ok(send(lh, "POST", "/v1/vectors/indexes", { name: "people", dim: 3, ...body }));
  return lh;
}

describe("indexes a module owns", () => {
  test("are read and searched through the vector API but never written, emptied or dropped by it", async () => {
    lh = await testLakehouse();
    // The pathway module creates its index with its first trace.
    await ok(send(lh, "POST", "/v1/pathway/traces", { user_id: "u", kind: "fact", content: "knows forklifts" }));
    // (a pathway search reads the module's own writes: its vector write has landed after it)
    await ok(send(lh, "POST", "/v1/pathway/search", { query: "forklifts", k: 1, user_id: "u" }));
    const owned = "pathway-traces";
    const info = await ok(send(lh, "GET", `/v1/vectors/indexes/${owned}`));
    const vector = Array.from({ length: info.dim }, (_, i) => (i === 0 ? 1 : 0));
    expect((await send(lh, "POST", `/v1/vectors/indexes/${owned}/search`, { vector, k: 1 })).status).toBe(200);
    const refused = [
      await send(lh, "DELETE", `/v1/vectors/indexes/${owned}`),
      await send(lh, "POST", `/v1/vectors/indexes/${owned}/upsert`, { items: [{ id: "x", vector }] }),
      await send(lh, "POST", `/v1/vectors/indexes/${owned}/delete`, { ids: ["x"] }),
      await send(lh, "DELETE", `/v1/vectors/indexes/${owned}/items/x`),
      await send(lh, "POST", "/v1/vectors/indexes", { name: "matrix-mine", dim: 2 }),
    ];
    for (const res of refused) {
      expect(res.status).toBe(403);
      const err = (await json(res)).error;
      expect(err.code).toBe("reserved_prefix");
      expect(err.message).toContain("does not change it");
    }
    expect((await ok(send(lh, "GET", `/v1/vectors/indexes/${owned}`))).name).toBe(owned);
  });
});

describe("index CRUD", () => {
  test("create, get, list, conflict, delete", async () => {
    lh = await testLakehouse();
    const created = await send(lh, "POST", "/v1/vectors/indexes", { name: "people", dim: 4, metric: "l2", m: 8, ef_construction: 100, ef_search: 32 });
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({ name: "people", dim: 4, metric: "l2", m: 8, ef_construction: 100, ef_search: 32, count: 0, pending: 0 });
    const again = await send(lh, "POST", "/v1/vectors/indexes", { name: "people", dim: 4 });
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe("conflict");
    await ok(send(lh, "POST", "/v1/vectors/indexes", { name: "places", dim: 2 }));
    const list = await ok(send(lh, "GET", "/v1/vectors/indexes"));
    expect(list.indexes.map((i: { name: string }) => i.name)).toEqual(["people", "places"]);
    const info = await ok(send(lh, "GET", "/v1/vectors/indexes/places"));
    expect(info).toMatchObject({ name: "places", dim: 2, metric: "cosine", m: 16, ef_construction: 200, ef_search: 64 });
    expect((await send(lh, "DELETE", "/v1/vectors/indexes/places")).status).toBe(204);
    expect((await send(lh, "GET", "/v1/vectors/indexes/places")).status).toBe(404);
    expect((await send(lh, "DELETE", "/v1/vectors/indexes/places")).status).toBe(404);
    // The name is free again, and the new index starts empty.
    await ok(send(lh, "POST", "/v1/vectors/indexes", { name: "places", dim: 2 }));
    expect((await ok(send(lh, "GET", "/v1/vectors/indexes/places"))).count).toBe(0);
  });

  test("bad index parameters are 400 naming the field", async () => {
    lh = await testLakehouse();
    for (const [body, path] of [
      [{ name: "bad name", dim: 3 }, "name"],
      [{ name: "x", dim: 0 }, "dim"],
      [{ name: "x", dim: 3, metric: "hamming" }, "metric"],
      [{ name: "x", dim: 3, m: 1 }, "m"],
      [{ name: "x", dim: 3, extra: true }, ""],
    ] as const) {
      const res = await send(lh, "POST", "/v1/vectors/indexes", body);
      expect(res.status).toBe(400);
      const err = (await json(res)).error;
      if (path) expect(err.details[0].path).toBe(path);
    }
    expect((await ok(send(lh, "GET", "/v1/vectors/indexes"))).indexes).toEqual([]);
  });

  test("unknown index is 404 on every item route", async () => {
    lh = await testLakehouse();
    expect((await send(lh, "POST", "/v1/vectors/indexes/nope/upsert", { items: [] })).status).toBe(404);
    expect((await send(lh, "POST", "/v1/vectors/indexes/nope/search", { vector: [1], k: 1 })).status).toBe(404);
    expect((await send(lh, "GET", "/v1/vectors/indexes/nope/items/a")).status).toBe(404);
  });
});

describe("upsert and items", () => {
  test("get an item; upsert replaces the vector; omitted metadata is kept, null clears it", async () => {
    await withIndex({ metric: "l2" });
    await ok(send(lh, "POST", "/v1/vectors/indexes/people/upsert", { items: [{ id: "a", vector: [1, 2, 3], metadata: { role: "picker" } }] }));
    expect(await ok(send(lh, "GET", "/v1/vectors/indexes/people/items/a"))).toEqual({ id: "a", vector: [1, 2, 3], metadata: { role: "picker" } });
    await ok(send(lh, "POST", "/v1/vectors/indexes/people/upsert", { items: [{ id: "a", vector: [4, 5, 6] }] }));
    expect(await ok(send(lh, "GET", "/v1/vectors/indexes/people/items/a"))).toEqual({ id: "a", vector: [4, 5, 6], metadata: { role: "picker" } });
    await ok(send(lh, "POST", "/v1/vectors/indexes/people/upsert", { items: [{ id: "a", vector: [4, 5, 6], metadata: { role: "driver" } }] }));
    expect((await ok(send(lh, "GET", "/v1/vectors/indexes/people/items/a"))).metadata).toEqual({ role: "driver" });
    await ok(send(lh, "POST", "/v1/vectors/indexes/people/upsert", { items: [{ id: "a", vector: [4, 5, 6], metadata: null }] }));
    expect((await ok(send(lh, "GET", "/v1/vectors/indexes/people/items/a"))).metadata).toBeNull();
    expect((await ok(send(lh, "GET", "/v1/vectors/indexes/people"))).count).toBe(1);
  });

  test("search finds the replaced vector, before and after indexing", async () => {
    await withIndex();
    await ok(
      send(lh, "POST", "/v1/vectors/indexes/people/upsert", {
        items: [
          { id: "a", vector: [1, 0, 0] },
          { id: "b", vector: [1, 0.2, 0] },
        ],
      }),
    );
    await lh.vector.service.waitIndexed("people");
    await ok(send(lh, "POST", "/v1/vectors/indexes/people/upsert", { items: [{ id: "a", vector: [0, 0, 1] }] }));
    // Not indexed yet: the pending version must win over the stale graph entry.
    expect(await searchIds(lh, "people", { vector: [1, 0, 0], k: 2 })).toEqual(["b", "a"]);
    const top = await ok(send(lh, "POST", "/v1/vectors/indexes/people/search", { vector: [0, 0, 1], k: 1 }));
    expect(top.hits[0]).toMatchObject({ id: "a", score: expect.closeTo(1, 5) });
    await lh.vector.service.waitIndexed("people");
    expect(await searchIds(lh, "people", { vector: [0, 0, 1], k: 1 })).toEqual(["a"]);
    expect((await ok(send(lh, "GET", "/v1/vectors/indexes/people"))).pending).toBe(0);
  });

  test("a bad item anywhere in a batch is 400 naming its position, and nothing of the batch is written", async () => {
    await withIndex();
    const good = (id: string) => ({ id, vector: [1, 1, 1] });
    const cases: [unknown, string][] = [
      [{ id: "x", vector: [1, 2] }, "items[2].vector"],
      [{ id: "x", vector: [1, "2", 3] }, "items[2].vector[1]"],
      [{ id: "x", vector: [1, 2, 1e39] }, "items[2].vector[2]"],
      [{ id: "x", vector: [0, 0, 0] }, "items[2].vector"],
      [{ id: "", vector: [1, 2, 3] }, "items[2].id"],
      [{ id: "x".repeat(257), vector: [1, 2, 3] }, "items[2].id"],
      [{ id: "a", vector: [1, 2, 3] }, "items[2].id"],
      [{ id: "x", vector: [1, 2, 3], metadata: { big: "y".repeat(70_000) } }, "items[2].metadata"],
      [{ id: "x", vector: [1, 2, 3], metadata: [1] }, "items[2].metadata"],
    ];
    for (const [bad, path] of cases) {
      const res = await send(lh, "POST", "/v1/vectors/indexes/people/upsert", { items: [good("a"), good("b"), bad] });
      expect([path, res.status]).toEqual([path, 400]);
      const err = (await json(res)).error;
      expect(err.details[0].path).toBe(path);
    }
    // NaN and Infinity cannot be sent as JSON, but in-process callers can pass them.
    expect(() => lh.vector.service.upsert("people", [good("a"), { id: "n", vector: [1, NaN, 1] }])).toThrow("items[1].vector[1]");
    const info = await ok(send(lh, "GET", "/v1/vectors/indexes/people"));
    expect(info).toMatchObject({ count: 0, seq: 0 });
    expect((await send(lh, "GET", "/v1/vectors/indexes/people/items/a")).status).toBe(404);
  });

  test("delete single and batch; deleted items never come back; re-adding a deleted or existing id works", async () => {
    await withIndex();
    const items = Array.from({ length: 40 }, (_, i) => ({ id: `w${i}`, vector: [1, i / 40, 0.5] }));
    await ok(send(lh, "POST", "/v1/vectors/indexes/people/upsert", { items }));
    await lh.vector.service.waitIndexed("people");
    expect(await ok(send(lh, "DELETE", "/v1/vectors/indexes/people/items/w0"))).toHaveProperty("seq");
    expect((await send(lh, "DELETE", "/v1/vectors/indexes/people/items/w0")).status).toBe(404);
    expect(await ok(send(lh, "POST", "/v1/vectors/indexes/people/delete", { ids: ["w1", "w2", "w2", "nope"] }))).toMatchObject({ deleted: 2 });
    const gone = new Set(["w0", "w1", "w2"]);
    const check = async () => {
      const ids = await searchIds(lh, "people", { vector: [1, 0, 0.5], k: 40 });
      expect(ids.length).toBe(37);
      expect(ids.some((id) => gone.has(id))).toBe(false);
    };
    await check(); // deletes acknowledged, maybe not yet applied to the graph
    await lh.vector.service.waitIndexed("people");
    await check();
    expect((await send(lh, "GET", "/v1/vectors/indexes/people/items/w1")).status).toBe(404);

    // Re-add a deleted id and an existing one, twice over, with indexing in between and not.
    for (let round = 0; round < 3; round++) {
      await ok(
        send(lh, "POST", "/v1/vectors/indexes/people/upsert", {
          items: [
            { id: "w1", vector: [0, 0, 1] },
            { id: "w3", vector: [0, 0, 1] },
          ],
        }),
      );
      if (round === 1) await lh.vector.service.waitIndexed("people");
    }
    await lh.vector.service.waitIndexed("people");
    expect((await searchIds(lh, "people", { vector: [0, 0, 1], k: 2 })).sort()).toEqual(["w1", "w3"]);
    expect((await ok(send(lh, "GET", "/v1/vectors/indexes/people"))).count).toBe(38);
  });

  test("capacity grows by itself", async () => {
    await withIndex({ m: 4, ef_construction: 16 });
    const items = Array.from({ length: 2500 }, (_, i) => ({ id: `i${i}`, vector: [Math.cos(i), Math.sin(i), (i % 7) + 1] }));
    for (let i = 0; i < items.length; i += 500) await ok(send(lh, "POST", "/v1/vectors/indexes/people/upsert", { items: items.slice(i, i + 500) }));
    await lh.vector.service.waitIndexed("people");
    const info = await ok(send(lh, "GET", "/v1/vectors/indexes/people"));
    expect(info.count).toBe(2500);
    expect(info.capacity).toBeGreaterThanOrEqual(2500);
    expect(await searchIds(lh, "people", { vector: items[1234]!.vector, k: 1 })).toEqual(["i1234"]);
  });

  test("include_vectors, scores per metric, bad search requests", async () => {
    await withIndex({ metric: "ip" });
    await ok(send(lh, "POST", "/v1/vectors/indexes/people/upsert", { items: [{ id: "a", vector: [1, 2, 3], metadata: { n: 1 } }] }));
    const res = await ok(send(lh, "POST", "/v1/vectors/indexes/people/search", { vector: [1, 1, 1], k: 3, include_vectors: true }));
    expect(res.hits).toEqual([{ id: "a", score: 6, metadata: { n: 1 }, vector: [1, 2, 3] }]);
    for (const [body, path] of [
      [{ vector: [1, 1], k: 1 }, "vector"],
      [{ vector: [1, 1, 1], k: 0 }, "k"],
      [{ vector: [1, 1, 1], k: 1, filter: { n: { $near: 1 } } }, "filter.n.$near"],
      [{ vector: [1, 1, 1], k: 1, filter: "n >" }, "filter"],
    ] as const) {
      const r = await send(lh, "POST", "/v1/vectors/indexes/people/search", body);
      expect(r.status).toBe(400);
      expect((await json(r)).error.details[0].path).toBe(path);
    }
  });
});
