// The conversion process dying is a clean answer, never a bare 500: a crash inside DuckDB (a real
// SIGSEGV on input nested 100,000 levels, which the ingest path now refuses before DuckDB sees it),
// a kill from outside (SIGKILL, as the out-of-memory killer sends) and a shutdown. And how it is
// started: through the one place that decides how helpers are spawned.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Converter } from "../../src/ingest/convert.ts";
import { memoryLogger } from "../../src/log.ts";
import { tempDir } from "../support/tmp.ts";

const CSV_OPTS = { header: true, delimiter: ",", nulls: [""] };

function converter() {
  const spool = tempDir("lh-convert-");
  const log = memoryLogger();
  return { spool, log, conv: new Converter(spool, { threads: 1, memoryLimit: "256MB", concurrency: 2 }, log) };
}

/** The pid of the conversion process whose command line names `marker`, once it runs. */
async function workerPid(marker: string): Promise<number> {
  for (;;) {
    for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)) return Number(pid);
      } catch {
        // gone meanwhile
      }
    }
    await Bun.sleep(2);
  }
}

/** A CSV big enough that converting it takes far longer than finding its process. */
function bigCsv(path: string): void {
  const rows = Array.from({ length: 400_000 }, (_, i) => `${i},worker number ${i},${"x".repeat(40)},${i % 97}`);
  writeFileSync(path, `id,name,notes,n\n${rows.join("\n")}\n`);
}

test("DuckDB crashing on an upload (SIGSEGV) is 422 unprocessable naming the signal", async () => {
  const { spool, log, conv } = converter();
  const input = join(spool, "deep.ndjson");
  writeFileSync(input, `{"x":${"[".repeat(100_000)}1${"]".repeat(100_000)}}\n`);
  const err = await conv.convert(input, join(spool, "out.parquet"), "ndjson", CSV_OPTS).then(
    () => null,
    (e) => e,
  );
  expect(err).toMatchObject({ code: "unprocessable", details: { signal: "SIGSEGV" } });
  expect(err.message).toContain("nothing was stored");
  expect(err.message).not.toContain(spool);
  expect(log.lines.some((l) => l.level === "error" && l.msg === "ingest conversion process failed")).toBe(true);
}, 30_000);

test("a conversion process killed from outside (SIGKILL) is 503 unavailable naming the signal", async () => {
  const { spool, conv } = converter();
  const input = join(spool, "big.csv");
  bigCsv(input);
  const output = join(spool, "killed.parquet");
  const pending = conv.convert(input, output, "csv", CSV_OPTS).then(
    () => null,
    (e) => e,
  );
  process.kill(await workerPid(output), "SIGKILL");
  expect(await pending).toMatchObject({ code: "unavailable", details: { signal: "SIGKILL" } });
}, 30_000);

test("a conversion stopped by shutdown says the server is shutting down", async () => {
  const { spool, conv } = converter();
  const input = join(spool, "big.csv");
  bigCsv(input);
  const output = join(spool, "closed.parquet");
  const pending = conv.convert(input, output, "csv", CSV_OPTS).then(
    () => null,
    (e) => e,
  );
  await workerPid(output);
  conv.close();
  const err = await pending;
  expect(err).toMatchObject({ code: "unavailable", details: { signal: "SIGTERM" } });
  expect(err.message).toContain("shutting down");
}, 30_000);

test("the conversion process is started as a `convert` worker (src/lib/worker-process.ts), with none of the server's environment", async () => {
  const { spool, conv } = converter();
  const input = join(spool, "big.csv");
  bigCsv(input);
  const output = join(spool, "role.parquet");
  const saved = process.env.LH_AUTH_TOKEN;
  process.env.LH_AUTH_TOKEN = "convert-env-secret";
  try {
    const pending = conv.convert(input, output, "csv", CSV_OPTS);
    const pid = await workerPid(output);
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    expect(argv.slice(0, 4)).toEqual([process.execPath, expect.stringMatching(/\/src\/main\.ts$/), "__convert-worker", "--lakehouse-worker=convert"]);
    expect(JSON.parse(argv[4]!)).toMatchObject({ input, output, format: "csv" });
    expect(readFileSync(`/proc/${pid}/environ`, "utf8")).not.toContain("convert-env-secret");
    expect(await pending).toMatchObject({ rows: 400_000 });
  } finally {
    if (saved === undefined) delete process.env.LH_AUTH_TOKEN;
    else process.env.LH_AUTH_TOKEN = saved;
  }
}, 30_000);
