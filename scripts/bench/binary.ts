// Single-binary benchmark (issue 15): build time and size, then start-up of the binary copied alone
// into an empty directory against `bun src/main.ts`: from the spawn to the port answering and to
// /health 200, on an empty data directory, stopped with SIGTERM after each run. The binary's first
// start on a machine copies libduckdb.so into its native cache ("first start": a fresh cache each
// run); later starts find the copy ("later start"). Median of N (min–max) and the load average.
//
//   bun scripts/bench/binary.ts [--runs 3] [--no-write]
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { binaryEnv, buildTo, installAlone } from "../../test/binary/run-binary.ts";
import { tempDir } from "../../test/support/tmp.ts";
import { freePort, log, machineLine, writeSection } from "./report.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "3" }, "no-write": { type: "boolean", default: false } } });
const RUNS = Number(args.runs);
const ROOT = join(import.meta.dir, "..", "..");

interface Timing {
  port: number;
  health: number;
}

/** Spawns `cmd`, polls /health every 5 ms: when anything answers, when it is 200; then SIGTERM and wait. */
async function startOnce(cmd: string[], cwd: string, env: Record<string, string>): Promise<Timing> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/health`;
  const t0 = performance.now();
  const proc = Bun.spawn(cmd, {
    cwd,
    env: { ...env, LH_SERVER_BIND: `127.0.0.1:${port}`, LH_STORAGE_FS_ROOT: tempDir("lh-bench-bin-data-") },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let answered = 0;
  try {
    for (;;) {
      if (performance.now() - t0 > 60_000 || proc.exitCode !== null) throw new Error(`no /health 200: ${await new Response(proc.stderr).text()}`);
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        answered ||= performance.now() - t0;
        if (res.status === 200) return { port: answered, health: performance.now() - t0 };
      } catch {
        // not listening yet
      }
      await Bun.sleep(5);
    }
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const cell = (xs: number[]) => `${secs(median(xs))} (${secs(Math.min(...xs))}–${secs(Math.max(...xs))})`;

log("building");
const built = await buildTo();
log(`built ${(built.bytes / 2 ** 20).toFixed(1)} MiB in ${built.ms} ms`);
const libBytes = Bun.file(join(ROOT, "node_modules", "@duckdb", `node-bindings-${process.platform}-${process.arch}`, "libduckdb.so")).size;

const rows: { what: string; timings: Timing[] }[] = [];
const measure = async (what: string, once: () => Promise<Timing>) => {
  const timings: Timing[] = [];
  for (let i = 0; i < RUNS; i++) timings.push(await once());
  log(what, timings.map((t) => `${Math.round(t.health)} ms`).join(", "));
  rows.push({ what, timings });
};

const inst = installAlone(built.path);
/** Every directory this run filled (a 183 MiB binary twice, a 67 MiB library per cache), removed at the end. */
const scratch = [dirname(built.path), inst.dir, inst.home, dirname(inst.cache)];
await measure("binary, first start (native cache empty)", () => {
  const fresh = { ...inst, cache: join(tempDir("lh-bench-bin-cache-"), "native") };
  scratch.push(dirname(fresh.cache));
  return startOnce([inst.exe], inst.dir, binaryEnv(fresh));
});
// Fills inst's own cache, so every measured "later" start finds the copy.
await startOnce([inst.exe], inst.dir, binaryEnv(inst));
await measure("binary, later start (native cache filled)", () => startOnce([inst.exe], inst.dir, binaryEnv(inst)));
await measure("`bun src/main.ts`", () =>
  startOnce(["bun", join(ROOT, "src", "main.ts")], tempDir("lh-bench-src-"), {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    LH_SERVER_ACCESS_LOG: "false",
  }),
);
const load = loadavg().map((x) => x.toFixed(2));

const md = `## Single binary: size, build and start-up

\`bun scripts/bench/binary.ts --runs ${RUNS}\` — ${machineLine()}; load average at the end ${load.join(", ")}.
\`bun run build\` (scripts/build-binary.ts) → \`dist/lakehouse\`: **${(built.bytes / 2 ** 20).toFixed(1)} MiB** (of which libduckdb.so
${(libBytes / 2 ** 20).toFixed(1)} MiB, extracted once to the native cache), built in ${(built.ms / 1000).toFixed(1)} s.
Start-up on an empty data directory, from the spawn; median of ${RUNS} (min–max):

| how | port answers | /health 200 |
|---|---|---|
${rows.map((r) => `| ${r.what} | ${cell(r.timings.map((t) => t.port))} | ${cell(r.timings.map((t) => t.health))} |`).join("\n")}

- The first start of a new build on a machine copies libduckdb.so into \`$XDG_CACHE_HOME/lakehouse/native/<sha256>/\` (or
  \`$LAKEHOUSE_NATIVE_CACHE\`); the SQL worker and the warm converter, started right after, find it there.
- The binary runs one bundled, minified module; \`bun src/main.ts\` transpiles each TypeScript file as it starts.
`;
console.log(md);
if (!args["no-write"]) writeSection("binary", md);
for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
