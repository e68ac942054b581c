// The operation registry on its own: one declaration, validated the same way in-process and over
// HTTP, result schemas held to account, and a documentation page that lists every operation.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../src/http/env.ts";
import { makeOnError } from "../../src/http/error-envelope.ts";
import { queryInt } from "../../src/http/body.ts";
import { silentLogger } from "../../src/log.ts";
import { mountOperations } from "../../src/ops/http.ts";
import { op } from "../../src/ops/operation.ts";
import { OperationRegistry } from "../../src/ops/registry.ts";
import { testLakehouse } from "../support/app.ts";

function demo(checkResults = false) {
  const ops = new OperationRegistry({ checkResults });
  const seen: unknown[] = [];
  ops.register(
    op({
      name: "demo.put",
      method: "post",
      path: "/v1/demo/{name}",
      tag: "demo",
      summary: "t",
      params: v.object({ name: v.string() }),
      query: v.object({ limit: v.optional(queryInt(1, 10), 5) }),
      headers: v.object({
        only_if_absent: v.optional(
          v.pipe(
            v.union([
              v.boolean(),
              v.pipe(
                v.string(),
                v.transform((s) => s === "*"),
              ),
            ]),
          ),
          false,
        ),
      }),
      body: v.strictObject({ items: v.array(v.number()) }),
      result: v.object({ name: v.string(), limit: v.number(), only_if_absent: v.boolean(), total: v.number() }),
      http: { headers: { only_if_absent: "if-none-match" }, status: 201 },
      handler: (input, ctx) => {
        seen.push({ input, kind: ctx.identity.kind });
        return { name: input.name, limit: input.limit, only_if_absent: input.only_if_absent, total: input.items.reduce((a, b) => a + b, 0) };
      },
    }),
    op({
      name: "demo.liar",
      method: "get",
      path: "/v1/demo-liar",
      tag: "demo",
      summary: "t",
      result: v.object({ n: v.number() }),
      handler: () => ({ n: "not a number" }),
    }),
    op({
      name: "demo.upload",
      method: "post",
      path: "/v1/demo-upload",
      tag: "demo",
      summary: "t",
      stream: { contentTypes: ["text/plain"], description: "t" },
      handler: async ({ stream }) => ({ text: await new Response(stream!.body).text() }),
    }),
  );
  return { ops, seen };
}

describe("ops.call", () => {
  test("a flat input is split by the schemas, validated like HTTP input, and handed over typed", async () => {
    const { ops, seen } = demo();
    const out = await ops.call("demo.put", { name: "a", limit: 3, only_if_absent: true, items: [1, 2] });
    expect(out).toEqual({ name: "a", limit: 3, only_if_absent: true, total: 3 });
    expect(seen[0]).toMatchObject({ kind: "internal" });
    // Defaults apply in-process too.
    expect(await ops.call("demo.put", { name: "a", items: [] })).toEqual({ name: "a", limit: 5, only_if_absent: false, total: 0 });
  });

  test("bad input is validation_failed with the field's path; unknown fields are refused", async () => {
    const { ops } = demo();
    await expect(ops.call("demo.put", { name: "a", items: [1, "x"] })).rejects.toMatchObject({ code: "validation_failed", details: [{ path: "items[1]" }] });
    await expect(ops.call("demo.put", { name: "a", limit: 11, items: [] })).rejects.toMatchObject({ code: "validation_failed", details: [{ path: "limit" }] });
    await expect(ops.call("demo.put", { name: "a", items: [], extra: 1 })).rejects.toMatchObject({ code: "validation_failed" });
    await expect(ops.call("demo.liar", { extra: 1 })).rejects.toMatchObject({ code: "validation_failed", details: [{ path: "extra" }] });
    await expect(ops.call("demo.nope")).rejects.toMatchObject({ code: "not_found" });
  });

  test("a raw-body operation needs its stream", async () => {
    const { ops } = demo();
    expect(await ops.call("demo.upload", { stream: { body: new Blob(["hello"]).stream() } })).toEqual({ text: "hello" });
    await expect(ops.call("demo.upload", {})).rejects.toMatchObject({ code: "validation_failed", details: [{ path: "stream" }] });
  });

  test("with checkResults, a result that breaks its schema is an internal error naming the field", async () => {
    expect(await demo(false).ops.call("demo.liar")).toEqual({ n: "not a number" });
    await expect(demo(true).ops.call("demo.liar")).rejects.toMatchObject({ code: "internal", details: [{ path: "n" }] });
  });

  test("declaring a name twice, or a field in two parts, is refused at start-up", () => {
    const ops = new OperationRegistry();
    const one = op({ name: "x.y", method: "get", path: "/x", tag: "x", summary: "t", handler: () => ({}) });
    ops.register(one);
    expect(() => ops.register(one)).toThrow(/declared twice/);
    const clash = op({
      name: "x.z",
      method: "post",
      path: "/x/{id}",
      tag: "x",
      summary: "t",
      params: v.object({ id: v.string() }),
      body: v.object({ id: v.string() }),
      handler: () => ({}),
    });
    expect(() => ops.register(clash)).toThrow(/"id" is in both params and body/);
  });
});

describe("the same operation over HTTP", () => {
  const { ops, seen } = demo();
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", "r1");
    await next();
  });
  mountOperations(app, ops, { jsonLimit: 1024, tokenAuth: true });
  app.onError(makeOnError(silentLogger));

  test("path, query, header and body meet in one input; the declared status is used", async () => {
    const res = await app.request("/v1/demo/b?limit=2", {
      method: "POST",
      headers: { "content-type": "application/json", "if-none-match": "*" },
      body: '{"items":[4,5]}',
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ name: "b", limit: 2, only_if_absent: true, total: 9 });
    expect(seen.at(-1)).toMatchObject({ kind: "token" });
  });

  test("the same validation answers as in-process: 400 validation_failed with the path", async () => {
    const res = await app.request("/v1/demo/b?limit=x", { method: "POST", headers: { "content-type": "application/json" }, body: '{"items":[]}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "validation_failed", details: [{ path: "limit" }] } });
  });
});

test("docs/api.md lists every operation the registry declares", async () => {
  const lh = await testLakehouse();
  try {
    const page = readFileSync(join(import.meta.dir, "..", "..", "docs", "api.md"), "utf8");
    const missing = lh.ops
      .list()
      .map((o) => o.name)
      .filter((name) => !page.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  } finally {
    await lh.close();
  }
});
