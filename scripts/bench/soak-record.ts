// What the soak (scripts/bench/soak.ts) records: every request with its kind, timing and outcome,
// the processes' memory once a second, and the faults it injected; then the per-window figures and
// the classification of every failed request as caused by a fault or unexpected.
import { loadavg } from "node:os";
import { percentile } from "./report.ts";

export interface Sample {
  kind: string;
  /** ms since the load started. */
  start: number;
  end: number;
  /** HTTP status; 0 when no answer came (connection error, client timeout). */
  status: number;
  code?: string;
  retryAfter?: string;
  /** A connection error or client timeout, or the envelope's message of a failed request. */
  error?: string;
  rid: string;
}

export interface MemorySample {
  t: number;
  server: number;
  /** SQL worker pids and their resident memory. */
  workers: [number, number][];
  /** Other children of the server (the ingest conversion process). */
  others: number;
  load1: number;
}

export interface Fault {
  name: string;
  /** What was done, in one line. */
  what: string;
  start: number;
  end: number;
  /** Whether a failed request is this fault's intended effect (it is then counted apart). */
  explains(s: Sample): boolean;
  /** What it produced, filled in as it runs. */
  outcome: string[];
}

export type Verdict = "ok" | "induced" | "unexpected";

const MiB = 1024 * 1024;

export class Recorder {
  readonly samples: Sample[] = [];
  readonly memory: MemorySample[] = [];
  readonly faults: Fault[] = [];
  private t0 = performance.now();

  now(): number {
    return performance.now() - this.t0;
  }

  /** Starts the clock again with nothing recorded: the load starts now. */
  restart(): void {
    this.samples.length = 0;
    this.memory.length = 0;
    this.t0 = performance.now();
  }

  add(s: Sample): void {
    this.samples.push(s);
  }

  sampleMemory(server: number, workers: [number, number][], others: number): void {
    this.memory.push({ t: this.now(), server, workers, others, load1: loadavg()[0]! });
  }

  /** The fault that explains a failed request, if one does. */
  faultFor(s: Sample): Fault | undefined {
    return this.faults.find((f) => f.explains(s));
  }

  verdict(s: Sample): Verdict {
    if (s.status >= 200 && s.status < 300) return "ok";
    return this.faultFor(s) ? "induced" : "unexpected";
  }

  unexpected(): Sample[] {
    return this.samples.filter((s) => this.verdict(s) === "unexpected");
  }
}

export interface KindStats {
  n: number;
  ok: number;
  induced: number;
  unexpected: number;
  p50: number;
  p99: number;
  max: number;
}

/** Latency over the answered requests (any status), so a slow failure counts as slow. */
export function stats(rec: Recorder, samples: Sample[]): KindStats {
  const ms = samples
    .filter((s) => s.status !== 0)
    .map((s) => s.end - s.start)
    .sort((a, b) => a - b);
  const by = (v: Verdict) => samples.filter((s) => rec.verdict(s) === v).length;
  return {
    n: samples.length,
    ok: by("ok"),
    induced: by("induced"),
    unexpected: by("unexpected"),
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: ms.at(-1) ?? Number.NaN,
  };
}

export interface Window {
  from: number;
  to: number;
  samples: Sample[];
  memory: MemorySample[];
  faults: Fault[];
}

/** Requests by the window they ended in; memory samples and faults (by start) likewise. The last window takes what ended after the load stopped. */
export function windows(rec: Recorder, widthMs: number, endMs: number): Window[] {
  const out: Window[] = [];
  const n = Math.max(1, Math.round(endMs / widthMs));
  for (let i = 0; i < n; i++) {
    const from = i * widthMs;
    const to = i === n - 1 ? endMs : from + widthMs;
    const inside = (t: number) => t >= from && (t < to || i === n - 1);
    out.push({
      from,
      to,
      samples: rec.samples.filter((s) => !s.kind.startsWith("fault:") && inside(s.end)),
      memory: rec.memory.filter((m) => inside(m.t)),
      faults: rec.faults.filter((f) => inside(f.start)),
    });
  }
  return out;
}

export const mib = (bytes: number) => `${Math.round(bytes / MiB).toLocaleString("en-US")} MiB`;
export const ms = (x: number) => (Number.isNaN(x) ? "—" : x >= 100 ? `${Math.round(x)}` : x.toFixed(1));
export const workersRss = (m: MemorySample) => m.workers.reduce((a, [, rss]) => a + rss, 0);

/** Least-squares slope of the server's RSS over the given samples, in MiB per minute. */
export function rssSlope(memory: MemorySample[]): number {
  if (memory.length < 2) return 0;
  const xs = memory.map((m) => m.t / 60_000);
  const ys = memory.map((m) => m.server / MiB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
