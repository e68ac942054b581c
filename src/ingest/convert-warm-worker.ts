// Entry point of the warm conversion process (started through src/lib/worker-process.ts as
// "convert-warm"): its settings as JSON, the last argument; then one job per stdin line, one
// outcome per stdout line, in order. One sandboxed DuckDB instance serves every job: its settings
// are the same for all of them (the spool directory is this server instance's own), and opening
// one costs ≈15 ms of a small upload's ≈35 ms (measured here). warm-worker.ts recycles the process
// after a number of jobs or past an RSS bound, so nothing a job leaves behind accumulates.
import { convertOn, openSandboxed } from "./duckdb-convert.ts";

export interface WarmSettings {
  spoolDir: string;
  threads: number;
  memoryLimit: string;
}

const settings = JSON.parse(process.argv.at(-1) ?? "{}") as WarmSettings;
const db = await openSandboxed(settings.spoolDir, settings.threads, settings.memoryLimit);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of console) {
  if (!line.trim()) continue;
  const outcome = await convertOn(db.c, JSON.parse(line));
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}
db.close();
