// The SQL worker pool on its own: every worker holds every view (broadcast to running workers,
// replayed into new ones), a caller waits for a free worker no longer than its deadline, and
// workers that cannot start are reported to callers at once (503) and in health.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Timeout, Unavailable } from "../../src/errors.ts";
import { silentLogger } from "../../src/log.ts";
import type { StatementRequest } from "../../src/sql/execute.ts";
import { decodeWire } from "../../src/sql/wire.ts";
import type { SqlWorker } from "../../src/sql/worker-client.ts";
import { type PoolOptions, WorkerPool } from "../../src/sql/worker-pool.ts";
import { tempDir } from "../support/tmp.ts";

const GiB = 1024 ** 3;
const options = (size: number, extra: Partial<PoolOptions> = {}): PoolOptions => ({
  size,
  worker: { allowedDirs: [`${tempDir()}/`], threads: 1, memoryLimit: "256MB", exportDir: tempDir() },
  maxStatementRss: 2 * GiB,
  maxTotalRss: 8 * GiB,
  log: silentLogger,
  onReplayFailure: () => {},
  ...extra,
});

const request = (sql: string): StatementRequest => ({ sql, params: [], maxRows: 100, maxBytes: 1 << 20, format: "wire" });
const rowsOn = async (w: SqlWorker, sql: string) => {
  const answer = await w.query(request(sql)).answer;
  // A small answer crosses as JSON values, a large one as an Arrow stream.
  return answer.rows ?? decodeWire(answer.body).rows;
};
const far = () => performance.now() + 30_000;

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe("views in every worker", () => {
  test("a view set while three workers are held reaches each of them, and so does a drop", async () => {
    pool = WorkerPool.open(options(3));
    const held = await Promise.all([pool.acquire(far(), 30_000), pool.acquire(far(), 30_000), pool.acquire(far(), 30_000)]);
    expect(new Set(held.map((w) => w.pid)).size).toBe(3);
    await pool.setView("v", "CREATE OR REPLACE VIEW v AS SELECT 42 AS x");
    for (const w of held) expect(await rowsOn(w, "SELECT x FROM v")).toEqual([[42]]);
    await pool.dropView("v", "DROP VIEW IF EXISTS v");
    for (const w of held) await expect(rowsOn(w, "SELECT x FROM v")).rejects.toThrow(/does not exist/);
  });

  test("a worker started after the view was set replays it", async () => {
    pool = WorkerPool.open(options(1));
    await pool.setView("v", "CREATE OR REPLACE VIEW v AS SELECT 7 AS x");
    await pool.setView("w", "CREATE OR REPLACE VIEW w AS SELECT 8 AS y");
    const first = await pool.acquire(far(), 30_000);
    first.kill({ kind: "crashed", code: null, signal: "SIGKILL" });
    await first.exited;
    pool.release(first);
    const fresh = await pool.acquire(far(), 30_000);
    expect(fresh.pid).not.toBe(first.pid);
    expect(await rowsOn(fresh, "SELECT x, y FROM v, w")).toEqual([[7, 8]]);
  });

  test("a view that fails to replay is reported by name", async () => {
    const failures: string[] = [];
    const dir = tempDir();
    pool = WorkerPool.open(
      options(1, {
        worker: { allowedDirs: [`${dir}/`], threads: 1, memoryLimit: "256MB", exportDir: tempDir() },
        onReplayFailure: (name) => failures.push(name),
      }),
    );
    await Bun.write(`${dir}/a.csv`, "x\n1\n");
    pool.release(await pool.acquire(far(), 30_000));
    await pool.setView("gone", `CREATE OR REPLACE VIEW gone AS SELECT * FROM read_csv('${dir}/a.csv')`);
    await Bun.file(`${dir}/a.csv`).delete();
    const w = await pool.acquire(far(), 30_000);
    w.kill({ kind: "crashed", code: null, signal: "SIGKILL" });
    await w.exited;
    pool.release(w);
    await pool.acquire(far(), 30_000);
    expect(failures).toEqual(["gone"]);
  });
});

describe("waiting for a worker", () => {
  test("with every worker busy, a caller waits until its deadline, then gets Timeout", async () => {
    pool = WorkerPool.open(options(1));
    const held = await pool.acquire(far(), 30_000);
    const err = await pool.acquire(performance.now() + 100, 100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Timeout);
    expect((err as Timeout).details).toEqual({ timeout_ms: 100 });
    // The slot is handed on when the worker comes back.
    const next = pool.acquire(far(), 30_000);
    pool.release(held);
    expect((await next).pid).toBe(held.pid);
  });

  test("workers that cannot start: callers get 503 with Retry-After at once, and the pool says why", async () => {
    // A memory limit DuckDB refuses makes the sandbox fail in the worker.
    pool = WorkerPool.open(options(1, { worker: { allowedDirs: ["/nonexistent/"], threads: 1, memoryLimit: "lots", exportDir: tempDir() } }));
    const err = await pool.acquire(far(), 30_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unavailable);
    expect((err as Unavailable).retryAfter).toBe(1);
    expect(pool.failing).toContain("could not open its sandbox");
    // While the retry waits, a caller is answered at once rather than at its deadline.
    await expect(pool.acquire(far(), 30_000)).rejects.toBeInstanceOf(Unavailable);
  });
});

test("a worker gets none of the server's environment", async () => {
  process.env.LH_TEST_WORKER_SECRET = "s3cret-value";
  try {
    pool = WorkerPool.open(options(1));
    const w = await pool.acquire(far(), 30_000);
    const environ = readFileSync(`/proc/${w.pid}/environ`, "utf8");
    expect(environ).toContain("PATH=");
    expect(environ).not.toContain("s3cret-value");
  } finally {
    delete process.env.LH_TEST_WORKER_SECRET;
  }
});
