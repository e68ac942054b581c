// Domain errors are values with a stable code. Domain code throws them; the HTTP edge maps the
// code to a status once (src/http/error-envelope.ts). Messages are written for the API caller:
// never put a filesystem path, a secret or an upstream stack in one.

export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "malformed_json"
  | "unauthorized"
  | "forbidden"
  | "forbidden_host"
  | "reserved_prefix"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "precondition_failed"
  | "too_large"
  | "unsupported_media_type"
  | "range_not_satisfiable"
  | "unprocessable"
  | "resource_exhausted"
  | "upstream_error"
  | "unsupported"
  | "unavailable"
  | "timeout"
  | "internal";

/** What a mapper knew when it turned a lower-level failure into a domain error. */
export interface ErrorOptions {
  /** The original failure: kept for the server log (a 500 logs it with its stack), never sent. */
  cause?: unknown;
  /** Seconds after which a retry may succeed: sent as Retry-After (a 503 the caller did not cause). */
  retryAfter?: number;
}

export class LakehouseError extends Error {
  readonly retryAfter?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    opts?: ErrorOptions,
  ) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    if (opts?.retryAfter !== undefined) this.retryAfter = opts.retryAfter;
  }
}

const make = (code: ErrorCode) =>
  class extends LakehouseError {
    constructor(message: string, details?: unknown, opts?: ErrorOptions) {
      super(code, message, details, opts);
    }
  };

export class BadRequest extends make("bad_request") {}
export class ValidationFailed extends make("validation_failed") {}
export class Unauthorized extends make("unauthorized") {}
export class Forbidden extends make("forbidden") {}
/** A request addressed to a host name the server does not answer to (DNS rebinding; src/http/host.ts). */
export class ForbiddenHost extends make("forbidden_host") {}
/** A write or delete through the storage API under a prefix the lakehouse manages (src/storage/layout.ts). */
export class ReservedPrefix extends make("reserved_prefix") {}
export class NotFound extends make("not_found") {}
export class Conflict extends make("conflict") {}
export class TooLarge extends make("too_large") {}
export class UnsupportedMediaType extends make("unsupported_media_type") {}
export class RangeNotSatisfiable extends make("range_not_satisfiable") {}
export class UpstreamError extends make("upstream_error") {}
export class Unsupported extends make("unsupported") {}
export class Unavailable extends make("unavailable") {}
/** A statement stopped at a resource cap (memory): the request itself asks too much, whatever the load. */
export class ResourceExhausted extends make("resource_exhausted") {}
export class Timeout extends make("timeout") {}
