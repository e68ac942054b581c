// Domain errors are values with a stable code. Domain code throws them; the HTTP edge maps the
// code to a status once (src/http/error-envelope.ts). Messages are written for the API caller:
// never put a filesystem path, a secret or an upstream stack in one.

export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "malformed_json"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "precondition_failed"
  | "too_large"
  | "unsupported_media_type"
  | "range_not_satisfiable"
  | "unprocessable"
  | "upstream_error"
  | "unsupported"
  | "unavailable"
  | "timeout"
  | "internal";

export class LakehouseError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

const make = (code: ErrorCode) =>
  class extends LakehouseError {
    constructor(message: string, details?: unknown) {
      super(code, message, details);
    }
  };

export class BadRequest extends make("bad_request") {}
export class ValidationFailed extends make("validation_failed") {}
export class Unauthorized extends make("unauthorized") {}
export class Forbidden extends make("forbidden") {}
export class NotFound extends make("not_found") {}
export class Conflict extends make("conflict") {}
export class PreconditionFailed extends make("precondition_failed") {}
export class TooLarge extends make("too_large") {}
export class UnsupportedMediaType extends make("unsupported_media_type") {}
export class RangeNotSatisfiable extends make("range_not_satisfiable") {}
export class Unprocessable extends make("unprocessable") {}
export class UpstreamError extends make("upstream_error") {}
export class Unsupported extends make("unsupported") {}
export class Unavailable extends make("unavailable") {}
export class Timeout extends make("timeout") {}
