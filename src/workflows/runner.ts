// Executes runs. At most workflows.max_running runs at once (the rest wait as `queued`, in
// arrival order); inside a run, every step waits for its needs and then runs, so independent steps
// run concurrently, at most workflows.max_parallel_steps of them. A step resolves its references,
// checks its `when`, and calls its mode with a timeout, retrying with exponential backoff. A failed
// or skipped step skips its dependents; independent branches go on; the run fails if a step failed.
//
// Cancel aborts the run's signal: every running step's signal aborts with it (SQL stops its
// statement; other modes finish in the background and their result is discarded), and what had
// not started is skipped. Every transition goes through the run store (durable, run-store.ts).
import type { Logger } from "../log.ts";
import type { OperationRegistry } from "../ops/registry.ts";
import { filterPredicate } from "../filter/compile.ts";
import { Semaphore } from "../lib/semaphore.ts";
import { checkDefinition, type Limits, type Plan } from "./definition.ts";
import type { LlmClient } from "./llm/client.ts";
import type { Mode, ModeEnv } from "./modes/index.ts";
import type { Observe } from "./observe.ts";
import { resolve, type Scope, TRUNCATED } from "./refs.ts";
import { FINISHED, type RunRecord, type RunStore, type StepState } from "./run-store.ts";
import type { StepDef } from "./schemas.ts";
import { retryable, type StepError, StepFailed, stepError } from "./step-error.ts";

export interface RunnerOptions {
  store: RunStore;
  ops: OperationRegistry;
  modes: ReadonlyMap<string, Mode>;
  llm: LlmClient | null;
  limits: Limits;
  maxRunning: number;
  maxParallelSteps: number;
  defaultTimeoutMs: number;
  maxOutputBytes: number;
  observe: Observe;
  log: Logger;
}

/** Backoff before a retry when the step gives none: long enough for a blip to pass, short enough not to notice. */
const DEFAULT_BACKOFF_MS = 200;

type Stop = "cancel" | "shutdown";

interface Active {
  controller: AbortController;
  done: Promise<void>;
}

const now = () => new Date().toISOString();

export class Runner {
  private readonly active = new Map<string, Active>();
  private readonly queue: string[] = [];
  private closing = false;

  constructor(private readonly o: RunnerOptions) {}

  get env(): ModeEnv {
    return { ops: this.o.ops, llm: this.o.llm };
  }

  /** Plans a definition against the modes (throws ValidationFailed naming step and path). */
  plan(def: RunRecord["definition"]): Plan {
    return checkDefinition(def, this.o.modes, this.env, this.o.limits);
  }

  /** Starts a run the store holds as queued, now or when a slot frees. */
  submit(id: string): void {
    this.queue.push(id);
    this.pump();
  }

  private pump(): void {
    while (!this.closing && this.active.size < this.o.maxRunning && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const run = this.o.store.runs.get(id);
      if (run?.status !== "queued") continue;
      const controller = new AbortController();
      const done = this.execute(run, controller.signal)
        .catch((err) => this.o.log.error("workflows: a run failed unexpectedly", { run: id, error: String(err) }))
        .finally(() => {
          this.active.delete(id);
          this.pump();
        });
      this.active.set(id, { controller, done });
    }
  }

  /** Cancels a queued run at once, or stops a running one; false when it had finished. */
  async cancel(id: string): Promise<boolean> {
    const run = this.o.store.runs.get(id);
    if (!run || FINISHED.has(run.status)) return false;
    const active = this.active.get(id);
    if (active) {
      active.controller.abort("cancel" satisfies Stop);
      await active.done;
      return true;
    }
    const at = this.queue.indexOf(id);
    if (at >= 0) this.queue.splice(at, 1);
    for (const s of run.steps) if (s.status === "pending") await this.o.store.setStep(id, { ...s, status: "skipped", skipped: "the run was cancelled" });
    await this.o.store.setStatus(id, { status: "cancelled", finished_at: now() });
    this.o.observe.runEnded(run);
    return true;
  }

  /** Resolves when no run is running or queued (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.all([...this.active.values()].map((a) => a.done));
  }

  /** Stops taking runs; running ones are stopped and left `interrupted` (resume finishes them). */
  async close(): Promise<void> {
    this.closing = true;
    for (const a of this.active.values()) a.controller.abort("shutdown" satisfies Stop);
    await this.idle();
  }

  private async execute(run: RunRecord, signal: AbortSignal): Promise<void> {
    const store = this.o.store;
    const started = performance.now();
    await store.setStatus(run.id, { status: "running", started_at: now() });
    this.o.observe.runStarted(run);
    let plan: Plan;
    try {
      plan = this.plan(run.definition);
    } catch (err) {
      // Valid when it was submitted; a mode can disappear across a restart (a provider unset).
      await store.setStatus(run.id, { status: "failed", finished_at: now(), error: stepError(err) });
      this.o.observe.runEnded(run);
      return;
    }
    const outputs = new Map<string, unknown>();
    for (const s of run.steps) if (s.status === "succeeded") outputs.set(s.id, s.output ?? null);
    const scope: Scope = { inputs: run.inputs, outputs };
    const slots = new Semaphore(this.o.maxParallelSteps);
    const done = new Map<string, Promise<void>>();
    const state = (id: string) => run.steps.find((s) => s.id === id)!;
    const stepRun = async (def: StepDef): Promise<void> => {
      await Promise.all((def.needs ?? []).map((n) => done.get(n)));
      const current = state(def.id);
      if (current.status === "succeeded") return;
      const blocked = (def.needs ?? []).find((n) => state(n).status !== "succeeded");
      if (blocked || signal.aborted) {
        const why = signal.aborted
          ? signal.reason === "cancel"
            ? "the run was cancelled"
            : "the server stopped before this step started"
          : `it needs "${blocked}", which ${state(blocked!).status === "failed" ? "failed" : "was skipped"}`;
        await store.setStep(run.id, { id: def.id, mode: def.mode, status: "skipped", attempts: current.attempts, skipped: why });
        this.o.observe.stepSkipped(run, def.id, why);
        return;
      }
      await slots.run(() => this.runStep(run, def, scope, signal));
      const after = state(def.id);
      if (after.status === "succeeded") outputs.set(def.id, after.output ?? null);
    };
    // Needs come before their dependents in this order, so every promise a step waits for exists.
    for (const def of topological(plan)) done.set(def.id, stepRun(def));
    await Promise.all(done.values());

    const failed = run.steps.find((s) => s.status === "failed");
    const finished = { finished_at: now() };
    if (signal.aborted && signal.reason === "shutdown" && run.steps.some((s) => s.status !== "succeeded" && s.status !== "skipped")) {
      await store.setStatus(run.id, {
        status: "interrupted",
        ...finished,
        error: { code: "interrupted", message: "the server stopped during the run; POST /v1/workflows/runs/{id}/resume re-runs its unfinished steps" },
      });
    } else if (signal.aborted && signal.reason === "cancel") {
      await store.setStatus(run.id, { status: "cancelled", ...finished });
    } else if (failed) {
      await store.setStatus(run.id, {
        status: "failed",
        ...finished,
        error: { code: "step_failed", message: `step "${failed.id}" failed: ${failed.error?.message ?? "unknown error"}`, details: { step: failed.id } },
      });
    } else await store.setStatus(run.id, { status: "succeeded", ...finished });
    this.o.observe.runEnded(run, performance.now() - started);
  }

  private async runStep(run: RunRecord, def: StepDef, scope: Scope, runSignal: AbortSignal): Promise<void> {
    const store = this.o.store;
    const mode = this.o.modes.get(def.mode)!;
    const base = run.steps.find((s) => s.id === def.id)!;
    const startedAt = now();
    const t0 = performance.now();
    let attempts = base.attempts;
    const finish = async (patch: Partial<StepState>) => {
      const step: StepState = { id: def.id, mode: def.mode, status: "failed", attempts, started_at: startedAt, finished_at: now(), ms: ms(t0), ...patch };
      await store.setStep(run.id, step);
      return step;
    };

    // The condition, once, on the outputs its step can see.
    if (def.when !== undefined) {
      let pass: boolean;
      try {
        pass = this.evaluateWhen(def.when, run, scope);
      } catch (err) {
        const step = await finish({ error: stepError(err) });
        this.o.observe.stepEnded(run, step);
        return;
      }
      if (!pass) {
        const step: StepState = { id: def.id, mode: def.mode, status: "skipped", attempts, skipped: "its when condition was false" };
        await store.setStep(run.id, step);
        this.o.observe.stepSkipped(run, def.id, step.skipped!);
        return;
      }
    }

    const retries = def.retries ?? 0;
    const timeoutMs = def.timeout_ms ?? this.o.defaultTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      attempts++;
      void store.setStep(run.id, { id: def.id, mode: def.mode, status: "running", attempts, started_at: startedAt });
      this.o.observe.stepStarted(run, def.id, attempts);
      let error: StepError;
      try {
        const input = resolve(def.input, scope) as Record<string, unknown>;
        const output = await this.callWithDeadline(mode, input, run, def.id, attempts, timeoutMs, runSignal);
        const kept = this.capOutput(output);
        const step = await finish({ status: "succeeded", ...kept });
        this.o.observe.stepEnded(run, step);
        return;
      } catch (err) {
        error = stepError(err);
        if (error.code === "internal") this.o.log.error("workflows: a step failed unexpectedly", { run: run.id, step: def.id, error: String(err) });
      }
      if (runSignal.aborted) {
        const step = await finish({
          error: runSignal.reason === "cancel" ? { code: "cancelled", message: "the run was cancelled while this step ran" } : interrupted(),
        });
        this.o.observe.stepEnded(run, step);
        return;
      }
      if (attempt > retries || !retryable(error)) {
        const step = await finish({ error });
        this.o.observe.stepEnded(run, step);
        return;
      }
      const backoff = (def.retry_backoff_ms ?? DEFAULT_BACKOFF_MS) * 2 ** (attempt - 1);
      await store.setStep(run.id, { id: def.id, mode: def.mode, status: "running", attempts, started_at: startedAt, error });
      this.o.observe.stepRetry(run, def.id, attempts, error, backoff);
      await sleep(backoff, runSignal);
    }
  }

  /** The mode's answer, or a timeout / cancellation; a mode that ignores its signal finishes in the background, discarded. */
  private async callWithDeadline(
    mode: Mode,
    input: Record<string, unknown>,
    run: RunRecord,
    stepId: string,
    attempt: number,
    timeoutMs: number,
    runSignal: AbortSignal,
  ): Promise<unknown> {
    const controller = new AbortController();
    let timedOut = false;
    const stop = () => controller.abort(runSignal.reason);
    runSignal.addEventListener("abort", stop, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort("timeout");
    }, timeoutMs);
    try {
      const call = mode.run(input, {
        ops: this.o.ops,
        llm: this.o.llm,
        call: { identity: run.identity, requestId: `${run.id}.${stepId}.${attempt}`, signal: controller.signal },
      });
      call.catch(() => {});
      const aborted = new Promise<never>((_, reject) => {
        const fail = () =>
          reject(
            timedOut
              ? new StepFailed("timeout", `the step did not finish within ${timeoutMs} ms (timeout_ms)`, { timeout_ms: timeoutMs })
              : new StepFailed("cancelled", "the run was stopped while this step ran"),
          );
        if (controller.signal.aborted) fail();
        else controller.signal.addEventListener("abort", fail, { once: true });
      });
      aborted.catch(() => {});
      return await Promise.race([call, aborted]);
    } finally {
      clearTimeout(timer);
      runSignal.removeEventListener("abort", stop);
    }
  }

  /** The output as kept: whole up to workflows.max_output_bytes of JSON, else a marker with its size. */
  private capOutput(output: unknown): Pick<StepState, "output" | "output_bytes"> {
    let json: string | undefined;
    try {
      json = JSON.stringify(output ?? null);
    } catch (err) {
      throw new StepFailed("output", `the step's output is not JSON (${(err as Error).name})`);
    }
    const bytes = Buffer.byteLength(json);
    if (bytes <= this.o.maxOutputBytes) return { output: JSON.parse(json), output_bytes: bytes };
    return {
      output: { [TRUNCATED]: true, bytes, max_bytes: this.o.maxOutputBytes, message: "over workflows.max_output_bytes: not kept" },
      output_bytes: bytes,
    };
  }

  private evaluateWhen(when: string | Record<string, unknown>, run: RunRecord, scope: Scope): boolean {
    const resolved = resolve(when, scope);
    const steps: Record<string, { status: string; output?: unknown }> = {};
    for (const s of run.steps) steps[s.id] = s.status === "succeeded" ? { status: s.status, output: s.output } : { status: s.status };
    return filterPredicate(resolved, "when")({ inputs: run.inputs, steps });
  }
}

const ms = (t0: number) => Math.round((performance.now() - t0) * 100) / 100;

const interrupted = (): StepError => ({ code: "interrupted", message: "the server stopped while this step ran" });

/** Steps ordered so every step comes after its needs (the definition is acyclic: checked). */
function topological(plan: Plan): StepDef[] {
  const out: StepDef[] = [];
  const seen = new Set<string>();
  const visit = (s: StepDef) => {
    if (seen.has(s.id)) return;
    seen.add(s.id);
    for (const n of s.needs ?? []) visit(plan.byId.get(n)!);
    out.push(s);
  };
  for (const s of plan.steps) visit(s);
  return out;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
