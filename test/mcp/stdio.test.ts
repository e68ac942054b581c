// MCP over stdio: the SDK's client starts the bridge as a real child process (test/mcp/stdio-entry.ts,
// what `lakehouse mcp` runs), which bridges to a real server's /v1/mcp.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { Bridge, parseStdioArgs } from "../../src/mcp/stdio.ts";
import { TOOLS } from "../../src/mcp/tools.ts";
import type { Running } from "../../src/serve.ts";
import { call } from "../support/http.ts";
import { initializeRequest, seededServer, TOKEN, WORKER_ROWS } from "./fixtures.ts";

const ENTRY = join(import.meta.dir, "stdio-entry.ts");
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" };

let running: Running;
beforeAll(async () => {
  running = await seededServer();
}, 60_000);
afterAll(() => running?.shutdown());

async function stdioClient(args: string[]): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [ENTRY, ...args], env, stderr: "pipe" });
  const client = new Client({ name: "lakehouse-stdio-test", version: "0" });
  await client.connect(transport);
  return client;
}

test("through the bridge process: tools and resources listed, a tool's happy path and a bad input", async () => {
  const client = await stdioClient(["--url", running.url, "--token", TOKEN]);
  try {
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));
    const r = (await client.callTool({ name: "sql_query", arguments: { sql: "select count(*) as n from workers" } })) as any;
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent.rows).toEqual([[WORKER_ROWS]]);
    const bad = (await client.callTool({ name: "sql_query", arguments: { sql: "" } })) as any;
    expect(bad.isError).toBe(true);
    expect(bad.structuredContent.error.code).toBe("validation_failed");
    expect((await client.listResources()).resources.map((x) => x.uri)).toContain("lakehouse://datasets/workers");
  } finally {
    await client.close();
  }
}, 30_000);

test("the token can come from LH_AUTH_TOKEN; a wrong one is reported to the client, not swallowed", async () => {
  expect(parseStdioArgs([], { LH_AUTH_TOKEN: "from-env" })).toMatchObject({ token: "from-env" });
  expect(String((parseStdioArgs(["--url", "http://h:1/base/"], {}) as { url: URL }).url)).toBe("http://h:1/base/v1/mcp");
  const err = await stdioClient(["--url", running.url, "--token", "wrong"]).then(
    (c) => c.close().then(() => null),
    (e) => e,
  );
  expect(String(err)).toContain("unauthorized");
}, 30_000);

test("the bridge exits 0 when its client closes stdin, and 2 with usage on a bad argument", async () => {
  const proc = Bun.spawn([process.execPath, ENTRY, "--url", running.url, "--token", TOKEN], { env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(`${JSON.stringify(initializeRequest(7))}\n`);
  proc.stdin.flush();
  const reader = proc.stdout.getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  expect(JSON.parse(out.split("\n")[0]!)).toMatchObject({ id: 7, result: { serverInfo: { name: "lakehouse" } } });
  proc.stdin.end();
  expect(await proc.exited).toBe(0);

  const bad = Bun.spawn([process.execPath, ENTRY, "--bogus"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  expect(await bad.exited).toBe(2);
  expect(await new Response(bad.stderr).text()).toContain("usage: lakehouse mcp");
}, 30_000);

test("a session the server closed is initialized again with the client's own request, and the message delivered", async () => {
  const got: JSONRPCMessage[] = [];
  const bridge = new Bridge({ url: new URL(`${running.url}/v1/mcp`), token: TOKEN }, async (m) => {
    got.push(m);
  });
  try {
    await bridge.forward(initializeRequest(1) as JSONRPCMessage);
    await bridge.forward({ jsonrpc: "2.0", method: "notifications/initialized" });
    const first = bridge.sessionId!;
    const del = await call(running.url, "/v1/mcp", { method: "DELETE", headers: { authorization: `Bearer ${TOKEN}`, "mcp-session-id": first } });
    expect(del.status).toBe(200);
    await bridge.forward({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    expect(bridge.sessionId).toBeDefined();
    expect(bridge.sessionId).not.toBe(first);
    // The client sees its own answers only: the initialize it sent, then its tools/list.
    expect(got.map((m) => (m as { id?: unknown }).id)).toEqual([1, 2]);
    expect((got[1] as any).result.tools).toHaveLength(TOOLS.length);
  } finally {
    await bridge.close();
  }
});
