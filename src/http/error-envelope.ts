// The one place where errors become HTTP responses: every 4xx/5xx leaves the process as
// {"error":{"code","message","details?"}}. Unknown errors become a bare 500 (the detail goes to
// the log, never to the caller).
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorCode, LakehouseError } from "../errors.ts";
import type { Logger } from "../log.ts";

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  validation_failed: 400,
  malformed_json: 400,
  unauthorized: 401,
  forbidden: 403,
  forbidden_host: 403,
  reserved_prefix: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  unprocessable: 422,
  resource_exhausted: 422,
  internal: 500,
  upstream_error: 502,
  unsupported: 501,
  unavailable: 503,
  timeout: 504,
};

export function statusFor(code: ErrorCode): ContentfulStatusCode {
  return STATUS[code];
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function envelope(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

export function errorResponse(c: Context, err: LakehouseError, headers?: Record<string, string>): Response {
  const all = err.retryAfter === undefined ? headers : { ...headers, "Retry-After": String(err.retryAfter) };
  return c.json(envelope(err.code, err.message, err.details), statusFor(err.code), all);
}

/** A failure and its causes as one log field: name, message and stack of each, outermost first. */
export function describeError(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const out: Record<string, unknown> = { error: err.name, detail: err.message, stack: err.stack };
  if (err.cause !== undefined && depth < 4) out.cause = describeError(err.cause, depth + 1);
  return out;
}

function clientWentAway(err: Error, c: Context): boolean {
  return err?.name === "AbortError" || c.req.raw.signal.aborted;
}

export function makeOnError(log: Logger) {
  return (err: Error, c: Context): Response => {
    const requestId = c.get("requestId" as never);
    if (err instanceof LakehouseError && err.code !== "internal") {
      // A domain error explains itself to the caller; an upstream or server-side one also goes to
      // the log with what caused it, under the request id the caller sees.
      if (statusFor(err.code) >= 500 && err.cause !== undefined) log.warn("request failed", { request_id: requestId, code: err.code, ...describeError(err) });
      return errorResponse(c, err);
    }
    if (clientWentAway(err, c)) {
      // The client closed the connection mid-request (an aborted upload): nobody reads this answer,
      // and it is not the server's failure, so it must not count as a 500 in logs and alerts.
      log.info("client closed the request", { request_id: requestId, method: c.req.method, path: c.req.path });
      return c.json(envelope("bad_request", "the client closed the connection before the request was read"), 400);
    }
    log.error("unhandled error", { request_id: requestId, method: c.req.method, path: c.req.path, ...describeError(err) });
    return c.json(envelope("internal", "internal error; see the server log for this request id"), 500);
  };
}
