// How a step's failure is recorded: a stable code, a message for people, details when the failing
// operation gave some. Operation errors keep their own code (validation_failed, not_found, ...);
// the runner adds its own: reference (an input's reference has no value), timeout, cancelled,
// interrupted (the process stopped while the step ran), output (an output that is not JSON).
import { LakehouseError } from "../errors.ts";

export interface StepError {
  code: string;
  message: string;
  details?: unknown;
}

export class StepFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The record of any failure: domain errors keep code and details; anything else is "internal", its message kept short. */
export function stepError(err: unknown): StepError {
  if (err instanceof StepFailed || err instanceof LakehouseError) {
    const out: StepError = { code: err.code, message: err.message };
    if (err.details !== undefined) out.details = err.details;
    return out;
  }
  // An unexpected error: its message may name a local path; keep only its kind.
  return { code: "internal", message: `the step failed unexpectedly (${err instanceof Error ? err.name : typeof err}); the server log has it` };
}

/** Whether another attempt could go differently: a rejected input or reference never will. */
export function retryable(e: StepError): boolean {
  return !["validation_failed", "reference", "cancelled", "bad_request", "not_found", "unsupported"].includes(e.code);
}
