// The 3M-row part of the lakehouse benchmark (scripts/bench/lakehouse.ts runs it; `--only 3m` runs
// it alone): SQL's fixed cost per statement over HTTP against DuckDB called directly on the same
// Parquet, in interleaved rounds, and whole-result exports (csv, parquet, arrow) of the 3M rows
// with the server's RSS sampled while they stream.
import { DuckDBInstance } from "@duckdb/node-api";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { machineLine, percentile, writeSection } from "./report.ts";

const MiB = 1024 * 1024;
const rssNow = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const QUERIES: [string, string][] = [
  ["count(*)", "SELECT count(*) FROM workers3m"],
  ["GROUP BY state, count + avg", "SELECT state, count(*) AS n, avg(hourly_rate) AS avg_rate FROM workers3m GROUP BY state ORDER BY state"],
  ["filtered AVG", "SELECT avg(hourly_rate) FROM workers3m WHERE state = 'CA' AND available"],
];

/** A 3M-row staffing-like Parquet made by DuckDB from range() (no CSV to generate). */
async function makeParquet(path: string, rows: number): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  await c.run(`COPY (
    SELECT i AS worker_id, 'first' || (i % 5000) AS first_name, 'last' || (i % 20000) AS last_name,
           (['CA','TX','NY','FL','IL','PA','OH','GA','NC','MI'])[1 + (i % 10)::INT] || (i % 5)::VARCHAR AS state,
           10 + (hash(i) % 5000) / 100.0 AS hourly_rate, i % 3 <> 0 AS available,
           DATE '2020-01-01' + (i % 1500)::INT AS last_assignment_date
    FROM range(${rows}) t(i)) TO '${path}' (FORMAT parquet, COMPRESSION snappy)`);
  c.closeSync();
  db.closeSync();
}

async function startServer(root: string, dataRoot: string): Promise<{ url: string; proc: ReturnType<typeof Bun.spawn> }> {
  const proc = Bun.spawn(["bun", join(root, "src/main.ts")], {
    cwd: root,
    env: {
      ...process.env,
      LH_STORAGE_FS_ROOT: dataRoot,
      LH_SERVER_BIND: "127.0.0.1:0",
      LH_SERVER_ACCESS_LOG: "false",
      LH_INGEST_MAX_INGEST_BYTES: String(1024 * MiB),
      // The whole 3M-row CSV (≈ 330 MiB) is over the default 128 MiB.
      LH_SQL_MAX_EXPORT_BYTES: String(4096 * MiB),
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server exited");
    buffered += new TextDecoder().decode(value);
    const line = buffered.split("\n").find((l) => l.includes('"lakehouse started"'));
    if (line) {
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return { url: JSON.parse(line).listen, proc };
    }
  }
}

export async function run3m(opts: { root: string; work: string; rows: number; runs: number; queries: number }): Promise<void> {
  const { root, work, rows, runs, queries } = opts;
  mkdirSync(work, { recursive: true });
  const parquet = join(work, `workers_${rows}.parquet`);
  if (!existsSync(parquet)) await makeParquet(parquet, rows);
  const loadBefore = loadavg();
  const dataRoot = join(work, `data3m-${process.pid}`);
  const { url, proc } = await startServer(root, dataRoot);
  try {
    const ing = await fetch(`${url}/v1/ingest/workers3m`, {
      method: "POST",
      headers: { "content-type": "application/vnd.apache.parquet" },
      body: Bun.file(parquet),
    });
    if (ing.status !== 201) throw new Error(`ingest: ${ing.status} ${await ing.text()}`);
    const catalog = (await (await fetch(`${url}/v1/catalog/datasets/workers3m`)).json()) as { objects: { key: string }[] };
    const stored = join(dataRoot, "objects", catalog.objects[0]!.key);

    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    await conn.run("SET threads=2");
    await conn.run(`CREATE VIEW workers3m AS SELECT * FROM read_parquet('${stored}')`);

    const sample = async (fn: () => Promise<unknown>): Promise<number> => {
      for (let i = 0; i < 5; i++) await fn();
      const xs: number[] = [];
      for (let i = 0; i < queries; i++) {
        const t = performance.now();
        await fn();
        xs.push(performance.now() - t);
      }
      return percentile(
        xs.sort((a, b) => a - b),
        50,
      );
    };
    const http = (statement: string) => async () => {
      const res = await fetch(`${url}/v1/sql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sql: statement }) });
      if (res.status !== 200) throw new Error(`${statement}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    const raw = (statement: string) => async () => (await conn.runAndReadAll(statement)).getRows();

    // Rounds interleave HTTP and raw for every query, so both see the same background load.
    const rounds: Record<string, { http: number[]; raw: number[] }> = Object.fromEntries(QUERIES.map(([n]) => [n, { http: [], raw: [] }]));
    for (let r = 0; r < runs; r++) {
      for (const [name, statement] of QUERIES) {
        rounds[name]!.raw.push(await sample(raw(statement)));
        rounds[name]!.http.push(await sample(http(statement)));
        console.log(`round ${r + 1} ${name}: HTTP p50 ${rounds[name]!.http.at(-1)!.toFixed(2)} ms, raw p50 ${rounds[name]!.raw.at(-1)!.toFixed(2)} ms`);
      }
    }
    conn.closeSync();
    db.closeSync();

    // Exports of every row, the server's RSS sampled every 10 ms while each streams.
    const exports: { format: string; ms: number; bytes: number; rssBefore: number; rssPeak: number }[] = [];
    for (const format of ["csv", "parquet", "arrow"]) {
      const rssBefore = rssNow(proc.pid);
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, rssNow(proc.pid));
      }, 10);
      const t = performance.now();
      const res = await fetch(`${url}/v1/sql/export`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sql: "SELECT * FROM workers3m", format }),
      });
      if (res.status !== 200) throw new Error(`export ${format}: ${res.status} ${await res.text()}`);
      let bytes = 0;
      for await (const chunk of res.body!) bytes += chunk.length;
      const ms = performance.now() - t;
      clearInterval(sampler);
      exports.push({ format, ms, bytes, rssBefore, rssPeak });
      console.log(
        `export ${format}: ${(ms / 1000).toFixed(2)} s, ${(bytes / MiB).toFixed(0)} MiB, server RSS +${((rssPeak - rssBefore) / MiB).toFixed(1)} MiB`,
      );
    }

    const loadAfter = loadavg();
    const fmt = (xs: number[]) => `${median(xs).toFixed(2)} ms (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
    const rowsFor = QUERIES.map(([name]) => {
      const { http: h, raw: w } = rounds[name]!;
      const ratio = (median(h) - 2) / median(w);
      return `| ${name} | ${fmt(h)} | ${fmt(w)} | ${(median(h) - median(w)).toFixed(2)} ms | **${ratio.toFixed(2)}×** ${ratio <= 1.5 ? "(met)" : "(missed)"} |`;
    });
    const md = `
## Lakehouse: SQL fixed cost and export on ${rows.toLocaleString("en-US")} rows

${machineLine()}; 1-minute load average ${loadBefore[0]!.toFixed(2)} at the start and ${loadAfter[0]!.toFixed(2)} at the end (the machine is shared).
Command: \`bun scripts/bench/lakehouse.ts --only 3m --rows3m ${rows} --runs ${runs} --queries ${queries}\`. Data: a ${rows.toLocaleString("en-US")}-row, 7-column
Parquet made by DuckDB from \`range()\`, ingested through \`POST /v1/ingest\` (Parquet upload).

### Per-statement cost: HTTP vs DuckDB called directly on the same Parquet (p50 of ${queries} runs after 5 warm-ups; median of ${runs} interleaved rounds, range in brackets)

| query | HTTP p50 | direct DuckDB p50 (\`runAndReadAll\`, 2 threads) | fixed cost (HTTP − direct) | (HTTP p50 − 2 ms) / direct |
|---|---|---|---|---|
${rowsFor.join("\n")}

Target: (HTTP p50 − 2 ms) ≤ 1.5× direct DuckDB.

### Whole-result export of ${rows.toLocaleString("en-US")} rows (\`POST /v1/sql/export\`, \`SELECT * FROM workers3m\`)

| format | wall time | bytes | server RSS growth (peak while streaming − before) |
|---|---|---|---|
${exports.map((e) => `| ${e.format} | ${(e.ms / 1000).toFixed(2)} s | ${(e.bytes / MiB).toFixed(0)} MiB | ${((e.rssPeak - e.rssBefore) / MiB).toFixed(1)} MiB (${(e.rssBefore / MiB).toFixed(0)} → ${(e.rssPeak / MiB).toFixed(0)} MiB) |`).join("\n")}

Target: server RSS grows by less than 64 MiB. The result is encoded in a SQL worker and crosses in ≈1 MiB pieces, at most two
ahead of what the client has read (Parquet: written by DuckDB's COPY in the worker's own directory, then sent in pieces).
`;
    writeSection("lakehouse-3m", md);
    console.log(md);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    Bun.spawnSync(["rm", "-rf", dataRoot]);
  }
}
