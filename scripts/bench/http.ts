// HTTP edge benchmark: requests/s and p50/p99 on loopback for GET /health through the full edge
// (router + auth + access log) against a bare Bun.serve in the same run, and 4 KiB PUT-then-GET
// pairs on the fs store. Server and load client are separate processes.
// usage: bun scripts/bench/http.ts [seconds=10] [concurrency=32] [rounds=3]
import { loadavg } from "node:os";
import { join } from "node:path";
import { tempDir } from "../../test/support/tmp.ts";
import { machineLine, writeSection } from "./report.ts";

const seconds = Number(Bun.argv[2] ?? 10);
const concurrency = Number(Bun.argv[3] ?? 32);
const rounds = Number(Bun.argv[4] ?? 3);
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

const lakehouse = (fsync: boolean) =>
  startServer(["bun", "src/main.ts"], {
    LH_SERVER_BIND: "127.0.0.1:0",
    LH_STORAGE_FS_ROOT: tempDir("lh-bench-http-"),
    LH_STORAGE_FS_FSYNC: String(fsync),
    LH_AUTH_TOKEN: token,
    LH_SERVER_ACCESS_LOG: "true",
  });

interface Round {
  bare: Load;
  hono: Load;
  health: Load;
  pairs: Load;
  unsyncedPairs: Load;
  load1: number;
}

// Rounds interleave the servers, so a noisy neighbour slows every row of a round alike; the
// ratios are taken within a round, then the median over rounds is reported with its range.
async function round(): Promise<Round> {
  const load1 = loadavg()[0]!;
  const bare = await startServer(["bun", "scripts/bench/bare-server.ts"], {});
  const bareLoad = await load("get", bare.url);
  await bare.stop();
  const hono = await startServer(["bun", "scripts/bench/hono-server.ts"], {});
  const honoLoad = await load("get", `${hono.url}/health`);
  await hono.stop();
  const lake = await lakehouse(true);
  const health = await load("get", `${lake.url}/health`, token);
  const pairs = await load("putget", `${lake.url}/v1/storage/objects`, token);
  await lake.stop();
  const unsynced = await lakehouse(false);
  const unsyncedPairs = await load("putget", `${unsynced.url}/v1/storage/objects`, token);
  await unsynced.stop();
  return { bare: bareLoad, hono: honoLoad, health, pairs, unsyncedPairs, load1 };
}

const results: Round[] = [];
for (let i = 0; i < rounds; i++) {
  results.push(await round());
  console.error(`round ${i + 1}/${rounds} done`);
}
const byRatio = (f: (r: Round) => number) => {
  const xs = results.map(f).sort((a, b) => a - b);
  return { median: xs[Math.floor(xs.length / 2)]!, min: xs[0]!, max: xs.at(-1)! };
};
const mid = <K extends keyof Round>(key: K, f: (r: Round) => number): Round[K] =>
  [...results].sort((a, b) => f(a) - f(b))[Math.floor(results.length / 2)]![key];
const range = (x: { median: number; min: number; max: number }, digits = 2) =>
  `**${x.median.toFixed(digits)}×** (${x.min.toFixed(digits)}–${x.max.toFixed(digits)})`;
const edge = byRatio((r) => r.health.per_s / r.bare.per_s);
const honoRatio = byRatio((r) => r.hono.per_s / r.bare.per_s);
const perS = (f: (r: Round) => Load) => {
  const xs = results.map((r) => f(r).per_s).sort((a, b) => a - b);
  return `${Math.round(xs[Math.floor(xs.length / 2)]!).toLocaleString("en-US")}/s median (${Math.round(xs[0]!).toLocaleString("en-US")}–${Math.round(xs.at(-1)!).toLocaleString("en-US")})`;
};
const lines = [
  "## HTTP edge",
  "",
  `Command: \`bun scripts/bench/http.ts ${seconds} ${concurrency} ${rounds}\` (${machineLine()}). Server and load client are separate processes on loopback; ${concurrency} keep-alive connections, ${seconds} s per run, ${rounds} rounds, each round running every row once in turn; medians over rounds with the range in brackets. 1-minute load average at the start of each round: ${results.map((r) => r.load1.toFixed(2)).join(", ")}.`,
  "",
  "| what | throughput and latency | target |",
  "|---|---|---|",
  `| bare \`Bun.serve\` returning "ok" (ceiling) | ${perS((r) => r.bare)}; median round: ${fmt(mid("bare", (r) => r.bare.per_s))} | — |`,
  `| Hono, one route, the same JSON body, no middleware (reference) | ${perS((r) => r.hono)}; ${range(honoRatio)} bare | — |`,
  `| \`GET /health\` through the full edge (router, request id, access log on, auth middleware) | ${perS((r) => r.health)}; median round: ${fmt(mid("health", (r) => r.health.per_s))} | — |`,
  `| full edge / bare, per round | ${range(edge)} | ≥ 0.8× |`,
  `| 4 KiB PUT then GET pairs, fs store (default: file and directory fsynced before the PUT is answered), bearer auth, access log on | ${perS((r) => r.pairs)} (pairs) | ≥ 5,000 pairs/s |`,
  `| the same with \`storage.fs.fsync = false\` (survives kill -9, not power loss) | ${perS((r) => r.unsyncedPairs)} (pairs) | — |`,
];
console.log(lines.join("\n"));
writeSection("http", lines.join("\n"));
