// A real server (Bun.serve of the whole app on a loopback port, with a token) seeded with what every
// tool needs: a workers dataset, a matrix corpus over it and a small vector index. The MCP tests
// talk to it with the SDK's own client.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { silentLogger } from "../../src/log.ts";
import { type Running, serve } from "../../src/serve.ts";
import { WORKERS_CORPUS } from "../matrix/fixtures.ts";
import { testConfig } from "../support/app.ts";
import { call, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { toCsv, workers } from "../support/staffing.ts";

export const TOKEN = "mcp-test-token-0123456789";
export const WORKER_ROWS = 40;

export async function seededServer(): Promise<Running> {
  const running = await serve(testConfig({ server: { bind: "127.0.0.1:0" }, auth: { token: TOKEN } }), silentLogger);
  const target = running.url;
  const opts = { token: TOKEN };
  await ingestOk(target, "workers", toCsv(workers(WORKER_ROWS) as never), opts);
  const built = await post(target, "/v1/matrix/corpora", WORKERS_CORPUS, opts);
  if (built.status >= 300) throw new Error(`corpus: ${built.status} ${await built.text()}`);
  await running.lakehouse.matrix.corpora.settled(WORKERS_CORPUS.name);
  const index = await post(target, "/v1/vectors/indexes", { name: "notes", dim: 3, metric: "cosine" }, opts);
  if (index.status !== 201) throw new Error(`index: ${index.status} ${await index.text()}`);
  const items = [
    { id: "a", vector: [1, 0, 0], metadata: { topic: "pay" } },
    { id: "b", vector: [0, 1, 0], metadata: { topic: "shifts" } },
    { id: "c", vector: [0, 0, 1], metadata: { topic: "safety" } },
  ];
  const upserted = await post(target, "/v1/vectors/indexes/notes/upsert", { items }, opts);
  if (upserted.status !== 200) throw new Error(`upsert: ${upserted.status} ${await upserted.text()}`);
  return running;
}

/** The SDK's client, connected over Streamable HTTP to `url`'s /v1/mcp. */
export async function connect(url: string, opts: { token?: string; headers?: Record<string, string> } = { token: TOKEN }): Promise<Client> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/v1/mcp`), { requestInit: { headers } });
  const client = new Client({ name: "lakehouse-test", version: "0" });
  await client.connect(transport);
  return client;
}

/** A raw POST to /v1/mcp (an initialize request unless `body` says otherwise). */
export function rawPost(url: string, headers: Record<string, string>, body: unknown = initializeRequest()): Promise<Response> {
  return call(url, "/v1/mcp", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify(body),
  });
}

export function initializeRequest(id: number | string = 1) {
  return { jsonrpc: "2.0", id, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } } };
}
