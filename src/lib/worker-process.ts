// The command that starts a helper process of this server. Today each role is a script run by the
// same Bun; in a single compiled binary `process.execPath` is the binary itself and the script path
// means nothing (docs: engine notes, "Bun's compiler"), so the command also names the role as an
// argument its main can dispatch on. Every helper is started through here.
import { join } from "node:path";

const ENTRIES = {
  sql: join(import.meta.dir, "..", "sql", "worker-main.ts"),
  convert: join(import.meta.dir, "..", "ingest", "convert-worker.ts"),
  /** The reused conversion process for small uploads: jobs on stdin, outcomes on stdout. */
  "convert-warm": join(import.meta.dir, "..", "ingest", "convert-warm-worker.ts"),
} as const;

export type WorkerRole = keyof typeof ENTRIES;

/** The flag naming a helper's role: `--lakehouse-worker=sql`. */
export const WORKER_FLAG = "--lakehouse-worker";

/** argv for a helper of `role`; `args` follow the role flag. */
export function workerCommand(role: WorkerRole, ...args: string[]): string[] {
  return [process.execPath, ENTRIES[role], `${WORKER_FLAG}=${role}`, ...args];
}

/**
 * The environment a helper gets: enough to run, none of the server's own (tokens, keys); `extra`
 * holds its own knobs (not `LH_*`, which the config loader validates).
 */
export function workerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...extra };
}
