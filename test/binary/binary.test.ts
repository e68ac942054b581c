// Issue 15: `bun run build` makes one executable that runs copied alone into an empty directory (no
// node_modules, no sources, a native cache of its own): version and check-config, then a server:
// /health, a CSV ingest, SQL (JSON and Arrow), a vector index, MCP tools/list, a graceful stop, a
// restart with everything still there. Its helpers are the same executable started by command.
// The build takes 2–4 s here (docs/benchmarks.md, "Single binary").
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { call, json, post } from "../support/http.ts";
import { tempDir } from "../support/tmp.ts";
import { type Built, binaryEnv, buildTo, type Installed, installAlone, type Running, runToEnd, startServer } from "./run-binary.ts";

const ROOT = join(import.meta.dir, "..", "..");
const LIB = join(ROOT, "node_modules", "@duckdb", `node-bindings-${process.platform}-${process.arch}`, "libduckdb.so");
/** The MCP endpoint is another module (src/mcp); checked here once src/app.ts mounts it. */

let built: Built;
let inst: Installed;
const running: Running[] = [];

beforeAll(async () => {
  built = await buildTo();
  inst = installAlone(built.path);
  console.log(`binary: ${(built.bytes / 2 ** 20).toFixed(1)} MiB built in ${(built.ms / 1000).toFixed(1)} s`);
}, 180_000);

afterAll(async () => {
  for (const r of running) if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
  await Promise.all(running.map((r) => r.proc.exited));
  // Two copies of a 183 MiB binary and a 67 MiB library per run: not left in the temp directory.
  for (const dir of [dirname(built.path), inst.dir, dirname(inst.cache), inst.home]) rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]) => runToEnd([inst.exe, ...args], inst.dir, binaryEnv(inst));

async function start(): Promise<Running> {
  const r = await startServer([inst.exe], inst.dir, binaryEnv(inst));
  running.push(r);
  return r;
}

async function stop(r: Running): Promise<void> {
  r.proc.kill("SIGTERM");
  expect(await r.proc.exited).toBe(0);
  expect(r.stdout()).toContain('"msg":"stopped"');
}

/** Children of `pid` with their argv, from /proc. */
function children(pid: number): string[][] {
  const out: string[][] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1]) !== pid) continue;
      out.push(readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean));
    } catch {
      // it ended meanwhile
    }
  }
  return out;
}

/** MCP over Streamable HTTP with plain fetch: initialize, initialized, tools/list. */
async function mcpToolNames(url: string): Promise<string[]> {
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  const rpc = async (res: Response) => {
    const text = await res.text();
    // JSON, or one server-sent event carrying it.
    return JSON.parse(
      res.headers.get("content-type")?.includes("text/event-stream")
        ? text
            .split("\n")
            .find((l) => l.startsWith("data:"))!
            .slice(5)
        : text,
    );
  };
  const init = await fetch(`${url}/v1/mcp`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "binary-smoke", version: "1" } },
    }),
  });
  expect(init.status).toBe(200);
  const session = init.headers.get("mcp-session-id");
  expect((await rpc(init)).result.serverInfo).toBeDefined();
  const withSession = { ...headers, ...(session ? { "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" } : {}) };
  const note = await fetch(`${url}/v1/mcp`, {
    method: "POST",
    headers: withSession,
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  expect(note.status).toBe(202);
  await note.body?.cancel();
  const list = await fetch(`${url}/v1/mcp`, {
    method: "POST",
    headers: withSession,
    body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} }),
  });
  expect(list.status).toBe(200);
  return ((await rpc(list)).result.tools as { name: string }[]).map((t) => t.name);
}

/** The same through `lakehouse mcp --url` (the stdio bridge, a second process of the same executable). */
async function mcpToolNamesOverStdio(url: string): Promise<string[]> {
  const proc = Bun.spawn([inst.exe, "mcp", "--url", url], { cwd: inst.dir, env: binaryEnv(inst), stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const answer = async (id: number) => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl !== -1) {
        const msg = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (msg.id === id) return msg;
        continue;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error(`the bridge ended: ${await new Response(proc.stderr).text()}`);
      buffered += value;
    }
  };
  const say = (m: unknown) => proc.stdin.write(`${JSON.stringify(m)}\n`);
  say({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "binary-stdio", version: "1" } },
  });
  expect((await answer(1)).result.serverInfo).toBeDefined();
  say({ jsonrpc: "2.0", method: "notifications/initialized" });
  say({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
  const tools = ((await answer(2)).result.tools as { name: string }[]).map((t) => t.name);
  await proc.stdin.end();
  expect(await proc.exited).toBe(0);
  clearTimeout(timer);
  return tools;
}

test("the executable alone: version loads DuckDB from its own cache, hnswlib and the SIMD kernels", async () => {
  expect(readdirSync(inst.dir)).toEqual(["lakehouse"]);
  const out = await run(["version", "--json"]);
  expect(out.stderr).toBe("");
  expect(out.code).toBe(0);
  const v = JSON.parse(out.stdout);
  expect(v).toMatchObject({ bun: Bun.version, hnswlib_node: "3.0.0", vector_kernels: "wasm simd128" });
  expect(v.duckdb).toMatch(/^v\d+\.\d+\.\d+/);
  expect(v.build).toMatchObject({ target: `${process.platform}-${process.arch}` });
  // Content-addressed: the directory is the library's sha256, private to this user.
  const sha = createHash("sha256").update(readFileSync(LIB)).digest("hex");
  expect(v.build.native_cache).toBe(join(inst.cache, sha, "libduckdb.so"));
  expect(readdirSync(inst.cache)).toEqual([sha]);
  expect(statSync(join(inst.cache, sha)).mode & 0o777).toBe(0o700);
  expect(statSync(v.build.native_cache).size).toBe(statSync(LIB).size);
  // A second run reuses the copy.
  const mtime = statSync(v.build.native_cache).mtimeMs;
  expect((await run(["version"])).code).toBe(0);
  expect(statSync(v.build.native_cache).mtimeMs).toBe(mtime);
}, 60_000);

test("the executable's command line: check-config redacts, an unknown command is exit 2", async () => {
  const checked = await runToEnd([inst.exe, "check-config"], inst.dir, binaryEnv(inst, { LH_AUTH_TOKEN: "bin-secret-31" }));
  expect(checked.code).toBe(0);
  expect((Bun.TOML.parse(checked.stdout) as { auth: { token: string } }).auth.token).toBe("[redacted]");
  expect(checked.stdout).not.toContain("bin-secret-31");
  // A .env beside it is not read: the configuration has one source (README, "Configuration").
  const withDotenv = tempDir("lh-bin-dotenv-");
  writeFileSync(join(withDotenv, ".env"), "LH_AUTH_TOKEN=from-dotenv\nLH_SQL_MAX_ROWS=5\n");
  const ignored = await runToEnd([inst.exe, "check-config"], withDotenv, binaryEnv(inst));
  expect(ignored.code).toBe(0);
  expect(Bun.TOML.parse(ignored.stdout)).toMatchObject({ auth: { token: "" }, sql: { max_rows: 10_000 } });
  rmSync(withDotenv, { recursive: true, force: true });
  const bad = await run(["frobnicate"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('unknown command "frobnicate"');
  expect(bad.stderr).toContain("Usage: lakehouse");
}, 60_000);

test("the executable serves: ingest, SQL, vectors, MCP; its helpers are itself; a graceful stop and a restart keep everything", async () => {
  const first = await start();
  const pid = first.proc.pid;
  expect((await json(call(first.url, "/health"))).status).toBe("ok");

  const csv = "id,zip,name\n1,02134,ann\n2,60601,bob\n3,94105,cy\n";
  const ingested = await json(call(first.url, "/v1/ingest/people", { method: "POST", headers: { "content-type": "text/csv" }, body: csv }));
  expect(ingested).toMatchObject({ result: "created", rows: 3 });
  const q = await json(post(first.url, "/v1/sql", { sql: "select id, zip, name from people order by id" }));
  expect(q.rows).toEqual([
    [1, "02134", "ann"],
    [2, "60601", "bob"],
    [3, "94105", "cy"],
  ]);
  const arrow = await call(first.url, "/v1/sql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/vnd.apache.arrow.stream" },
    body: JSON.stringify({ sql: "select zip from people order by id" }),
  });
  expect(arrow.status).toBe(200);
  expect(
    tableFromIPC(new Uint8Array(await arrow.arrayBuffer()))
      .getChild("zip")!
      .toArray(),
  ).toEqual(["02134", "60601", "94105"]);

  expect((await post(first.url, "/v1/vectors/indexes", { name: "things", dim: 3, metric: "cosine" })).status).toBe(201);
  const upserted = await json(
    post(first.url, "/v1/vectors/indexes/things/upsert", {
      items: [
        { id: "a", vector: [1, 0, 0], metadata: { kind: "x" } },
        { id: "b", vector: [0, 1, 0], metadata: { kind: "y" } },
        { id: "c", vector: [0, 0, 1], metadata: { kind: "x" } },
      ],
    }),
  );
  expect(upserted.upserted).toBe(3);
  const search = { vector: [0.9, 0.1, 0.2], k: 2, filter: { kind: "x" } };
  const hits = (await json(post(first.url, "/v1/vectors/indexes/things/search", search))).hits;
  expect(hits.map((h: { id: string }) => h.id)).toEqual(["a", "c"]);

  // The SQL worker and the warm converter are this executable, told apart by their command.
  const helpers = children(pid).filter((argv) => argv[0] === inst.exe);
  expect(helpers.map((argv) => argv[1]).sort()).toEqual(expect.arrayContaining(["__convert-warm-worker", "__sql-worker"]));
  expect(helpers.every((argv) => argv.length >= 3 && argv[2]!.startsWith("--lakehouse-worker="))).toBe(true);

  const tools = await mcpToolNames(first.url);
  expect(tools).toEqual(expect.arrayContaining(["sql_query", "list_datasets", "vector_search"]));
  expect((await mcpToolNamesOverStdio(first.url)).sort()).toEqual([...tools].sort());

  await stop(first);
  expect(readdirSync(inst.dir).sort()).toEqual(["data", "lakehouse"]);

  const second = await start();
  expect((await json(post(second.url, "/v1/sql", { sql: "select count(*) as n, min(zip) as z from people" }))).rows).toEqual([[3, "02134"]]);
  const again = (await json(post(second.url, "/v1/vectors/indexes/things/search", search))).hits;
  expect(again).toEqual(hits);
  await stop(second);
  expect(existsSync(join(inst.dir, "data"))).toBe(true);
}, 120_000);

test("the executable carries the words embedder's table: embed.provider = words works with no node_modules", async () => {
  const data = tempDir("lh-bin-words-");
  const r = await startServer([inst.exe], inst.dir, binaryEnv(inst, { LH_EMBED_PROVIDER: "words", LH_STORAGE_FS_ROOT: data }));
  running.push(r);
  const out = await json(
    post(r.url, "/v1/embed", { texts: ["forklift operator night shift", "overnight lift truck driver", "registered nurse pediatric ward"] }),
  );
  expect(out).toMatchObject({ model: "words-sg100-v1", dimension: 100 });
  const [a, b, c] = out.vectors as number[][];
  const cos = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0) / Math.hypot(...x) / Math.hypot(...y);
  // Meaning, not shared words: the forklift job is nearer the lift-truck driver than the nurse.
  expect(cos(a!, b!)).toBeGreaterThan(cos(a!, c!));
  await stop(r);
}, 60_000);
