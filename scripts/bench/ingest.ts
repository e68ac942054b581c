// Small ingests over HTTP against a real server process (issue 11, point 5): 1-row CSV appends
// (p50, p95) and 1 MiB CSV appends (p50) into a staffing workers dataset, converted by the warm
// conversion process (ingest.inline_max_bytes). Median of --runs runs, with their spread and the
// load average, since the machine is shared. Writes the "ingest" section of docs/benchmarks.md.
//
//   bun scripts/bench/ingest.ts [--runs 3] [--appends 100] [--mib-appends 10] [--rows 10000]
import { mkdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { machineLine, percentile, writeSection } from "./report.ts";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a, i, all) => (a.startsWith("--") ? [a.slice(2), all[i + 1]] : []))
    .filter((x) => x.length),
);
const RUNS = Number(args.runs ?? 3);
const APPENDS = Number(args.appends ?? 100);
const MIB_APPENDS = Number(args["mib-appends"] ?? 10);
const ROWS = Number(args.rows ?? 10_000);
const ROOT = join(import.meta.dir, "..", "..");
const WORK = "/tmp/lh-bench-ingest";
const MiB = 1024 * 1024;
mkdirSync(WORK, { recursive: true });

const CSV = join(WORK, `workers_${ROWS}.csv`);
if (!(await Bun.file(CSV).exists())) {
  const gen = Bun.spawnSync(["bun", join(ROOT, "scripts/datagen/gen_staffing.ts"), "--rows", String(ROWS), "--out", CSV], { stderr: "inherit" });
  if (gen.exitCode !== 0) throw new Error("datagen failed");
}
const text = readFileSync(CSV, "utf8");
const header = text.slice(0, text.indexOf("\n"));
// One data row, given a new worker_id each time so no upload is the "unchanged" one.
const sampleRow = text.slice(header.length + 1, text.indexOf("\n", header.length + 1)).replace(/^\d+,/, "");
// About 1 MiB of whole records from the start of the file (resume_text may hold quoted newlines:
// cut where a line starts with a worker id, which only a record start does).
const starts = [...text.matchAll(/\n(?=\d{6},)/g)].map((m) => m.index! + 1);
const cut = starts.find((i) => i >= MiB) ?? text.length;
const mibBody = text.slice(0, cut);
const mibBytes = Buffer.byteLength(mibBody);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function startServer(dataRoot: string): Promise<{ url: string; proc: ReturnType<typeof Bun.spawn> }> {
  const proc = Bun.spawn(["bun", join(ROOT, "src/main.ts")], {
    cwd: ROOT,
    env: { ...process.env, LH_STORAGE_FS_ROOT: dataRoot, LH_SERVER_BIND: "127.0.0.1:0", LH_SERVER_ACCESS_LOG: "false" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines = proc.stdout[Symbol.asyncIterator]();
  let buffered = "";
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error("server exited");
    buffered += new TextDecoder().decode(value);
    const line = buffered.split("\n").find((l) => l.includes('"lakehouse started"'));
    if (line) {
      // Keep draining its stdout so the server never blocks on a full pipe.
      void (async () => {
        for (;;) if ((await lines.next()).done) break;
      })();
      return { url: JSON.parse(line).listen, proc };
    }
  }
}

async function post(url: string, name: string, body: string, mode?: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${url}/v1/ingest/${name}${mode ? `?mode=${mode}` : ""}`, { method: "POST", headers: { "content-type": "text/csv" }, body });
  const out = (await res.json()) as { result?: string };
  const ms = performance.now() - t;
  if (res.status >= 300) throw new Error(`ingest ${name}: ${res.status} ${JSON.stringify(out)}`);
  return ms;
}

interface Run {
  row: { p50: number; p95: number };
  mib: { p50: number };
  load: [number, number];
}

let nextId = 900_000;
async function run(i: number): Promise<Run> {
  const loadStart = loadavg()[0]!;
  const dataRoot = join(WORK, `data-${process.pid}-${i}`);
  const { url, proc } = await startServer(dataRoot);
  try {
    await post(url, "workers", text);
    const one = () => post(url, "workers", `${header}\n${nextId++},${sampleRow}\n`, "append");
    for (let w = 0; w < 5; w++) await one();
    const rowMs: number[] = [];
    for (let k = 0; k < APPENDS; k++) rowMs.push(await one());
    rowMs.sort((a, b) => a - b);
    const mibMs: number[] = [];
    for (let k = 0; k < MIB_APPENDS; k++) {
      // A different first record each time, so the upload is new.
      mibMs.push(await post(url, "workers", `${mibBody}${nextId++},${sampleRow}\n`, "append"));
    }
    mibMs.sort((a, b) => a - b);
    const r: Run = { row: { p50: percentile(rowMs, 50), p95: percentile(rowMs, 95) }, mib: { p50: percentile(mibMs, 50) }, load: [loadStart, loadavg()[0]!] };
    console.log(
      `run ${i + 1}: 1-row p50 ${r.row.p50.toFixed(1)} ms, p95 ${r.row.p95.toFixed(1)} ms; 1 MiB p50 ${r.mib.p50.toFixed(1)} ms; load ${r.load.map((l) => l.toFixed(2)).join(" → ")}`,
    );
    return r;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    Bun.spawnSync(["rm", "-rf", dataRoot]);
  }
}

const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) runs.push(await run(i));

const ms = (x: number) => `${x.toFixed(1)} ms`;
const spread = (xs: number[]) => `${ms(Math.min(...xs))} – ${ms(Math.max(...xs))}`;
const row50 = runs.map((r) => r.row.p50);
const row95 = runs.map((r) => r.row.p95);
const mib50 = runs.map((r) => r.mib.p50);
const md = `
## Small ingests over HTTP

${machineLine()}. Command: \`bun scripts/bench/ingest.ts --runs ${RUNS} --appends ${APPENDS} --mib-appends ${MIB_APPENDS} --rows ${ROWS}\`.
A server process (\`src/main.ts\`, default config: \`ingest.inline_max_bytes\` = 8 MiB, fsync on) holds a ${ROWS.toLocaleString("en-US")}-row staffing
\`workers\` dataset (\`scripts/datagen/gen_staffing.ts\`); each request is a \`POST /v1/ingest/workers?mode=append\` of new rows, read
with the dataset's column types and converted by the warm conversion process, then stored, committed and visible to SQL
before the answer. Median of ${RUNS} runs (each a fresh server; ${APPENDS} 1-row appends after 5 warm-ups, then ${MIB_APPENDS} appends of ${(mibBytes / MiB).toFixed(2)} MiB).

| | median | spread over runs | target |
|---|---|---|---|
| 1-row CSV append, p50 | **${ms(median(row50))}** | ${spread(row50)} | ≤ 100 ms |
| 1-row CSV append, p95 | ${ms(median(row95))} | ${spread(row95)} | |
| 1 MiB CSV append, p50 | ${ms(median(mib50))} | ${spread(mib50)} | |

1-minute load average at the start and end of each run: ${runs.map((r) => r.load.map((l) => l.toFixed(2)).join(" → ")).join("; ")} (the machine is shared).
Before the warm process, every ingest started a conversion process: 0.3–3.0 s for a 2-row CSV (issue 11).
`;
writeSection("ingest", md);
console.log(md);
