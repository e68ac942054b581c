// MCP over Streamable HTTP at /v1/mcp, with the SDK's own client against a real server: tools and
// resources listed, each tool's happy path and one bad input, errors as tool errors with the
// envelope's code, capped results, the caller's identity carried into the operation, auth and
// Origin refused before MCP, sessions per client.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { DEFAULT_SQL_ROWS, TOOLS } from "../../src/mcp/tools.ts";
import type { Running } from "../../src/serve.ts";
import { call, json } from "../support/http.ts";
import { connect, initializeRequest, rawPost, seededServer, TOKEN, WORKER_ROWS } from "./fixtures.ts";

let running: Running;
let client: Client;
beforeAll(async () => {
  running = await seededServer();
  client = await connect(running.url);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await running?.shutdown();
});

type Answer = { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: any };
const callTool = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }) as Promise<Answer>;
async function ok(name: string, args: Record<string, unknown>): Promise<any> {
  const r = await callTool(name, args);
  if (r.isError) throw new Error(`${name}: ${r.content[0]?.text}`);
  return r.structuredContent;
}
async function fails(name: string, args: Record<string, unknown>): Promise<{ code: string; message: string; details?: any; text: string }> {
  const r = await callTool(name, args);
  expect(r.isError).toBe(true);
  return { ...r.structuredContent.error, text: r.content[0]!.text };
}

describe("tools", () => {
  test("every curated tool is listed with its operation's description and an object input schema from its valibot schemas", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe("object");
      expect(tool.description!.length).toBeGreaterThan(20);
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    // From sql.query's SqlRequest: sql required, shape left out (the tool answers arrays for its table).
    expect(byName.sql_query!.inputSchema.required).toEqual(["sql"]);
    expect(Object.keys(byName.sql_query!.inputSchema.properties!)).toEqual(["sql", "params", "max_rows"]);
    expect(byName.sql_query!.description).toContain("read-only");
    // Path and body fields side by side: vector.search's {name} and its body.
    expect(byName.vector_search!.inputSchema.required).toEqual(expect.arrayContaining(["name", "vector"]));
    // A single trace, not the batch form of POST /v1/pathway/traces.
    expect(byName.memory_add!.inputSchema.properties).not.toHaveProperty("traces");
    expect(byName.memory_add!.inputSchema.required).toEqual(["kind", "content"]);
    expect(byName.list_datasets!.annotations?.readOnlyHint).toBe(true);
    expect(byName.memory_add!.annotations?.readOnlyHint).toBe(false);
  });

  test("sql_query: a small table in text, columns and rows as structured content", async () => {
    const r = await callTool("sql_query", { sql: "select worker_id, hourly_rate from workers order by worker_id limit 2" });
    expect(r.structuredContent.columns.map((c: any) => c.name)).toEqual(["worker_id", "hourly_rate"]);
    expect(r.structuredContent.rows).toEqual([
      ["W00000", expect.any(Number)],
      ["W00001", expect.any(Number)],
    ]);
    expect(r.content[0]!.text.split("\n").slice(0, 3)).toEqual(["| worker_id | hourly_rate |", "|---|---|", `| W00000 | ${r.structuredContent.rows[0][1]} |`]);
    expect(r.content[0]!.text).toContain("2 rows");
  });

  test("sql_query: bad input and a writing statement are tool errors with the envelope's code", async () => {
    const missing = await fails("sql_query", {});
    expect(missing.code).toBe("validation_failed");
    expect(missing.details).toEqual([expect.objectContaining({ path: "sql" })]);
    expect(missing.text).toStartWith("validation_failed: ");
    const write = await fails("sql_query", { sql: "delete from workers" });
    expect(write.code).toBe("bad_request");
    expect((await ok("sql_query", { sql: "select count(*) as n from workers" })).rows).toEqual([[WORKER_ROWS]]);
  });

  test(`sql_query answers ${DEFAULT_SQL_ROWS} rows unless asked, and says the rest is cut`, async () => {
    const r = await ok("sql_query", { sql: "select range as i from range(500)" });
    expect(r.rows).toHaveLength(DEFAULT_SQL_ROWS);
    expect(r.truncated).toBe(true);
    expect(r.message).toContain("/v1/sql/export");
    expect((await ok("sql_query", { sql: "select range as i from range(500)", max_rows: 300 })).rows).toHaveLength(300);
  });

  test("a result over the byte cap is cut at its rows, with a note naming the export", async () => {
    const r = await callTool("sql_query", { sql: "select range as i, repeat('x', 500) as pad from range(1000)", max_rows: 1000 });
    const s = r.structuredContent;
    expect(s.capped).toMatchObject({ field: "rows", of: 1000 });
    expect(s.capped.kept).toBeGreaterThan(10);
    expect(s.capped.kept).toBeLessThan(1000);
    expect(s.rows).toHaveLength(s.capped.kept);
    expect(s.row_count).toBe(s.capped.kept);
    expect(s.truncated).toBe(true);
    expect(s.capped.how_to_get_the_rest).toContain("POST /v1/sql/export");
    expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThanOrEqual(48 * 1024);
    expect(r.content[0]!.text).toContain(`Cut to ${s.capped.kept} of 1000 rows`);
  });

  test("list_datasets and describe_dataset", async () => {
    const list = await ok("list_datasets", {});
    expect(list.datasets.map((d: any) => d.name)).toContain("workers");
    const one = await ok("describe_dataset", { name: "workers" });
    expect(one).toMatchObject({ name: "workers", row_count: WORKER_ROWS });
    expect(one.fields.map((f: any) => f.name)).toContain("hourly_rate");
    expect((await fails("describe_dataset", { name: "nope" })).code).toBe("not_found");
  });

  test("matrix_search, then record_outcome for one of its results", async () => {
    const found = await ok("matrix_search", { query: "Forklift Operator in Chicago", k: 3 });
    expect(found.results.length).toBeGreaterThan(0);
    const top = found.results[0];
    expect(top.corpus).toBe("workers");
    const recorded = await ok("record_outcome", { query: "Forklift Operator in Chicago", corpus: "workers", id: top.id, outcome: "success" });
    expect(recorded).toMatchObject({ corpus: "workers", item_id: top.id, outcome: "success" });
    expect((await fails("matrix_search", { k: 3 })).code).toBe("validation_failed");
    expect((await fails("record_outcome", { query: "x", corpus: "workers", id: top.id, outcome: "meh" })).code).toBe("validation_failed");
  });

  test("vector_search and embed", async () => {
    const hits = await ok("vector_search", { name: "notes", vector: [0.9, 0.1, 0], k: 2 });
    expect(hits.hits.map((h: any) => h.id)).toEqual(["a", "b"]);
    expect((await fails("vector_search", { name: "notes", vector: [1, 0], k: 2 })).code).toBe("validation_failed");
    const embedded = await ok("embed", { texts: ["forklift", "welder"] });
    expect(embedded.vectors).toHaveLength(2);
    expect(embedded.vectors[0]).toHaveLength(embedded.dimension);
    expect((await fails("embed", { texts: [] })).code).toBe("validation_failed");
  });

  test("memory: add, search, revise, retire, history; the caller's identity is the actor", async () => {
    const added = await ok("memory_add", { user_id: "u1", kind: "preference", content: "prefers night shifts in Joliet" });
    expect(added.result).toBe("created");
    const uid = added.trace.uid;
    const found = await ok("memory_search", { query: "night shifts", user_id: "u1" });
    expect(found.hits.map((h: any) => h.trace.uid)).toContain(uid);
    const revised = await ok("memory_revise", { uid, content: "prefers day shifts in Joliet" });
    expect(revised.predecessor.superseded_by).toBe(revised.trace.uid);
    const retired = await ok("memory_retire", { uid: revised.trace.uid, expected_version: 1 });
    expect(retired.retired_at).toEqual(expect.any(String));
    const history = await ok("memory_history", { uid: revised.trace.uid });
    // Newest first: the new trace (retired, then as revised), then the old one (superseded, then as added).
    expect(history.versions.map((t: any) => [t.uid, t.version])).toEqual([
      [revised.trace.uid, 2],
      [revised.trace.uid, 1],
      [uid, 2],
      [uid, 1],
    ]);
    // Bad inputs: no content; the batch form the tool does not take; a wrong expected version.
    expect((await fails("memory_add", { kind: "fact" })).code).toBe("validation_failed");
    expect((await fails("memory_add", { traces: [{ kind: "fact", content: "x" }] })).code).toBe("validation_failed");
    expect((await fails("memory_retire", { uid, expected_version: 7 })).code).toBe("conflict");
    expect((await fails("memory_history", { uid: "no-such-trace" })).code).toBe("not_found");
    // Recorded as the authenticated caller over the network, as over HTTP: not "internal".
    const audit = await json(call(running.url, `/v1/pathway/audit?uid=${uid}`, {}, { token: TOKEN }));
    expect(audit.receipts[0].actor).toBe("token@127.0.0.1");
  });

  test("observer_review and observer_event", async () => {
    const review = await ok("observer_review", {
      claim: { workers: WORKER_ROWS },
      evidence: [{ sql: "select count(*) from workers", expect: WORKER_ROWS }],
    });
    expect(review.verdict).toBe("accept");
    expect((await fails("observer_review", { claim: { a: 1 } })).code).toBe("validation_failed");
    const event = await ok("observer_event", { source: "agent", kind: "placed", payload: { worker: "W00001" } });
    expect(event).toEqual({ accepted: 1, ids: [expect.any(Number)] });
    expect((await fails("observer_event", { source: "agent", kind: "bad kind!", payload: {} })).code).toBe("validation_failed");
  });

  test("workflow_run, then workflow_status until it succeeds", async () => {
    const started = await ok("workflow_run", { workflow: { steps: [{ id: "n", mode: "transform", input: { from: [1, 2, 3], count: true } }] } });
    expect(started.id).toMatch(/^r/);
    let run: any;
    for (let i = 0; i < 200; i++) {
      run = await ok("workflow_status", { id: started.id });
      if (run.status === "succeeded" || run.status === "failed") break;
      await Bun.sleep(10);
    }
    expect(run.status).toBe("succeeded");
    expect((await fails("workflow_run", { workflow: { steps: [{ id: "a", mode: "transform", input: { from: 1 }, needs: ["zz"] }] } })).code).toBe(
      "validation_failed",
    );
    expect((await fails("workflow_status", { id: "r00000000" })).code).toBe("not_found");
  });

  test("an unknown tool is a protocol error (invalid params)", async () => {
    const err = await client.callTool({ name: "drop_everything", arguments: {} }).then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(McpError);
    expect(err.code).toBe(-32602);
  });
});

describe("resources", () => {
  test("each dataset and the OpenAPI document are listed; a dataset reads as schema, row count and 20 sample rows", async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining(["lakehouse://openapi.json", "lakehouse://datasets/workers"]));
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(["lakehouse://datasets/{name}"]);
    const read = await client.readResource({ uri: "lakehouse://datasets/workers" });
    const body = JSON.parse((read.contents[0] as { text: string }).text);
    expect(body).toMatchObject({ name: "workers", row_count: WORKER_ROWS, version: 1 });
    expect(body.fields.map((f: any) => f.name)).toContain("worker_id");
    expect(body.sample_rows).toHaveLength(20);
    expect(body.sample_rows[0]).toHaveProperty("worker_id");
    const doc = JSON.parse(((await client.readResource({ uri: "lakehouse://openapi.json" })).contents[0] as { text: string }).text);
    expect(doc.openapi).toBe("3.1.0");
  });

  test("an unknown dataset is resource-not-found", async () => {
    const err = await client.readResource({ uri: "lakehouse://datasets/nope" }).then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(McpError);
    expect(err.code).toBe(-32002);
  });
});

describe("the endpoint", () => {
  test("401 without the token or with a wrong one: the same auth as every /v1 route, before MCP", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong" }] as Record<string, string>[]) {
      const res = await rawPost(running.url, headers);
      expect(res.status).toBe(401);
      expect((await json(res)).error.code).toBe("unauthorized");
    }
    expect(
      await connect(running.url, {}).then(
        () => "connected",
        (e) => String(e),
      ),
    ).toContain("unauthorized");
  });

  test("a foreign Origin is refused (403 forbidden_host); a loopback origin is let in", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const evil = await rawPost(running.url, { ...auth, origin: "https://evil.example" });
    expect(evil.status).toBe(403);
    expect((await json(evil)).error.code).toBe("forbidden_host");
    const nullOrigin = await rawPost(running.url, { ...auth, origin: "null" });
    expect(nullOrigin.status).toBe(403);
    const local = await rawPost(running.url, { ...auth, origin: "http://localhost:6274" });
    expect(local.status).toBe(200);
    await call(running.url, "/v1/mcp", { method: "DELETE", headers: { ...auth, "mcp-session-id": local.headers.get("mcp-session-id")! } });
  });

  test("sessions: two clients at once, an unknown session is 404, DELETE ends one, GET is 405", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const second = await connect(running.url);
    const [a, b] = await Promise.all([ok("list_datasets", {}), second.callTool({ name: "list_datasets", arguments: {} }) as Promise<Answer>]);
    expect(b.structuredContent.datasets).toEqual(a.datasets);
    await second.close();

    const unknown = await rawPost(running.url, { ...auth, "mcp-session-id": crypto.randomUUID() }, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    expect(unknown.status).toBe(404);
    const init = await rawPost(running.url, auth, initializeRequest());
    const session = init.headers.get("mcp-session-id")!;
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    const get = await call(running.url, "/v1/mcp", { headers: { ...auth, accept: "text/event-stream", "mcp-session-id": session } });
    expect(get.status).toBe(405);
    const del = await call(running.url, "/v1/mcp", { method: "DELETE", headers: { ...auth, "mcp-session-id": session } });
    expect(del.status).toBe(200);
    const after = await rawPost(running.url, { ...auth, "mcp-session-id": session }, { jsonrpc: "2.0", id: 3, method: "tools/list" });
    expect(after.status).toBe(404);
  });

  test("a request without a session that is not initialize is refused and leaves no session behind", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const res = await rawPost(running.url, auth, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(res.status).toBe(400);
    expect(res.headers.get("mcp-session-id")).toBeNull();
  });
});
