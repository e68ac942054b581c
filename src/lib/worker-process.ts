// The command that starts a helper process of this server: this same program, with a command
// naming the helper (`lakehouse __sql-worker <payload>`), dispatched by src/cli/run.ts. In the
// single binary `process.execPath` is the binary itself and a script path means nothing (engine
// notes, "Bun's compiler"); from source it is Bun running src/main.ts. Either way the helper goes
// through the same dispatcher into the same entry module. Every helper is started through here.
import { join } from "node:path";

const COMMANDS = {
  sql: "__sql-worker",
  convert: "__convert-worker",
  /** The reused conversion process for small uploads: jobs on stdin, outcomes on stdout. */
  "convert-warm": "__convert-warm-worker",
} as const;

export type WorkerRole = keyof typeof COMMANDS;

/**
 * The flag naming a helper's role, `--lakehouse-worker=sql`, after the command: what a process
 * listing (and test/support/workers.ts) looks for to tell helpers from the server.
 */
export const WORKER_FLAG = "--lakehouse-worker";

const MAIN = join(import.meta.dir, "..", "main.ts");

/** How to start this program again: the binary alone, or Bun with the entry file. */
export function selfCommand(): string[] {
  return Bun.isStandaloneExecutable ? [process.execPath] : [process.execPath, MAIN];
}

/** argv for a helper of `role`; `args` follow the role flag, the last being the helper's payload. */
export function workerCommand(role: WorkerRole, ...args: string[]): string[] {
  return [...selfCommand(), COMMANDS[role], `${WORKER_FLAG}=${role}`, ...args];
}

/**
 * The environment a helper gets: enough to run, none of the server's own (tokens, keys); `extra`
 * holds its own knobs (not `LH_*`, which the config loader validates). The native library cache's
 * location is passed on, so a helper of the binary finds the copy the server made.
 */
export function workerEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" };
  for (const name of ["LAKEHOUSE_NATIVE_CACHE", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return { ...env, ...extra };
}
