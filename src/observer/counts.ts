// Stats kept as running counts, so GET /v1/observer/stats never scans events: totals by source and
// by kind, error-level counts, last seen per source (one Counts for the hot events, one per archive
// in the manifest, summed on read), and events per second over the last hour in a ring.
import type { Level } from "./model.ts";

export interface CountsJson {
  total: number;
  by_source: Record<string, number>;
  by_kind: Record<string, number>;
  errors_by_source: Record<string, number>;
  last_seen: Record<string, string>;
}

interface Countable {
  ts: string;
  source: string;
  kind: string;
  level: Level;
}

const bump = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n;
};

export class Counts {
  total = 0;
  bySource: Record<string, number> = Object.create(null);
  byKind: Record<string, number> = Object.create(null);
  errorsBySource: Record<string, number> = Object.create(null);
  lastSeen: Record<string, string> = Object.create(null);

  add(e: Countable): void {
    this.total++;
    bump(this.bySource, e.source);
    bump(this.byKind, e.kind);
    if (e.level === "error") bump(this.errorsBySource, e.source);
    const seen = this.lastSeen[e.source];
    if (seen === undefined || e.ts > seen) this.lastSeen[e.source] = e.ts;
  }

  merge(o: CountsJson): void {
    this.total += o.total;
    for (const [k, n] of Object.entries(o.by_source)) bump(this.bySource, k, n);
    for (const [k, n] of Object.entries(o.by_kind)) bump(this.byKind, k, n);
    for (const [k, n] of Object.entries(o.errors_by_source)) bump(this.errorsBySource, k, n);
    for (const [k, ts] of Object.entries(o.last_seen)) {
      const seen = this.lastSeen[k];
      if (seen === undefined || ts > seen) this.lastSeen[k] = ts;
    }
  }

  toJSON(): CountsJson {
    return {
      total: this.total,
      by_source: { ...this.bySource },
      by_kind: { ...this.byKind },
      errors_by_source: { ...this.errorsBySource },
      last_seen: { ...this.lastSeen },
    };
  }
}

const HOUR_S = 3600;

/** Events per second of event time over the last hour: a ring of 3,600 one-second buckets. */
export class RateRing {
  private readonly counts = new Float64Array(HOUR_S);
  private readonly seconds = new Float64Array(HOUR_S).fill(-1);

  add(tsMs: number, now: number): void {
    const s = Math.floor(tsMs / 1000);
    const nowS = Math.floor(now / 1000);
    if (s > nowS || s <= nowS - HOUR_S) return;
    const i = s % HOUR_S;
    if (this.seconds[i] !== s) {
      this.seconds[i] = s;
      this.counts[i] = 0;
    }
    this.counts[i]!++;
  }

  /** Events in the last `windowS` seconds (up to and including the current one). */
  sum(windowS: number, now: number): number {
    const nowS = Math.floor(now / 1000);
    let n = 0;
    for (let s = nowS - windowS + 1; s <= nowS; s++) {
      const i = ((s % HOUR_S) + HOUR_S) % HOUR_S;
      if (this.seconds[i] === s) n += this.counts[i]!;
    }
    return n;
  }
}
