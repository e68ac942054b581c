// HTTP edge benchmark: requests/s and p50/p99 on loopback for GET /health through the full edge
// (router + auth + access log) against a bare Bun.serve in the same run, and 4 KiB PUT-then-GET
// pairs on the fs store. Server and load client are separate processes.
// usage: bun scripts/bench/http.ts [seconds=10] [concurrency=32]
import { join } from "node:path";
import { tempDir } from "../../test/support/tmp.ts";
import { machineLine, writeSection } from "./report.ts";

const seconds = Number(Bun.argv[2] ?? 10);
const concurrency = Number(Bun.argv[3] ?? 32);
const root = join(import.meta.dir, "..", "..");
const token = "bench-token";

interface Load {
  ops: number;
  per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

async function startServer(cmd: string[], env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = Bun.spawn(cmd, { cwd: root, env: { ...process.env, ...env }, stdout: "pipe", stderr: "ignore" });
  const reader = proc.stdout.getReader();
  let text = "";
  let url: string | undefined;
  while (!url) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited before listening`);
    text += new TextDecoder().decode(value);
    url = text
      .split("\n")
      .map((l) => (l.includes('"listen"') ? (JSON.parse(l).listen as string) : undefined))
      .find(Boolean);
  }
  // Keep draining stdout (the access log) so the server never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return {
    url,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

async function load(mode: "get" | "putget", url: string, auth?: string): Promise<Load> {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "http-load.ts"), mode, url, String(concurrency), String(seconds), ...(auth ? [auth] : [])], {
    cwd: root,
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

const fmt = (l: Load) => `${Math.round(l.per_s).toLocaleString("en-US")}/s, p50 ${l.p50_ms.toFixed(2)} ms, p99 ${l.p99_ms.toFixed(2)} ms, errors ${l.errors}`;

const bare = await startServer(["bun", "scripts/bench/bare-server.ts"], {});
const bareLoad = await load("get", bare.url);
await bare.stop();

const hono = await startServer(["bun", "scripts/bench/hono-server.ts"], {});
const honoLoad = await load("get", `${hono.url}/health`);
await hono.stop();

const lakehouse = (fsync: boolean) =>
  startServer(["bun", "src/main.ts"], {
    LH_SERVER_BIND: "127.0.0.1:0",
    LH_STORAGE_FS_ROOT: tempDir("lh-bench-http-"),
    LH_STORAGE_FS_FSYNC: String(fsync),
    LH_AUTH_TOKEN: token,
    LH_SERVER_ACCESS_LOG: "true",
  });
const lake = await lakehouse(true);
const healthLoad = await load("get", `${lake.url}/health`, token);
const pairLoad = await load("putget", `${lake.url}/v1/storage/objects`, token);
await lake.stop();
const unsynced = await lakehouse(false);
const unsyncedPairLoad = await load("putget", `${unsynced.url}/v1/storage/objects`, token);
await unsynced.stop();

const ratio = healthLoad.per_s / bareLoad.per_s;
const lines = [
  "## HTTP edge",
  "",
  `Command: \`bun scripts/bench/http.ts ${seconds} ${concurrency}\` (${machineLine()}). Server and load client are separate processes on loopback; ${concurrency} keep-alive connections, ${seconds} s per run.`,
  "",
  "| what | throughput and latency | target |",
  "|---|---|---|",
  `| bare \`Bun.serve\` returning "ok" (ceiling) | ${fmt(bareLoad)} | — |`,
  `| Hono, one route, the same JSON body, no middleware (reference) | ${fmt(honoLoad)} (${(honoLoad.per_s / bareLoad.per_s).toFixed(2)}× bare) | — |`,
  `| \`GET /health\` through the full edge (router, request id, access log on, auth middleware) | ${fmt(healthLoad)} | — |`,
  `| full edge / bare | **${ratio.toFixed(2)}×** | ≥ 0.8× |`,
  `| 4 KiB PUT then GET pairs, fs store (default: file and directory fsynced before the PUT is answered), bearer auth, access log on | ${fmt(pairLoad)} (pairs) | ≥ 5,000 pairs/s |`,
  `| the same with \`storage.fs.fsync = false\` (survives kill -9, not power loss) | ${fmt(unsyncedPairLoad)} (pairs) | — |`,
];
console.log(lines.join("\n"));
writeSection("http", lines.join("\n"));
