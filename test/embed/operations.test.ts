// The embed operations called in-process (ops.call) answer what the HTTP routes answer, and the
// port other modules embed through shares the Embedder and its cache.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LakehouseError } from "../../src/errors.ts";
import { embedPort } from "../../src/embed/port.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json, post } from "../support/http.ts";

type Lh = Awaited<ReturnType<typeof testLakehouse>>;

describe("embed operations in-process", () => {
  let lh: Lh;
  beforeAll(async () => {
    lh = await testLakehouse({ embed: { max_batch: 3 } });
  });
  afterAll(() => lh.close());

  test("embed.texts and embed.stats answer what HTTP answers", async () => {
    const texts = ["night shift forklift", "registered nurse"];
    const inProcess = await lh.ops.call("embed.texts", { texts });
    const res = await post(lh, "/v1/embed", { texts });
    expect(res.status).toBe(200);
    expect(inProcess).toEqual(await json(res));
    expect(await lh.ops.call("embed.stats")).toEqual({ hits: 2, misses: 2, hit_rate: 0.5, size: 2 });
    expect(await lh.ops.call("embed.stats")).toEqual(await json(await call(lh, "/v1/embed/stats")));
  });

  test("a bad input is validation_failed naming the field", async () => {
    const err = await lh.ops.call("embed.texts", { texts: ["fine", ""] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakehouseError);
    expect((err as LakehouseError).code).toBe("validation_failed");
    expect(((err as LakehouseError).details as { path: string }[]).map((d) => d.path)).toEqual(["texts[1]"]);
    const over = (await lh.ops.call("embed.texts", { texts: ["a", "b", "c", "d"] }).catch((e: unknown) => e)) as LakehouseError;
    expect(over.code).toBe("validation_failed");
    expect(over.details).toEqual([{ path: "texts", message: "at most 3 texts per request" }]);
  });

  test("embedPort embeds through the same Embedder", async () => {
    const port = embedPort(lh.embed.embedder);
    expect(port.maxBatch).toBe(3);
    expect(port.defaultModel).toBe("hash-384");
    const before = lh.embed.embedder.stats().hits;
    const out = await port.embed(["registered nurse"]);
    expect(out).toEqual((await lh.ops.call("embed.texts", { texts: ["registered nurse"] })) as never);
    expect(lh.embed.embedder.stats().hits).toBe(before + 2);
  });
});
