// The memory caps of SQL statements, with a statement that would otherwise take the host down:
// `length(range(0, 2e9))` builds a 16 GB list whatever sql.memory_limit says (it grew a server to
// 18.8 GiB before). Its worker is killed at the cap, the statement answers 422 naming it, the
// server's own memory does not move, and the next statement is served by a fresh worker holding
// every view. A worker that dies for no reason of its statement's answers 503 with Retry-After.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { testLakehouse } from "../support/app.ts";
import { type Child, startChild } from "../support/child.ts";
import { json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { rows, sql } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";
import { rssOf, sqlWorkers, until } from "../support/workers.ts";

const MiB = 1024 * 1024;
const HOG = "SELECT length(range(0, 2000000000))";
/** A statement that runs for a while on little memory. */
const BUSY = "SELECT count(*) FROM range(20000) a, range(8000) b WHERE a.range * b.range = 7";
/** These tests start processes and build lists of hundreds of MiB: slow on a loaded 2-core machine. */
const SLOW_TEST_MS = 30_000;

describe("sql.max_statement_rss, on a server process", () => {
  let child: Child;
  beforeAll(async () => {
    child = await startChild({ LH_STORAGE_FS_ROOT: tempDir("lh-memcap-"), LH_SQL_MAX_STATEMENT_RSS: String(256 * MiB) });
    expect((await ingest(child.url, "people", "id,name\n1,ann\n2,bob\n")).status).toBe(201);
  });
  afterAll(async () => {
    child.proc.kill("SIGKILL");
    await child.proc.exited;
  });

  test(
    "the statement is killed at the cap with 422; the server does not grow; others keep running",
    async () => {
      const server = child.proc.pid;
      const peakBefore = rssOf(server, "VmHWM");
      const busy = sql(child.url, BUSY);
      const res = await sql(child.url, HOG);
      expect(res.status).toBe(422);
      const { error } = await json(res);
      expect(error).toMatchObject({ code: "resource_exhausted", details: { limit: "sql.max_statement_rss", limit_bytes: 256 * MiB } });
      expect(error.details.rss_bytes).toBeGreaterThan(256 * MiB);
      expect(error.message).toContain("256 MiB");
      // Another statement in flight on another worker is not touched.
      const other = await busy;
      expect(other.status).toBe(200);
      expect((await json(other)).rows).toEqual([[2]]);
      // The 16 GB list never came near the server: its peak is what it was, give or take a request.
      expect(rssOf(server, "VmHWM") - peakBefore).toBeLessThan(64 * MiB);
      expect(rssOf(server, "VmHWM")).toBeLessThan(256 * MiB);
    },
    SLOW_TEST_MS,
  );

  test("the next statement works, on workers that hold the views", async () => {
    expect(await rows(child.url, "SELECT count(*) FROM people")).toEqual([[2]]);
    expect(sqlWorkers(child.proc.pid).length).toBeGreaterThan(0);
    for (const pid of sqlWorkers(child.proc.pid)) expect(rssOf(pid)).toBeLessThan(256 * MiB);
  });

  test(
    "kill -9 of the server ends its workers (no orphans holding memory)",
    async () => {
      const workers = sqlWorkers(child.proc.pid);
      expect(workers.length).toBeGreaterThan(0);
      child.proc.kill("SIGKILL");
      await child.proc.exited;
      await until(() => workers.every((pid) => !existsSync(`/proc/${pid}`)), 10_000, "the workers to exit");
    },
    SLOW_TEST_MS,
  );
});

describe("SQL workers, in-process", () => {
  type LH = Awaited<ReturnType<typeof testLakehouse>>;
  let lh: LH;
  beforeAll(async () => {
    // The statement cap is out of reach: the total cap is what stops the statement.
    lh = await testLakehouse({ sql: { max_statement_rss: 8192 * MiB, max_total_rss: 512 * MiB } });
    expect((await ingest(lh, "people", "id,name\n1,ann\n2,bob\n")).status).toBe(201);
  });
  afterAll(() => lh.close());

  test(
    "sql.max_total_rss stops the largest statement with 422; this process does not grow",
    async () => {
      const before = process.memoryUsage().rss;
      const res = await sql(lh, HOG);
      expect(res.status).toBe(422);
      expect((await json(res)).error).toMatchObject({ code: "resource_exhausted", details: { limit: "sql.max_total_rss", limit_bytes: 512 * MiB } });
      expect(process.memoryUsage().rss - before).toBeLessThan(64 * MiB);
      expect(await rows(lh, "SELECT count(*) FROM people")).toEqual([[2]]);
    },
    SLOW_TEST_MS,
  );

  test(
    "a worker that dies under a statement: 503 with Retry-After, then fresh workers with every view",
    async () => {
      const pending = sql(lh, BUSY);
      await until(() => (lh.sql.service.health().detail as { busy: number }).busy === 1, 10_000, "the statement to start");
      const killed = sqlWorkers();
      expect(killed.length).toBeGreaterThan(0);
      for (const pid of killed) process.kill(pid, "SIGKILL");
      const res = await pending;
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect((await json(res)).error.code).toBe("unavailable");
      // Every worker alive now started after the kill, and replayed the view.
      expect(await rows(lh, "SELECT name FROM people ORDER BY id")).toEqual([["ann"], ["bob"]]);
      for (const pid of sqlWorkers()) expect(killed).not.toContain(pid);
      expect((lh.sql.service.health().detail as { crashed: number }).crashed).toBe(killed.length);
    },
    SLOW_TEST_MS,
  );
});
