// The iteration witness: a run (a workflow, an agent loop) reports iterations and the observer
// flags what a run cannot see from the inside:
//   loop   the same state_hash seen loop_repeats times → status "cycle" (sticky: a loop is a fact);
//   stall  no iteration for stall_seconds while the run is open → "stalled" (until the next iteration);
//   drift  a scorer's mean over its last drift_window scores moves more than drift_sigma standard
//          deviations of its baseline (its first drift_window scores), or more than drift_min_delta
//          when that is set → "drift" (while it lasts; the flag stays in the run's history).
// Iterations and flags are events (source "observer", kinds "iteration", "loop", "stall",
// "drift"), so they are durable through the event log and visible in SQL. State is rebuilt at open
// from the runs snapshot written with the last archive plus the iteration events after it; loop and
// drift flags are recomputed from the iterations, stall flags (which depend on time) are read back.
// The clock is injected, so stall is tested without waiting.
import { NotFound } from "../errors.ts";
import type { ObserverConfig } from "./config.ts";
import { addScore, type ScorerWindow } from "./drift.ts";
import { type NewEvent, OBSERVER_SOURCE, type ObsEvent } from "./model.ts";

export type RunStatus = "open" | "cycle" | "stalled" | "drift" | "done";
export type FlagKind = "loop" | "stall" | "drift";

export interface IterationIn {
  iteration: number;
  state_hash?: string;
  score?: number;
  scorer?: string;
  note?: string;
  /** The run is finished: no stall after this. */
  done?: boolean;
}

interface Iteration extends IterationIn {
  ts: string;
  event_id: number;
}

export interface Flag {
  kind: FlagKind;
  at: string;
  iteration: number | null;
  evidence: Record<string, unknown>;
  event_id?: number;
}

interface Run {
  run_id: string;
  created_at: string;
  last_ms: number;
  iterations: number;
  recent: Iteration[];
  hashes: Record<string, number[]>;
  scorers: Record<string, ScorerWindow>;
  flags: Flag[];
  loop: boolean;
  stalled: boolean;
  done: boolean;
}

/** Iterations shown per run, flags kept per run, iteration numbers kept per state_hash: bounds on a run's memory. */
const RECENT = 100;
const MAX_FLAGS = 100;
const MAX_HASHES = 10_000;

type Submit = (events: NewEvent[]) => { events: ObsEvent[]; durable: Promise<void> };

export class Witness {
  private runs = new Map<string, Run>();
  /** The highest event id applied (a runs snapshot holds everything up to it). */
  seq = 0;

  constructor(
    private readonly cfg: Pick<ObserverConfig, "loop_repeats" | "stall_seconds" | "drift_window" | "drift_sigma" | "drift_min_delta">,
    private readonly now: () => number,
    private submit: Submit = () => {
      throw new Error("witness not attached");
    },
  ) {}

  attach(submit: Submit): void {
    this.submit = submit;
  }

  status(run: Run): RunStatus {
    if (run.loop) return "cycle";
    if (Object.values(run.scorers).some((s) => s.drifting)) return "drift";
    if (run.stalled) return "stalled";
    return run.done ? "done" : "open";
  }

  /** Records one iteration; resolves once it (and any flag it raised) is durable. */
  async iterate(runId: string, input: IterationIn): Promise<{ run_id: string; status: RunStatus; flags: Flag[] }> {
    const ts = new Date(this.now()).toISOString();
    const run = this.runs.get(runId) ?? this.newRun(runId, ts);
    // Flags are computed on a copy first, so the events can be submitted (ids assigned) before the state changes.
    const flags = this.detect(run, input, ts, true);
    const events: NewEvent[] = [
      { source: OBSERVER_SOURCE, kind: "iteration", run_id: runId, ts, level: "info", payload: input },
      ...flags.map(
        (f): NewEvent => ({
          source: OBSERVER_SOURCE,
          kind: f.kind,
          run_id: runId,
          ts,
          level: "warn",
          payload: { iteration: f.iteration, evidence: f.evidence },
        }),
      ),
    ];
    const { events: stored, durable } = this.submit(events);
    flags.forEach((f, i) => {
      f.event_id = stored[i + 1]!.id;
    });
    this.runs.set(runId, run);
    this.apply(run, input, ts, stored[0]!.id, flags);
    await durable;
    return { run_id: runId, status: this.status(run), flags };
  }

  private newRun(runId: string, ts: string): Run {
    return {
      run_id: runId,
      created_at: ts,
      last_ms: Date.parse(ts),
      iterations: 0,
      recent: [],
      hashes: {},
      scorers: {},
      flags: [],
      loop: false,
      stalled: false,
      done: false,
    };
  }

  /** The flags this iteration raises, without changing the run (dry) or applying the scorer window (not dry). */
  private detect(run: Run, it: IterationIn, ts: string, dry: boolean): Flag[] {
    const flags: Flag[] = [];
    if (it.state_hash !== undefined) {
      const seen = [...(run.hashes[it.state_hash] ?? []), it.iteration];
      if (!run.loop && seen.length >= this.cfg.loop_repeats) {
        flags.push({
          kind: "loop",
          at: ts,
          iteration: it.iteration,
          evidence: { state_hash: it.state_hash, count: seen.length, iterations: seen.slice(-20), threshold: this.cfg.loop_repeats },
        });
      }
    }
    if (it.score !== undefined && Number.isFinite(it.score)) {
      const scorer = it.scorer ?? "default";
      const w = run.scorers[scorer] ?? { baseline: [], recent: [], drifting: false };
      const win = dry ? { baseline: w.baseline.slice(), recent: w.recent.slice(), drifting: w.drifting } : w;
      const evidence = addScore(win, it.score, scorer, this.cfg);
      if (evidence) flags.push({ kind: "drift", at: ts, iteration: it.iteration, evidence });
      if (!dry) run.scorers[scorer] = win;
    }
    return flags;
  }

  private apply(run: Run, it: IterationIn, ts: string, eventId: number, flags: Flag[]): void {
    this.detect(run, it, ts, false);
    run.iterations++;
    run.last_ms = Date.parse(ts);
    run.stalled = false;
    if (it.done) run.done = true;
    run.recent.push({ ...it, ts, event_id: eventId });
    if (run.recent.length > RECENT) run.recent.shift();
    if (it.state_hash !== undefined) {
      const list = run.hashes[it.state_hash] ?? [];
      run.hashes[it.state_hash] = list;
      list.push(it.iteration);
      if (list.length > 20) list.shift();
      const keys = Object.keys(run.hashes);
      if (keys.length > MAX_HASHES) delete run.hashes[keys[0]!];
    }
    for (const f of flags) {
      if (f.kind === "loop") run.loop = true;
      this.addFlag(run, f);
    }
    this.seq = Math.max(this.seq, eventId, ...flags.map((f) => f.event_id ?? 0));
  }

  private addFlag(run: Run, f: Flag): void {
    run.flags.push(f);
    if (run.flags.length > MAX_FLAGS) run.flags.shift();
  }

  /** Replays durable events at open (after the runs snapshot). */
  replay(events: readonly ObsEvent[]): void {
    for (const e of events) {
      if (e.source !== OBSERVER_SOURCE || e.run_id === null || e.id <= this.seq) continue;
      if (e.kind === "iteration") {
        const run = this.runs.get(e.run_id) ?? this.newRun(e.run_id, e.ts);
        this.runs.set(e.run_id, run);
        const it = e.payload as IterationIn;
        const flags = this.detect(run, it, e.ts, true).map((f) => ({ ...f, event_id: undefined }));
        this.apply(run, it, e.ts, e.id, flags);
      } else if (e.kind === "stall") {
        const run = this.runs.get(e.run_id);
        const p = e.payload as { evidence?: Record<string, unknown> };
        if (run && Date.parse(e.ts) >= run.last_ms) {
          run.stalled = true;
          this.addFlag(run, { kind: "stall", at: e.ts, iteration: null, evidence: p.evidence ?? {}, event_id: e.id });
        }
        this.seq = Math.max(this.seq, e.id);
      } else if (e.kind === "loop" || e.kind === "drift") {
        // Recomputed from the iterations; keep the stored event's id on the flag.
        const run = this.runs.get(e.run_id);
        const flag = run?.flags.findLast((f) => f.kind === e.kind && f.event_id === undefined);
        if (flag) flag.event_id = e.id;
        this.seq = Math.max(this.seq, e.id);
      }
    }
  }

  /** Flags open runs that have been silent for stall_seconds; returns how many. */
  async sweep(): Promise<number> {
    const now = this.now();
    const limitMs = this.cfg.stall_seconds * 1000;
    const ts = new Date(now).toISOString();
    const due = [...this.runs.values()].filter((r) => !r.done && !r.stalled && now - r.last_ms >= limitMs);
    if (due.length === 0) return 0;
    const flags = due.map(
      (r): Flag => ({
        kind: "stall",
        at: ts,
        iteration: r.recent.at(-1)?.iteration ?? null,
        evidence: {
          last_iteration_at: new Date(r.last_ms).toISOString(),
          silent_seconds: Math.floor((now - r.last_ms) / 1000),
          threshold_seconds: this.cfg.stall_seconds,
        },
      }),
    );
    const { events, durable } = this.submit(
      due.map((r, i) => ({
        source: OBSERVER_SOURCE,
        kind: "stall",
        run_id: r.run_id,
        ts,
        level: "warn",
        payload: { iteration: flags[i]!.iteration, evidence: flags[i]!.evidence },
      })),
    );
    due.forEach((r, i) => {
      r.stalled = true;
      flags[i]!.event_id = events[i]!.id;
      this.addFlag(r, flags[i]!);
      this.seq = Math.max(this.seq, events[i]!.id);
    });
    await durable;
    return due.length;
  }

  get(runId: string) {
    const run = this.runs.get(runId);
    if (!run) throw new NotFound(`no run "${runId}" (no iteration was reported for it)`, { run_id: runId });
    return {
      run_id: run.run_id,
      status: this.status(run),
      created_at: run.created_at,
      last_iteration_at: new Date(run.last_ms).toISOString(),
      iterations: run.iterations,
      recent_iterations: run.recent.map(({ iteration, ts, state_hash, score, scorer, note, event_id }) => ({
        iteration,
        ts,
        state_hash,
        score,
        scorer,
        note,
        event_id,
      })),
      flags: run.flags,
    };
  }

  list(status?: RunStatus, limit = 1000) {
    const out: { run_id: string; status: RunStatus; iterations: number; last_iteration_at: string; flags: number }[] = [];
    for (const run of [...this.runs.values()].sort((a, b) => b.last_ms - a.last_ms)) {
      const s = this.status(run);
      if (status !== undefined && s !== status) continue;
      out.push({ run_id: run.run_id, status: s, iterations: run.iterations, last_iteration_at: new Date(run.last_ms).toISOString(), flags: run.flags.length });
      if (out.length === limit) break;
    }
    return { runs: out };
  }

  get size(): number {
    return this.runs.size;
  }

  /** The runs snapshot written with each archive (RunsSnapshotter). */
  capture(): { seq: number; runs: unknown } {
    return { seq: this.seq, runs: structuredClone([...this.runs.values()]) };
  }

  load(snapshot: unknown): void {
    const s = snapshot as { seq?: number; runs?: Run[] };
    if (!s || !Array.isArray(s.runs) || !Number.isSafeInteger(s.seq)) return;
    this.seq = s.seq!;
    this.runs = new Map(s.runs.map((r) => [r.run_id, r]));
  }
}
