import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Timeout, UpstreamError } from "../../src/errors.ts";
import { OpenAIProvider } from "../../src/embed/openai.ts";
import { type FakeUpstream, fakeVector, startFakeOpenAI } from "./fake-upstreams.ts";

const KEY = "sk-test-9f8e7d6c5b4a39281706";

let keyed: FakeUpstream;
let open: FakeUpstream;
beforeAll(() => {
  keyed = startFakeOpenAI(KEY);
  open = startFakeOpenAI();
});
afterAll(async () => {
  await keyed.stop();
  await open.stop();
});
afterEach(() => {
  keyed.reset();
  open.reset();
});

const provider = (apiKey = KEY, server = keyed) => new OpenAIProvider({ url: `${server.url}/v1`, model: "text-embedding-3-small", apiKey });

describe("OpenAIProvider", () => {
  test("POSTs <url>/embeddings {model, input, encoding_format} with the bearer key", async () => {
    const out = await provider().embed(["alpha", "beta"]);
    expect(out).toEqual([fakeVector("text-embedding-3-small", "alpha"), fakeVector("text-embedding-3-small", "beta")]);
    expect(keyed.requests).toHaveLength(1);
    const req = keyed.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/v1/embeddings");
    expect(req.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(req.body).toEqual({ model: "text-embedding-3-small", input: ["alpha", "beta"], encoding_format: "float" });
  });

  test("sends no Authorization header when no key is configured (vLLM, llama.cpp, TEI)", async () => {
    await provider("", open).embed(["x"], "bge-small");
    expect(open.requests[0]!.headers.has("authorization")).toBe(false);
    expect((open.requests[0]!.body as { model: string }).model).toBe("bge-small");
  });

  test("puts answers back in input order by their index", async () => {
    keyed.behaviour.reverse = true;
    const texts = ["one", "two", "three"];
    const p = provider();
    expect(await p.embed(texts)).toEqual(texts.map((t) => fakeVector("text-embedding-3-small", t)));
    expect(p.dimension).toBe(fakeVector("m", "x").length);
  });

  test("a rejected key is a 502-class error that never echoes the key, not even masked", async () => {
    const err = await provider("sk-wrong-00000000000000000000")
      .embed(["x"])
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.message).toBe("embedding provider openai rejected our credentials (HTTP 401)");
    expect(JSON.stringify(err.details)).not.toContain("sk-");
  });

  test("an upstream message quoting the key is redacted", async () => {
    keyed.behaviour.fail = {
      status: 400,
      body: { error: { message: `bad request for key ${KEY} at https://u:p@api.example/v1`, type: "invalid_request_error" } },
    };
    const err = await provider()
      .embed(["x"])
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.message).toStartWith("embedding provider openai failed with HTTP 400: bad request for key [redacted]");
    expect(err.message).not.toContain(KEY);
    expect(err.message).not.toContain("u:p@");
  });

  test("a redirect is not followed, so the key never reaches another host", async () => {
    keyed.behaviour.redirectTo = `${open.url}/v1/embeddings`;
    const err = await provider()
      .embed(["x"])
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.message).toBe("embedding provider openai failed with HTTP 307");
    expect(open.requests).toHaveLength(0);
  });

  test.each([
    ["missing data", { object: "list" }],
    [
      "repeated index",
      {
        data: [
          { index: 0, embedding: [1] },
          { index: 0, embedding: [1] },
        ],
      },
    ],
    [
      "out-of-range index",
      {
        data: [
          { index: 0, embedding: [1] },
          { index: 2, embedding: [1] },
        ],
      },
    ],
    [
      "non-numeric embedding",
      {
        data: [
          { index: 0, embedding: ["a"] },
          { index: 1, embedding: ["b"] },
        ],
      },
    ],
  ])("%s is an UpstreamError", async (_name, body) => {
    keyed.behaviour.raw = JSON.stringify(body);
    await expect(provider().embed(["a", "b"])).rejects.toBeInstanceOf(UpstreamError);
  });

  test("a fired signal ends a hanging call with Timeout", async () => {
    keyed.behaviour.hang = true;
    await expect(provider().embed(["x"], undefined, AbortSignal.timeout(50))).rejects.toBeInstanceOf(Timeout);
  });
});
