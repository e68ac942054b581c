// What a statement's failure means to its caller. A refused or wrong statement is 400; one that
// needs more memory than its caps is 422 resource_exhausted, naming the cap; one that ran past its
// time is 504; a worker that died under it for no reason of its own is 503 with Retry-After. A
// data file missing from the store is reported as such (the service decides whose it is).
import { BadRequest, LakehouseError, ResourceExhausted, Timeout, Unavailable } from "../errors.ts";
import { WorkerFailed, WorkerGone } from "./worker-client.ts";

export interface ErrorContext {
  /** The deadline passed and the statement was interrupted. */
  timedOut: boolean;
  timeoutMs: number;
  memoryLimit: string;
  maxStatementRss: number;
  maxTotalRss: number;
  /** Directories named in DuckDB's messages that the caller must not see. */
  hiddenDirs: readonly string[];
}

/**
 * DuckDB found no file at a path a statement reads: the caller's 400 unless the path is a live
 * dataset's object, which only the service can tell (it then answers 503 naming the dataset).
 */
export class MissingFile extends BadRequest {
  constructor(
    readonly path: string,
    message: string,
    opts: { cause: unknown },
  ) {
    super(message, undefined, opts);
  }
}

const mib = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MiB`;

/** DuckDB's message for the caller, without this machine's paths; the original stays as the cause. */
export function clientMessage(raw: string, hiddenDirs: readonly string[]): string {
  let message = raw;
  for (const dir of hiddenDirs) message = message.split(dir).join("");
  // Other absolute paths DuckDB mentions (its home directory, say) are this machine's business.
  message = message.replace(/(["'])\/[^"'\n]*\1/g, "$1<path>$1");
  return message.split("\n\n")[0]!.trim();
}

export function statementError(err: unknown, ctx: ErrorContext): Error {
  if (err instanceof WorkerGone) return goneError(err, ctx);
  if (!(err instanceof WorkerFailed)) return err instanceof Error ? err : new Error(String(err));
  const { code, message, details } = err.failure;
  if (code) return new LakehouseError(code, message, details);
  const cause = { cause: new Error(message) };
  if (ctx.timedOut) return new Timeout(`the statement ran longer than ${ctx.timeoutMs} ms and was interrupted`, { timeout_ms: ctx.timeoutMs }, cause);
  if (/^Out of Memory Error/i.test(message)) {
    return new ResourceExhausted(
      `the statement needs more memory than sql.memory_limit (${ctx.memoryLimit}) allows`,
      { limit: "sql.memory_limit", value: ctx.memoryLimit },
      cause,
    );
  }
  const client = clientMessage(message, ctx.hiddenDirs);
  const missing = /No files found that match the pattern "([^"]+)"/.exec(message);
  return missing ? new MissingFile(missing[1]!, client, cause) : new BadRequest(client, undefined, cause);
}

function goneError(err: WorkerGone, ctx: ErrorContext): Error {
  const r = err.reason;
  const cause = { cause: err };
  switch (r.kind) {
    case "statement_rss":
      return new ResourceExhausted(
        `the statement used more memory than sql.max_statement_rss (${mib(ctx.maxStatementRss)}) and was stopped`,
        { limit: "sql.max_statement_rss", limit_bytes: ctx.maxStatementRss, rss_bytes: r.rssBytes },
        cause,
      );
    case "total_rss":
      return new ResourceExhausted(
        `the SQL workers together passed sql.max_total_rss (${mib(ctx.maxTotalRss)}); this statement was the largest and was stopped`,
        { limit: "sql.max_total_rss", limit_bytes: ctx.maxTotalRss, rss_bytes: r.rssBytes },
        cause,
      );
    case "timeout":
      return new Timeout(
        `the statement ran longer than ${ctx.timeoutMs} ms and did not stop when interrupted; its worker was stopped`,
        { timeout_ms: ctx.timeoutMs },
        cause,
      );
    case "retired":
      return new Unavailable("the SQL service is shutting down", undefined, { ...cause, retryAfter: 1 });
    case "crashed":
      return new Unavailable("the SQL worker running this statement stopped unexpectedly; the statement may be retried", undefined, {
        ...cause,
        retryAfter: 1,
      });
  }
}
