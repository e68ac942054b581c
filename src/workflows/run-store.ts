// Durable run state. Every transition (a run created, started, finished; a step started, retried,
// finished) is applied in memory and appended to a local log with group commit
// (src/lib/line-log.ts), so concurrent runs share fsyncs. Past workflows.compact_after_bytes, the
// runs are written as a snapshot to the object store (one line per run, `_workflows/runs/`) and the
// log before it is dropped; the oldest finished runs past workflows.keep_runs are left out of it.
//
// Start-up: the snapshot its manifest names, then every log record after it. Corrupt lines are
// skipped and counted (health says degraded); a torn last line is cut (src/lib/line-log.ts).
import type { Identity } from "../ops/operation.ts";
import { decodeLine, encodeLine, LineLog } from "../lib/line-log.ts";
import { readJson } from "../lib/read-json.ts";
import type { Logger } from "../log.ts";
import { RESERVED } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import * as v from "valibot";
import type { Definition } from "./schemas.ts";
import type { StepError } from "./step-error.ts";

export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "interrupted";
export type StepStatus = "pending" | "running" | "succeeded" | "failed" | "skipped";
export const FINISHED: ReadonlySet<RunStatus> = new Set(["succeeded", "failed", "cancelled", "interrupted"]);

export interface StepState {
  id: string;
  mode: string;
  status: StepStatus;
  attempts: number;
  started_at?: string;
  finished_at?: string;
  ms?: number;
  output?: unknown;
  output_bytes?: number;
  error?: StepError;
  skipped?: string;
}

export interface RunRecord {
  id: string;
  workflow: string | null;
  workflow_version: number | null;
  definition: Definition;
  inputs: Record<string, unknown>;
  /** Who started it: every step runs as this identity. */
  identity: Identity;
  actor: string;
  status: RunStatus;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  resumes: number;
  error?: StepError;
  steps: StepState[];
}

export type StatusChange = Pick<RunRecord, "status"> & Partial<Pick<RunRecord, "started_at" | "finished_at" | "error">>;

type LogRecord =
  | { seq: number; t: "run"; run: RunRecord }
  | { seq: number; t: "status"; id: string; change: StatusChange }
  | { seq: number; t: "step"; id: string; step: StepState };

const PREFIX = `${RESERVED.workflows}runs/`;
const MANIFEST = `${PREFIX}manifest.json`;
const Manifest = v.object({ seq: v.number(), key: v.string(), runs: v.number() });
type Manifest = v.InferOutput<typeof Manifest>;

export interface RunStoreOptions {
  store: ObjectStore;
  logDir: string;
  fsync: boolean;
  compactAfterBytes: number;
  keepRuns: number;
  log: Logger;
}

const isLogRecord = (x: unknown): x is LogRecord =>
  typeof x === "object" && x !== null && Number.isSafeInteger((x as LogRecord).seq) && ["run", "status", "step"].includes((x as LogRecord).t);

export class RunStore {
  /** Every run, in creation order (a Map keeps insertion order). */
  readonly runs = new Map<string, RunRecord>();
  private seq = 0;
  private manifest: Manifest | null = null;
  private compacting: Promise<void> | null = null;
  readonly skipped: { where: string; offset: number; reason: string }[] = [];

  private constructor(
    private readonly opts: RunStoreOptions,
    readonly log: LineLog,
  ) {}

  static async open(opts: RunStoreOptions): Promise<RunStore> {
    const rs = new RunStore(opts, new LineLog(opts.logDir, { fsync: opts.fsync }));
    await rs.load();
    return rs;
  }

  private async load(): Promise<void> {
    this.manifest = await readJson(this.opts.store, MANIFEST, Manifest, { maxBytes: 64 * 1024 });
    if (this.manifest) {
      const bytes = await this.opts.store.getBytes(this.manifest.key).catch(() => null);
      if (!bytes) this.skipped.push({ where: "snapshot", offset: -1, reason: "missing" });
      else {
        const text = new TextDecoder().decode(bytes);
        let offset = 0;
        for (const line of text.split("\n")) {
          if (line) {
            const run = decodeLine(line) as RunRecord | null;
            if (run && typeof run.id === "string") this.runs.set(run.id, run);
            else this.skipped.push({ where: "snapshot", offset, reason: "checksum" });
          }
          offset += Buffer.byteLength(line) + 1;
        }
      }
      this.seq = this.manifest.seq;
    }
    const after = this.seq;
    const replay = await this.log.replay((rec) => {
      if (!isLogRecord(rec)) {
        this.skipped.push({ where: "log", offset: -1, reason: "not_a_record" });
        return;
      }
      if (rec.seq <= after) return;
      this.apply(rec);
      this.seq = Math.max(this.seq, rec.seq);
    });
    for (const s of replay.skipped) this.skipped.push({ where: s.segment, offset: s.offset, reason: s.reason });
    for (const s of this.skipped) this.opts.log.error("workflows: skipping a corrupt run record", s);
  }

  private apply(rec: LogRecord): void {
    if (rec.t === "run") {
      this.runs.set(rec.run.id, rec.run);
      return;
    }
    const run = this.runs.get(rec.id);
    if (!run) return;
    if (rec.t === "status") Object.assign(run, rec.change);
    else {
      const i = run.steps.findIndex((s) => s.id === rec.step.id);
      if (i >= 0) run.steps[i] = rec.step;
    }
  }

  private write(rec: LogRecord): Promise<void> {
    this.apply(rec);
    const done = this.log.append(rec.seq, rec);
    if (this.log.bytesSinceRotate > this.opts.compactAfterBytes && !this.compacting) void this.compact();
    return done;
  }

  /** A new run, or a run written whole again (a resume resets its unfinished steps). */
  putRun(run: RunRecord): Promise<void> {
    return this.write({ seq: ++this.seq, t: "run", run });
  }

  setStatus(id: string, change: StatusChange): Promise<void> {
    if (change.error === undefined) delete change.error;
    return this.write({ seq: ++this.seq, t: "status", id, change });
  }

  setStep(id: string, step: StepState): Promise<void> {
    return this.write({ seq: ++this.seq, t: "step", id, step });
  }

  /** Writes a snapshot now and drops the log it covers (also called on close). One at a time. */
  compact(): Promise<void> {
    if (this.compacting) return this.compacting.then(() => this.compact());
    this.compacting = this.runCompaction()
      .catch((err) => this.opts.log.error("workflows: run snapshot failed", { error: String(err) }))
      .finally(() => {
        this.compacting = null;
      });
    return this.compacting;
  }

  private async runCompaction(): Promise<void> {
    // Captured in one synchronous step with the rotation: every record up to `seq` is in the
    // capture, every later one goes to the new segment.
    const seq = this.seq;
    this.prune();
    const lines = [...this.runs.values()].map((r) => encodeLine(r));
    this.log.rotate(seq + 1);
    const t0 = performance.now();
    const key = `${PREFIX}snapshot-${String(seq).padStart(16, "0")}.log`;
    await this.opts.store.put(key, lines.join(""));
    const previous = this.manifest;
    const manifest: Manifest = { seq, key, runs: lines.length };
    await this.opts.store.put(MANIFEST, JSON.stringify(manifest));
    this.manifest = manifest;
    await this.log.dropBefore(seq + 1);
    if (previous && previous.key !== key) await this.opts.store.delete(previous.key).catch(() => {});
    this.opts.log.info("workflows: run snapshot written", { seq, runs: lines.length, ms: Math.round(performance.now() - t0) });
  }

  /** Forgets the oldest finished runs past keep_runs (running and queued ones always stay). */
  private prune(): void {
    let finished = 0;
    for (const r of this.runs.values()) if (FINISHED.has(r.status)) finished++;
    for (const [id, r] of this.runs) {
      if (finished <= this.opts.keepRuns) break;
      if (!FINISHED.has(r.status)) continue;
      this.runs.delete(id);
      finished--;
    }
  }

  get snapshotSeq(): number {
    return this.manifest?.seq ?? 0;
  }

  get lastSeq(): number {
    return this.seq;
  }

  async close(): Promise<void> {
    await this.log.drain();
    // A graceful stop leaves a snapshot, so the next start reads no log.
    if (this.seq > this.snapshotSeq && !this.log.failed) await this.compact();
    await this.compacting;
    await this.log.close();
  }
}
