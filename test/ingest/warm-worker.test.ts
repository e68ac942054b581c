// Issue 11, point 5: uploads up to ingest.inline_max_bytes are converted by one warm, reused
// process. It is started like every helper (workerCommand "convert-warm", none of the server's
// environment), sandboxed like the per-upload one, replaced after a crash (the job it ran fails,
// the next one works), recycled after N jobs or past an RSS bound, and killed on close. Larger
// uploads keep their own process.
import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Converter } from "../../src/ingest/convert.ts";
import { memoryLogger } from "../../src/log.ts";
import { tempDir } from "../support/tmp.ts";

const CSV_OPTS = { header: true, delimiter: ",", nulls: [""] };

function converter(extra: { warmMaxJobs?: number; warmMaxRssBytes?: number; inlineMaxBytes?: number } = {}) {
  const spool = tempDir("lh-warm-");
  const log = memoryLogger();
  const conv = new Converter(spool, { threads: 1, memoryLimit: "256MB", concurrency: 1, inlineMaxBytes: 1024 * 1024, ...extra }, log);
  let n = 0;
  const csv = (body: string) => {
    const input = join(spool, `in-${++n}.csv`);
    writeFileSync(input, body);
    return conv.convert(input, join(spool, `out-${n}.parquet`), "csv", CSV_OPTS);
  };
  return { spool, log, conv, csv };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("small uploads share one warm process started as a convert-warm worker, with none of the server's environment", async () => {
  const saved = process.env.LH_AUTH_TOKEN;
  process.env.LH_AUTH_TOKEN = "warm-env-secret";
  const { conv, csv } = converter();
  try {
    expect(await csv("a,b\n1,x\n")).toMatchObject({ rows: 1 });
    const pid = conv.warm!.pid!;
    expect(await csv("a,b\n1,x\n2,y\n")).toMatchObject({ rows: 2 });
    expect(conv.warm!.pid).toBe(pid);
    expect(conv.warm!.started).toBe(1);
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    expect(argv.slice(0, 4)).toEqual([process.execPath, expect.stringMatching(/\/src\/main\.ts$/), "__convert-warm-worker", "--lakehouse-worker=convert-warm"]);
    expect(readFileSync(`/proc/${pid}/environ`, "utf8")).not.toContain("warm-env-secret");
  } finally {
    conv.close();
    if (saved === undefined) delete process.env.LH_AUTH_TOKEN;
    else process.env.LH_AUTH_TOKEN = saved;
  }
}, 30_000);

test("the warm process's DuckDB is sandboxed to the spool: a file outside it cannot be read", async () => {
  const { spool, conv } = converter();
  try {
    const err = await conv.convert("/etc/hostname", join(spool, "out.parquet"), "csv", CSV_OPTS).then(
      () => null,
      (e) => e,
    );
    expect(err).toMatchObject({ code: "bad_request" });
    expect(err.message).not.toContain("/etc/hostname");
    expect(conv.warm!.started).toBe(1);
  } finally {
    conv.close();
  }
}, 30_000);

test("a DuckDB crash in the warm process fails that upload (422) and the next one gets a new process", async () => {
  const { spool, conv, csv } = converter();
  try {
    await csv("a\n1\n");
    const first = conv.warm!.pid!;
    const input = join(spool, "deep.ndjson");
    writeFileSync(input, `{"x":${"[".repeat(100_000)}1${"]".repeat(100_000)}}\n`);
    const err = await conv.convert(input, join(spool, "deep.parquet"), "ndjson", CSV_OPTS).then(
      () => null,
      (e) => e,
    );
    expect(err).toMatchObject({ code: "unprocessable", details: { signal: "SIGSEGV" } });
    expect(alive(first)).toBe(false);
    expect(await csv("a\n2\n")).toMatchObject({ rows: 1 });
    expect(conv.warm!.pid).not.toBe(first);
    expect(conv.warm!.started).toBe(2);
  } finally {
    conv.close();
  }
}, 30_000);

test("a warm process killed while idle is replaced on the next upload", async () => {
  const { conv, csv } = converter();
  try {
    await csv("a\n1\n");
    const first = conv.warm!.pid!;
    process.kill(first, "SIGKILL");
    while (alive(first)) await Bun.sleep(5);
    // Its death was noticed while idle: the next upload starts a new process instead of failing.
    expect(await csv("a\n2\n")).toMatchObject({ rows: 1 });
    expect(await csv("a\n3\n")).toMatchObject({ rows: 1 });
    expect(conv.warm!.pid).not.toBe(first);
  } finally {
    conv.close();
  }
}, 30_000);

test("recycled after warmMaxJobs jobs and past the RSS bound", async () => {
  const byJobs = converter({ warmMaxJobs: 2 });
  try {
    await byJobs.csv("a\n1\n");
    const first = byJobs.conv.warm!.pid!;
    await byJobs.csv("a\n2\n");
    expect(byJobs.conv.warm!.pid).toBeUndefined();
    await byJobs.csv("a\n3\n");
    expect(byJobs.conv.warm!.pid).not.toBe(first);
    expect(byJobs.conv.warm!.started).toBe(2);
    expect(byJobs.log.lines.some((l) => l.msg === "recycling the warm conversion process")).toBe(true);
  } finally {
    byJobs.conv.close();
  }
  // Any process with DuckDB loaded is over 1 MiB: recycled after every job.
  const byRss = converter({ warmMaxRssBytes: 1024 * 1024 });
  try {
    await byRss.csv("a\n1\n");
    await byRss.csv("a\n2\n");
    expect(byRss.conv.warm!.started).toBe(2);
  } finally {
    byRss.conv.close();
  }
}, 30_000);

test("an upload over inline_max_bytes gets its own process; close kills the warm one", async () => {
  const { conv, csv } = converter({ inlineMaxBytes: 16 });
  try {
    expect(await csv("a,b\n1,x\n")).toMatchObject({ rows: 1 });
    expect(conv.warm!.started).toBe(1);
    expect(await csv(`a,b\n${"1,xxxxxxxx\n".repeat(10)}`)).toMatchObject({ rows: 10 });
    expect(conv.warm!.started).toBe(1);
    const pid = conv.warm!.pid!;
    conv.close();
    for (let i = 0; i < 200 && alive(pid); i++) await Bun.sleep(10);
    expect(alive(pid)).toBe(false);
    await expect(csv("a\n1\n")).rejects.toMatchObject({ code: "unavailable" });
  } finally {
    conv.close();
  }
}, 30_000);
