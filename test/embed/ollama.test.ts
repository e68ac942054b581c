import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Timeout, UpstreamError } from "../../src/errors.ts";
import { OllamaProvider } from "../../src/embed/ollama.ts";
import { deadUrl, type FakeUpstream, fakeVector, startFakeOllama } from "./fake-upstreams.ts";

let ollama: FakeUpstream;
beforeAll(() => {
  ollama = startFakeOllama();
});
afterAll(() => ollama.stop());
afterEach(() => ollama.reset());

const provider = () => new OllamaProvider({ url: ollama.url, model: "nomic-embed-text" });

describe("OllamaProvider", () => {
  test("sends one batch POST /api/embed {model, input} and returns the embeddings in order", async () => {
    const p = provider();
    expect(p.dimension).toBeUndefined();
    const out = await p.embed(["first text", "second text"]);
    expect(out).toEqual([fakeVector("nomic-embed-text", "first text"), fakeVector("nomic-embed-text", "second text")]);
    expect(ollama.requests).toHaveLength(1);
    const req = ollama.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/api/embed");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(req.body).toEqual({ model: "nomic-embed-text", input: ["first text", "second text"] });
    expect(p.dimension).toBe(out[0]!.length);
  });

  test("uses the model it is given, and a base URL with a trailing slash", async () => {
    const p = new OllamaProvider({ url: `${ollama.url}/`, model: "nomic-embed-text" });
    await p.embed(["x"], "all-minilm");
    expect(ollama.requests[0]!.path).toBe("/api/embed");
    expect(ollama.requests[0]!.body).toEqual({ model: "all-minilm", input: ["x"] });
    expect(p.dimension).toBeUndefined();
  });

  test("an unknown model is an UpstreamError quoting Ollama's message, with the status", async () => {
    ollama.behaviour.models = ["nomic-embed-text"];
    const err = await provider()
      .embed(["x"], "no-such-model")
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.message).toBe('embedding provider ollama failed with HTTP 404: model "no-such-model" not found, try pulling it first');
    expect(err.details).toEqual({ provider: "ollama", status: 404 });
  });

  test("a non-JSON error page is reported by status only", async () => {
    ollama.behaviour.fail = { status: 500, body: "<html>oops</html>" };
    const err = await provider()
      .embed(["x"])
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.message).toBe("embedding provider ollama failed with HTTP 500");
  });

  test("a wrong number of embeddings or invalid JSON is an UpstreamError", async () => {
    ollama.behaviour.raw = JSON.stringify({ model: "m", embeddings: [[1, 2]] });
    await expect(provider().embed(["a", "b"])).rejects.toThrow("embedding provider ollama answered with 1 embeddings for 2 texts");
    ollama.behaviour.raw = "{not json";
    await expect(provider().embed(["a"])).rejects.toThrow("embedding provider ollama answered with invalid JSON");
  });

  test("an unreachable server is an UpstreamError that does not quote the URL", async () => {
    const url = await deadUrl();
    const err = await new OllamaProvider({ url, model: "m" }).embed(["x"]).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.message).toStartWith("embedding provider ollama is unreachable");
    expect(err.message).not.toContain("127.0.0.1");
  });

  test("a fired signal ends a hanging call with Timeout", async () => {
    ollama.behaviour.hang = true;
    const err = await provider()
      .embed(["x"], undefined, AbortSignal.timeout(50))
      .catch((e) => e);
    expect(err).toBeInstanceOf(Timeout);
    expect(err.message).toContain("ollama");
  });
  test("an answer longer than any honest one for the batch is an upstream error, not read whole", async () => {
    // One text: the cap is 16,384 numbers of 24 characters plus 64 KiB, about 460 KB.
    ollama.behaviour.raw = `{"embeddings": [[${"0.123456789,".repeat(100_000)}0.1]]}`;
    const err = await provider()
      .embed(["x"])
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.message).toBe(`embedding provider ollama answered with more than ${16_384 * 24 + 64 * 1024} bytes`);
  });
});
