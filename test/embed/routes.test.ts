import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hashEmbed } from "../../src/embed/hash-embedder.ts";
import { testLakehouse } from "../support/app.ts";
import { call, send } from "../support/http.ts";
import { deadUrl, type FakeUpstream, fakeVector, startFakeOllama, startFakeOpenAI } from "./fake-upstreams.ts";

type Lh = Awaited<ReturnType<typeof testLakehouse>>;

const post = (lh: Lh, body: unknown) => send(lh, "POST", "/v1/embed", body);

describe("POST /v1/embed with the default hash provider", () => {
  let lh: Lh;
  beforeAll(async () => {
    lh = await testLakehouse({ embed: { max_batch: 3 } });
  });
  afterAll(() => lh.close());

  test("returns {model, dimension, vectors} in input order, and counts the cache", async () => {
    const res = await post(lh, { texts: ["night shift forklift", "registered nurse", "night shift forklift"] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      model: "hash-384",
      dimension: 384,
      vectors: [hashEmbed("night shift forklift", 384), hashEmbed("registered nurse", 384), hashEmbed("night shift forklift", 384)],
    });
    await post(lh, { texts: ["registered nurse"] });
    const stats = await call(lh, "/v1/embed/stats");
    expect(stats.status).toBe(200);
    expect(await stats.json()).toEqual({ hits: 1, misses: 3, hit_rate: 0.25, size: 2 });
  });

  test("an empty string or a non-string is a 400 naming its index", async () => {
    const res = await post(lh, { texts: ["fine", "", 12] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { path: string }[] } };
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details.map((d) => d.path)).toEqual(["texts[1]", "texts[2]"]);
  });

  test("a lone surrogate (valid JSON, invalid Unicode) is a 400 naming its index", async () => {
    const res = await post(lh, { texts: ["fine", "half \uD800 pair"] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { details: unknown } }).error.details).toEqual([
      { path: "texts[1]", message: "is not well-formed Unicode (lone surrogate)" },
    ]);
  });

  test("a batch over embed.max_batch is a 400", async () => {
    const res = await post(lh, { texts: ["a", "b", "c", "d"] });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("at most 3 texts per request");
  });

  test("a model no offline embedder serves is a 400 naming the ones served", async () => {
    const res = await post(lh, { texts: ["a"], model: "nomic-embed-text" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toStartWith(
      'no embedding model "nomic-embed-text" here: the offline models are "hash-<8..8192>"',
    );
  });

  test("both routes are in the OpenAPI document", async () => {
    const doc = (await (await call(lh, "/v1/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths["/v1/embed"]!)).toEqual(["post"]);
    expect(Object.keys(doc.paths["/v1/embed/stats"]!)).toEqual(["get"]);
  });
});

describe("POST /v1/embed against an Ollama server", () => {
  let ollama: FakeUpstream;
  let lh: Lh;
  beforeAll(async () => {
    ollama = startFakeOllama();
    lh = await testLakehouse({ embed: { provider: "ollama", timeout_ms: 500, ollama: { url: ollama.url } } });
  });
  afterAll(async () => {
    await lh.close();
    await ollama.stop();
  });

  test("embeds through the upstream with the default model", async () => {
    const res = await post(lh, { texts: ["a", "b"] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      model: "nomic-embed-text",
      dimension: 6,
      vectors: [fakeVector("nomic-embed-text", "a"), fakeVector("nomic-embed-text", "b")],
    });
  });

  test("an upstream failure is a 502 naming the provider, and health turns degraded until a success", async () => {
    ollama.behaviour.fail = { status: 500, body: { error: "llama runner process has terminated" } };
    const res = await post(lh, { texts: ["fresh text"] });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toEqual({
      code: "upstream_error",
      message: "embedding provider ollama failed with HTTP 500: llama runner process has terminated",
      details: { provider: "ollama", status: 500 },
    } as never);
    const health = (await (await call(lh, "/health")).json()) as { modules: Record<string, string> };
    expect(health.modules.embed).toBe("degraded");
    delete ollama.behaviour.fail;
    expect((await post(lh, { texts: ["fresh text"] })).status).toBe(200);
    expect(((await (await call(lh, "/health")).json()) as { modules: Record<string, string> }).modules.embed).toBe("ok");
  });

  test("a batch that outlives embed.timeout_ms is a 504", async () => {
    ollama.behaviour.hang = true;
    const res = await post(lh, { texts: ["slow one", "slow two"] });
    delete ollama.behaviour.hang;
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "timeout",
      message: "embedding by provider ollama took longer than 500 ms",
    });
  });
});

describe("POST /v1/embed against an OpenAI-compatible server", () => {
  const KEY = "sk-proj-SECRETSECRET0123456789";
  let openai: FakeUpstream;
  beforeAll(() => {
    openai = startFakeOpenAI(KEY);
  });
  afterAll(() => openai.stop());

  test("sends the configured key and answers with the upstream's vectors", async () => {
    const lh = await testLakehouse({ embed: { provider: "openai", openai: { url: `${openai.url}/v1`, api_key: KEY } } });
    const res = await post(lh, { texts: ["q"], model: "text-embedding-3-large" });
    await lh.close();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ model: "text-embedding-3-large", dimension: 6, vectors: [fakeVector("text-embedding-3-large", "q")] });
    expect(openai.requests.at(-1)!.headers.get("authorization")).toBe(`Bearer ${KEY}`);
  });

  test("a rejected key is a 502 whose body holds neither key nor upstream URL", async () => {
    const wrong = "sk-proj-WRONGWRONG0123456789";
    const lh = await testLakehouse({ embed: { provider: "openai", openai: { url: `${openai.url}/v1`, api_key: wrong } } });
    const res = await post(lh, { texts: ["q"] });
    await lh.close();
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).toContain("openai");
    for (const leak of [wrong, "WRONGWRONG", "sk-pro", KEY, openai.url]) expect(text).not.toContain(leak);
  });

  test("an unreachable server is a 502 that does not name its address", async () => {
    const url = await deadUrl();
    const lh = await testLakehouse({ embed: { provider: "openai", openai: { url: `${url}/v1`, api_key: KEY } } });
    const res = await post(lh, { texts: ["q"] });
    await lh.close();
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).toContain("embedding provider openai is unreachable");
    expect(text).not.toContain(url);
  });
});
