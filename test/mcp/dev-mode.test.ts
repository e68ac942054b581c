// Without a token (dev mode) /v1/mcp is open to loopback callers only, like every /v1 route: the
// host gate refuses other Host and Origin values (DNS rebinding) before MCP sees the request.
import { afterAll, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";
import { initializeRequest } from "./fixtures.ts";

const lh = await testLakehouse();
afterAll(() => lh.close());

const init = (headers: Record<string, string>) =>
  call(lh, "/v1/mcp", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify(initializeRequest()),
  });

test("a loopback caller initializes without a token; a rebound Host or a foreign Origin is 403 forbidden_host", async () => {
  const ok = await init({});
  expect(ok.status).toBe(200);
  expect((await json(ok)).result.serverInfo.name).toBe("lakehouse");
  for (const headers of [{ host: "evil.example" }, { origin: "http://evil.example" }] as Record<string, string>[]) {
    const res = await init(headers);
    expect(res.status).toBe(403);
    expect((await json(res)).error.code).toBe("forbidden_host");
  }
});
