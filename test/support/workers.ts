// The SQL worker processes a server started (src/sql/worker-pool.ts), found through /proc, for
// tests that kill them or read their memory. Benchmarks import this on purpose (the soak kills
// workers): keep it free of bun:test.
import { readdirSync, readFileSync } from "node:fs";

function status(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
}

/** Pids of the live SQL workers whose parent is `parent` (this process by default). */
export function sqlWorkers(parent: number = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const st = status(pid);
    if (!st || Number(/PPid:\s+(\d+)/.exec(st)?.[1]) !== parent || /State:\s+Z/.test(st)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--lakehouse-worker=sql")) pids.push(pid);
    } catch {
      // it ended meanwhile
    }
  }
  return pids;
}

/** Resident memory of a process in bytes: now (VmRSS) or its peak so far (VmHWM); 0 once it is gone. */
export function rssOf(pid: number, which: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const m = new RegExp(`${which}:\\s+(\\d+) kB`).exec(status(pid) ?? "");
  return m ? Number(m[1]) * 1024 : 0;
}

/** Waits until `check` holds, polling; throws after `ms`. */
export async function until(check: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Waits until a Lakehouse has a SQL worker ready, so its start-up does not count against a statement's time. */
export function sqlReady(lh: { sql: { service: { health(): { detail?: Record<string, unknown> } } } }): Promise<void> {
  return until(() => Number(lh.sql.service.health().detail?.ready ?? 0) > 0, 30_000, "a SQL worker");
}
