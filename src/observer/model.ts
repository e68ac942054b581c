// What the observer stores: events, one shape for all of them (posted by callers, turned from the
// event bus, or written by the observer itself: verdicts, iterations, witness flags).

export type Level = "info" | "warn" | "error";

export interface ObsEvent {
  /** Assigned in acceptance order; also the listing cursor. */
  id: number;
  /** ISO 8601, UTC. The caller's `ts` when given, else the time it was accepted. */
  ts: string;
  source: string;
  kind: string;
  run_id: string | null;
  level: Level;
  payload: unknown;
}

/** An event as a caller (or the observer) hands it in, before it has an id. */
export interface NewEvent {
  source: string;
  kind: string;
  run_id?: string | null;
  ts?: string;
  level?: Level;
  payload: unknown;
}

/** One log line: the events of one request (group-committed together). */
export interface LogRecord {
  seq: number;
  events: ObsEvent[];
}

export const OBSERVER_SOURCE = "observer";

/** A short identifier: source, kind. */
export const IDENT = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const MAX_BATCH = 1000;
