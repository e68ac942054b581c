// The workflow service behind the operations: saved definitions, starting a run (checked whole
// before anything runs, persisted as queued, answered at once), reading runs, cancel and resume,
// and the start-up recovery that turns runs left `running` by a crash into `interrupted`.
import { createHash, randomBytes } from "node:crypto";
import { Conflict, NotFound } from "../errors.ts";
import type { Identity } from "../ops/operation.ts";
import { actorOf } from "../ops/identity.ts";
import { checkInputs } from "./definition.ts";
import { type Definitions, definitionOf, type Saved } from "./definitions.ts";
import type { Runner } from "./runner.ts";
import { FINISHED, type RunRecord, type RunStatus, type RunStore, type StepState } from "./run-store.ts";
import type { Definition } from "./schemas.ts";

const now = () => new Date().toISOString();

/** Time-ordered, unguessable: r + base-36 milliseconds + 10 random base-36 characters. */
export function newRunId(): string {
  const rand = [...randomBytes(10)].map((b) => (b % 36).toString(36)).join("");
  return `r${Date.now().toString(36)}${rand}`;
}

const sha256 = (x: unknown) =>
  createHash("sha256")
    .update(JSON.stringify(x) ?? "null")
    .digest("hex");

export interface RunView {
  id: string;
  workflow: string | null;
  workflow_version: number | null;
  status: RunStatus;
  actor: string;
  inputs: Record<string, unknown>;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  ms?: number;
  resumes: number;
  error?: RunRecord["error"];
  input_hash: string;
  output_hash?: string;
  steps: StepState[];
}

export function runView(r: RunRecord): RunView {
  const out: RunView = {
    id: r.id,
    workflow: r.workflow,
    workflow_version: r.workflow_version,
    status: r.status,
    actor: r.actor,
    inputs: r.inputs,
    created_at: r.created_at,
    resumes: r.resumes,
    input_hash: sha256({ definition: r.definition, inputs: r.inputs }),
    steps: r.steps,
  };
  if (r.started_at) out.started_at = r.started_at;
  if (r.finished_at) {
    out.finished_at = r.finished_at;
    if (r.started_at) out.ms = Date.parse(r.finished_at) - Date.parse(r.started_at);
    out.output_hash = sha256(Object.fromEntries(r.steps.filter((s) => s.status === "succeeded").map((s) => [s.id, s.output ?? null])));
  }
  if (r.error) out.error = r.error;
  return out;
}

export function runSummary(r: RunRecord) {
  const count = (st: StepState["status"]) => r.steps.filter((s) => s.status === st).length;
  const out = {
    id: r.id,
    workflow: r.workflow,
    status: r.status,
    created_at: r.created_at,
    steps: { total: r.steps.length, succeeded: count("succeeded"), failed: count("failed"), skipped: count("skipped") },
  } as { id: string; workflow: string | null; status: RunStatus; created_at: string; finished_at?: string; steps: Record<string, number> };
  if (r.finished_at) out.finished_at = r.finished_at;
  return out;
}

export class WorkflowService {
  constructor(
    readonly definitions: Definitions,
    readonly runs: RunStore,
    readonly runner: Runner,
  ) {}

  async save(name: string, def: Omit<Definition, "name">, expected: number | undefined, identity: Identity): Promise<Saved> {
    this.runner.plan({ ...def, name });
    return this.definitions.put(name, { ...def, name }, expected, actorOf(identity));
  }

  /** Checks and persists a run as queued, then hands it to the runner; the caller gets it at once. */
  async start(workflow: string | Definition, inputs: Record<string, unknown>, identity: Identity): Promise<RunRecord> {
    let def: Definition;
    let name: string | null = null;
    let version: number | null = null;
    if (typeof workflow === "string") {
      const saved = this.definitions.get(workflow);
      def = definitionOf(saved);
      name = saved.name;
      version = saved.version;
    } else {
      def = workflow;
      name = workflow.name ?? null;
    }
    this.runner.plan(def);
    checkInputs(def, inputs);
    const run: RunRecord = {
      id: newRunId(),
      workflow: name,
      workflow_version: version,
      definition: def,
      inputs,
      identity: identity.address ? { kind: identity.kind, address: identity.address } : { kind: identity.kind },
      actor: actorOf(identity),
      status: "queued",
      created_at: now(),
      resumes: 0,
      steps: def.steps.map((s) => ({ id: s.id, mode: s.mode, status: "pending", attempts: 0 })),
    };
    await this.runs.putRun(run);
    this.runner.submit(run.id);
    return this.runs.runs.get(run.id)!;
  }

  get(id: string): RunRecord {
    const run = this.runs.runs.get(id);
    if (!run) throw new NotFound(`no run ${id}`, { run: id });
    return run;
  }

  list(filter: { status?: RunStatus; workflow?: string; limit?: number }): RunRecord[] {
    const out: RunRecord[] = [];
    const limit = filter.limit ?? 100;
    const all = [...this.runs.runs.values()];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const r = all[i]!;
      if (filter.status && r.status !== filter.status) continue;
      if (filter.workflow && r.workflow !== filter.workflow) continue;
      out.push(r);
    }
    return out;
  }

  async cancel(id: string): Promise<RunRecord> {
    const run = this.get(id);
    if (!(await this.runner.cancel(id))) throw new Conflict(`run ${id} has finished (${run.status}); nothing to cancel`, { run: id, status: run.status });
    return this.get(id);
  }

  /** Re-runs the unfinished steps of an interrupted, failed or cancelled run; succeeded steps keep their outputs. */
  async resume(id: string): Promise<RunRecord> {
    const run = this.get(id);
    if (!FINISHED.has(run.status) || run.status === "succeeded") {
      throw new Conflict(`run ${id} is ${run.status}; only interrupted, failed or cancelled runs can be resumed`, { run: id, status: run.status });
    }
    const next: RunRecord = {
      ...run,
      status: "queued",
      resumes: run.resumes + 1,
      steps: run.steps.map((s) => (s.status === "succeeded" ? s : { id: s.id, mode: s.mode, status: "pending", attempts: s.attempts })),
    };
    delete next.error;
    delete next.finished_at;
    delete next.started_at;
    await this.runs.putRun(next);
    this.runner.submit(id);
    return this.get(id);
  }

  /**
   * After a start: runs the log left `running` (a crash or kill -9) become `interrupted`, their
   * running steps failed with code interrupted; completed steps are kept. Queued runs start again.
   */
  async recover(): Promise<{ interrupted: number; requeued: number }> {
    let interrupted = 0;
    let requeued = 0;
    for (const run of [...this.runs.runs.values()]) {
      if (run.status === "running") {
        for (const s of run.steps) {
          if (s.status === "running") {
            await this.runs.setStep(run.id, {
              ...s,
              status: "failed",
              finished_at: now(),
              error: { code: "interrupted", message: "the server stopped while this step ran" },
            });
          }
        }
        await this.runs.setStatus(run.id, {
          status: "interrupted",
          finished_at: now(),
          error: { code: "interrupted", message: "the server stopped during the run; POST /v1/workflows/runs/{id}/resume re-runs its unfinished steps" },
        });
        interrupted++;
      } else if (run.status === "queued") {
        this.runner.submit(run.id);
        requeued++;
      }
    }
    return { interrupted, requeued };
  }
}
