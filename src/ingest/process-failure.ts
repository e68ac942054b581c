// What a caller is told when a conversion process ended without an outcome, for the per-upload
// process and the warm one alike: nothing was stored either way (the spool is removed, no commit
// happened), and the message says which way it died.
import { LakehouseError, Unavailable } from "../errors.ts";

/** Signals a process dies of when it crashes: the same upload would crash it again. */
const CRASH_SIGNALS = new Set(["SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT"]);

export function processFailure(signal: string | undefined, code: number | null, closing: boolean): LakehouseError {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  const details = signal ? { signal } : { exit_code: code };
  if (closing) return new Unavailable("the server is shutting down; the upload was not stored, send it again", details);
  if (signal && CRASH_SIGNALS.has(signal)) {
    // A crash inside DuckDB on this input: answering 5xx would invite a retry that crashes again.
    return new LakehouseError(
      "unprocessable",
      `the upload could not be converted: the conversion process ${how} while reading it; nothing was stored`,
      details,
    );
  }
  // SIGKILL is most often the kernel's out-of-memory killer; an exit code, a failure to start.
  return new Unavailable(`the conversion process ${how}${signal === "SIGKILL" ? " (out of memory?)" : ""}; nothing was stored`, details);
}

/** A process could not be started (EAGAIN, ENOMEM): the host's state, not the upload's. */
export function cannotStart(err: unknown): LakehouseError {
  return new Unavailable("the conversion process could not be started; nothing was stored", undefined, { cause: err });
}
