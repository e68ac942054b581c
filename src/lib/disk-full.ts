// A full disk is the host's state, not the caller's mistake: it is a 503 with Retry-After (space
// may come back: a spool drains, an operator cleans up), never a 500 or a 400. Found by the soak
// (scripts/bench/soak.ts), which fills the ingest spool on a 64 MiB tmpfs.
import { LakehouseError, Unavailable } from "../errors.ts";

const FULL_ERRNOS = new Set(["ENOSPC", "EDQUOT"]);
/** What DuckDB (and libc's strerror) says when a write finds no room. */
const FULL_TEXT = /No space left on device|Disk quota exceeded/i;

/** Whether `err` (or a message from another process) says the disk was full. */
export function isDiskFull(err: unknown): boolean {
  if (typeof err === "string") return FULL_TEXT.test(err);
  if (err instanceof LakehouseError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && FULL_ERRNOS.has(code)) return true;
  return err instanceof Error && FULL_TEXT.test(err.message);
}

/** The 503 for a full disk under `what` (e.g. "the ingest spool"), keeping the original as cause. */
export function diskFull(what: string, cause: unknown): Unavailable {
  return new Unavailable(`${what} is out of disk space; nothing was stored, retry when space is free`, undefined, { cause, retryAfter: 5 });
}
