// A scratch directory of one running instance (ingest spools, caches): <base>/<pid>-<random>. Opening
// one removes what instances that are gone left under the same base — a crash never runs a
// clean-up, and a per-pid name in /tmp leaked every crashed process's files forever — but never
// the directory of one still running, in this process (two Lakehouses in one test) or another.
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/** Work directories opened and not yet closed by this process. */
const live = new Set<string>();

/** The names this module gives; nothing else under a base is ever touched (a base may be shared). */
const NAME = /^(\d+)-[0-9a-f]{8}$/;

export interface WorkDir {
  readonly path: string;
  /** Removes the directory and everything in it. */
  close(): Promise<void>;
}

/**
 * Whether the process that named a directory `<pid>-…` may still be using it. A process of our own
 * pid is us, or a dead one whose pid we reuse (a container's server is pid 1 every time): ours are
 * in `live`; anything else of our pid is a leftover.
 */
function ownerAlive(name: string, base: string): boolean {
  const pid = Number(NAME.exec(name)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return live.has(join(base, name));
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user. A pid reused by an unrelated process keeps its
    // directory until that process ends too: a leak bounded by one directory, never a lost file.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the leftovers of dead instances under `base`; returns how many were removed. */
export async function removeLeftovers(base: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(base);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!NAME.test(name) || ownerAlive(name, base)) continue;
    await rm(join(base, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** Creates this instance's directory under `base`, after removing dead instances' leftovers. */
export async function openWorkDir(base: string): Promise<WorkDir & { leftoversRemoved: number }> {
  await mkdir(base, { recursive: true });
  const leftoversRemoved = await removeLeftovers(base);
  const path = join(base, `${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
  // Marked live before it exists: another instance of this process cleaning the same base
  // meanwhile must not take it for a leftover.
  live.add(path);
  try {
    await mkdir(path);
  } catch (err) {
    live.delete(path);
    throw err;
  }
  return {
    path,
    leftoversRemoved,
    async close() {
      try {
        await rm(path, { recursive: true, force: true });
      } finally {
        live.delete(path);
      }
    },
  };
}
