// The vector operations called in-process (ops.call) answer what HTTP answers, validate with the
// same schemas, and index creation and drop are published on the event bus.
import { afterEach, describe, expect, test } from "bun:test";
import type { Lakehouse } from "../../src/app.ts";
import { ValidationFailed } from "../../src/errors.ts";
import type { LakehouseEvents } from "../../src/events.ts";
import { testLakehouse } from "../support/app.ts";
import { ok, send } from "../support/http.ts";

let lh: Lakehouse;
afterEach(async () => {
  await lh?.close();
});

describe("vector operations in-process", () => {
  test("create, upsert, search and get item give the HTTP results", async () => {
    lh = await testLakehouse();
    const created = await lh.ops.call<{ name: string; dim: number }>("vector.create_index", { name: "people", dim: 3, metric: "l2" });
    expect(created).toMatchObject({ name: "people", dim: 3, metric: "l2", count: 0 });
    expect(await ok(send(lh, "GET", "/v1/vectors/indexes/people"))).toEqual(await lh.ops.call("vector.get_index", { name: "people" }));

    const items = [
      { id: "a", vector: [1, 2, 3], metadata: { role: "picker" } },
      { id: "b", vector: [3, 2, 1] },
    ];
    expect(await lh.ops.call("vector.upsert", { name: "people", items })).toEqual({ upserted: 2, seq: 1 });
    await lh.vector.service.waitIndexed("people");
    const search = { vector: [1, 2, 2.5], k: 2, filter: "role = picker", include_vectors: true };
    const inProcess = await lh.ops.call("vector.search", { name: "people", ...search });
    expect(inProcess).toEqual(await ok(send(lh, "POST", "/v1/vectors/indexes/people/search", search)));
    // Indexed before the searches (below), so both agree that nothing was pending.
    expect(inProcess).toEqual({ hits: [{ id: "a", score: expect.closeTo(0.25, 5), metadata: { role: "picker" }, vector: [1, 2, 3] }], pending_scanned: 0 });
    expect(await lh.ops.call("vector.get_item", { name: "people", id: "b" })).toEqual(await ok(send(lh, "GET", "/v1/vectors/indexes/people/items/b")));
    expect(await lh.ops.call("vector.delete_item", { name: "people", id: "b" })).toEqual({ seq: 2 });
    await expect(lh.ops.call("vector.delete_item", { name: "people", id: "b" })).rejects.toMatchObject({ code: "not_found" });
  });

  test("a bad input is validation_failed naming the field, before the index is looked at", async () => {
    lh = await testLakehouse();
    await lh.ops.call("vector.create_index", { name: "people", dim: 3 });
    const err = await lh.ops.call<never>("vector.search", { name: "people", vector: [1, 1, 1], k: 0 }).catch((e: ValidationFailed) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect(err.code).toBe("validation_failed");
    expect(err.details).toEqual([expect.objectContaining({ path: "k" })]);
    const bad = await lh.ops.call<never>("vector.upsert", { name: "people", items: [{ id: "a", vector: "1,2,3" }] }).catch((e: ValidationFailed) => e);
    expect(bad).toMatchObject({ code: "validation_failed", details: [{ path: "items[0].vector" }] });
  });

  test("creating and dropping an index is published", async () => {
    lh = await testLakehouse();
    const seen: (LakehouseEvents["vector.index_created"] | LakehouseEvents["vector.index_dropped"])[] = [];
    lh.events.on("vector.index_created", (e) => {
      seen.push(e);
    });
    lh.events.on("vector.index_dropped", (e) => {
      seen.push(e);
    });
    await ok(send(lh, "POST", "/v1/vectors/indexes", { name: "docs", dim: 8, metric: "ip" }));
    expect((await send(lh, "POST", "/v1/vectors/indexes", { name: "docs", dim: 8 })).status).toBe(409);
    expect((await send(lh, "DELETE", "/v1/vectors/indexes/docs")).status).toBe(204);
    expect(seen).toEqual([{ name: "docs", dim: 8, metric: "ip" }, { name: "docs" }]);
  });

  test("vector bodies are capped by vector.max_request_bytes, not the server's JSON cap", async () => {
    lh = await testLakehouse({ server: { max_json_bytes: 1024 }, vector: { max_request_bytes: 8192 } });
    await ok(send(lh, "POST", "/v1/vectors/indexes", { name: "docs", dim: 64 }));
    const item = (id: string) => ({ id, vector: Array.from({ length: 64 }, (_, i) => i + 0.5) });
    const four = { items: ["a", "b", "c", "d"].map(item) };
    expect(JSON.stringify(four).length).toBeGreaterThan(1024);
    expect(await ok(send(lh, "POST", "/v1/vectors/indexes/docs/upsert", four))).toMatchObject({ upserted: 4 });
    const big = await send(lh, "POST", "/v1/vectors/indexes/docs/upsert", { items: Array.from({ length: 40 }, (_, i) => item(`i${i}`)) });
    expect(big.status).toBe(413);
    expect((await ok(send(lh, "GET", "/v1/vectors/indexes/docs"))).count).toBe(4);
  });
});
