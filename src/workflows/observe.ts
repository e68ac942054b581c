// What the observer sees of runs: every run start and end and every step start, end, retry and
// skip is an event (source "workflow", run_id = the run's id), and every finished step is an
// iteration for the observer's witness (state_hash = the step, its input and its output), so a run
// that keeps doing the same thing (a retry storm, a resume loop) is flagged as a loop.
//
// Best-effort by design: the observer is called in-process (ops.call), never awaited by the step,
// and a failure is logged, never a step's failure. Events of one turn of the event loop go in one
// batch (observer.post_events takes up to 1,000), so a run of 10 steps costs a few calls, not 30.
import { createHash } from "node:crypto";
import type { Logger } from "../log.ts";
import type { Identity } from "../ops/operation.ts";
import type { OperationRegistry } from "../ops/registry.ts";
import type { RunRecord, StepState } from "./run-store.ts";
import type { StepError } from "./step-error.ts";

export const EVENT_OPERATION = "observer.post_events";
export const ITERATE_OPERATION = "observer.iterate";
const SOURCE = "workflow";
/** observer.post_events takes at most this many events per call. */
const MAX_BATCH = 1000;

export interface Observe {
  runStarted(run: RunRecord): void;
  runEnded(run: RunRecord, ms?: number): void;
  stepStarted(run: RunRecord, step: string, attempt: number): void;
  stepEnded(run: RunRecord, step: StepState): void;
  stepRetry(run: RunRecord, step: string, attempt: number, error: StepError, backoffMs: number): void;
  stepSkipped(run: RunRecord, step: string, why: string): void;
  /** Resolves once what was handed to the observer so far has been answered (tests). */
  flush(): Promise<void>;
}

interface Pending {
  kind: string;
  run_id: string;
  level: "info" | "warn" | "error";
  payload: Record<string, unknown>;
}

const INTERNAL: Identity = { kind: "internal" };
const hash = (x: unknown) =>
  createHash("sha256")
    .update(JSON.stringify(x) ?? "null")
    .digest("hex");

export function observer(ops: OperationRegistry, log: Logger): Observe {
  const has = (name: string) => ops.list().some((o) => o.name === name);
  let queue: Pending[] = [];
  let scheduled = false;
  const inflight = new Set<Promise<unknown>>();
  const iterations = new Map<string, number>();
  let warned = false;

  const track = (p: Promise<unknown>) => {
    const t = p.catch((err) => {
      // Logged once per burst of failures: an observer that is down must not flood the log.
      if (!warned) log.warn("workflows: the observer did not take an event or iteration", { error: String(err) });
      warned = true;
    });
    inflight.add(t);
    void t.finally(() => inflight.delete(t));
  };

  const flushEvents = () => {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (!has(EVENT_OPERATION)) return;
    for (let i = 0; i < batch.length; i += MAX_BATCH) {
      const events = batch.slice(i, i + MAX_BATCH).map((e) => ({ source: SOURCE, ...e }));
      track(ops.call(EVENT_OPERATION, { events }, { identity: INTERNAL }).then(() => (warned = false)));
    }
  };

  const emit = (run: RunRecord, kind: string, payload: Record<string, unknown>, level: Pending["level"] = "info") => {
    queue.push({ kind, run_id: run.id, level, payload: { workflow: run.workflow, ...payload } });
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushEvents);
    }
  };

  const iterate = (run: RunRecord, body: Record<string, unknown>) => {
    if (!has(ITERATE_OPERATION)) return;
    const n = (iterations.get(run.id) ?? 0) + 1;
    iterations.set(run.id, n);
    track(ops.call(ITERATE_OPERATION, { run_id: run.id, iteration: n, ...body }, { identity: INTERNAL }));
  };

  return {
    runStarted: (run) => emit(run, "run.started", { resumes: run.resumes, steps: run.steps.length }),
    runEnded: (run, ms) => {
      const counts: Record<string, number> = {};
      for (const s of run.steps) counts[s.status] = (counts[s.status] ?? 0) + 1;
      const level = run.status === "succeeded" ? "info" : run.status === "cancelled" ? "warn" : "error";
      emit(
        run,
        "run.finished",
        { status: run.status, steps: counts, ...(ms === undefined ? {} : { ms: Math.round(ms) }), ...(run.error ? { error: run.error } : {}) },
        level,
      );
      iterate(run, { done: true, note: `run ${run.status}` });
      iterations.delete(run.id);
    },
    stepStarted: (run, step, attempt) => emit(run, "step.started", { step, attempt }),
    stepEnded: (run, s) => {
      const payload: Record<string, unknown> = { step: s.id, mode: s.mode, status: s.status, attempts: s.attempts, ms: s.ms };
      if (s.error) payload.error = s.error;
      emit(run, "step.finished", payload, s.status === "failed" ? "error" : "info");
      iterate(run, { state_hash: hash([s.id, s.status, s.status === "succeeded" ? s.output : s.error?.code]), note: `step ${s.id} ${s.status}` });
    },
    stepRetry: (run, step, attempt, error, backoffMs) => emit(run, "step.retry", { step, attempt, error, backoff_ms: backoffMs }, "warn"),
    stepSkipped: (run, step, why) => emit(run, "step.skipped", { step, why }),
    async flush() {
      if (scheduled) flushEvents();
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
  };
}

/** An observer that sees nothing (unit tests of the runner, benchmarks of its own overhead). */
export const unobserved: Observe = {
  runStarted() {},
  runEnded() {},
  stepStarted() {},
  stepEnded() {},
  stepRetry() {},
  stepSkipped() {},
  flush: async () => {},
};
