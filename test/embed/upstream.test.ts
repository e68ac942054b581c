import { describe, expect, test } from "bun:test";
import { UpstreamError } from "../../src/errors.ts";
import { checkVectors, endpoint, scrub, upstreamErrorText } from "../../src/embed/upstream.ts";

describe("upstreamErrorText", () => {
  test("reads Ollama's and OpenAI's error bodies, nothing else", () => {
    expect(upstreamErrorText(JSON.stringify({ error: 'model "x" not found, try pulling it first' }))).toBe('model "x" not found, try pulling it first');
    expect(upstreamErrorText(JSON.stringify({ error: { message: "bad input", type: "invalid_request_error" } }))).toBe("bad input");
    expect(upstreamErrorText("<html>502 Bad Gateway</html>")).toBeUndefined();
    expect(upstreamErrorText("null")).toBeUndefined();
  });
});

describe("scrub", () => {
  test("removes configured secrets, OpenAI-style keys (masked too), bearer tokens and URLs", () => {
    const key = "sk-live-0123456789abcdef";
    const out = scrub(`key ${key} rejected; masked sk-liv********cdef; Bearer abc.def; see https://user:pw@host/x and http://10.0.0.1:11434`, [key]);
    expect(out).not.toContain("0123456789");
    expect(out).not.toContain("sk-liv");
    expect(out).not.toContain("abc.def");
    expect(out).not.toContain("user:pw");
    expect(out).not.toContain("10.0.0.1");
    expect(out).toContain("[redacted]");
  });

  test("caps the length", () => {
    expect(scrub("x".repeat(5000)).length).toBeLessThanOrEqual(301);
  });
});

describe("checkVectors", () => {
  test("accepts one finite vector per text of one dimension", () => {
    expect(
      checkVectors(
        "p",
        [
          [1, 2],
          [3, 4],
        ],
        2,
      ),
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  test.each([
    ["not a list", { a: 1 }, 1],
    ["wrong count", [[1, 2]], 2],
    ["empty vector", [[]], 1],
    ["ragged", [[1, 2], [3]], 2],
    ["non-numeric", [[1, "2"]], 1],
    ["non-finite", [[1, null]], 1],
  ])("rejects %s as an UpstreamError naming the provider", (_name, vectors, count) => {
    expect(() => checkVectors("ollama", vectors, count)).toThrow(UpstreamError);
    expect(() => checkVectors("ollama", vectors, count)).toThrow(/ollama/);
  });
});

test("endpoint joins base and path with exactly one slash", () => {
  expect(endpoint("http://h:1/v1", "/embeddings")).toBe("http://h:1/v1/embeddings");
  expect(endpoint("http://h:1/v1//", "/embeddings")).toBe("http://h:1/v1/embeddings");
});
