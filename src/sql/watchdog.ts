// Which SQL workers the watchdog kills, from one sample of their resident memory. A worker runs one
// statement at a time, so a busy worker's memory is its statement's: past sql.max_statement_rss it
// is killed; if all workers together (idle ones included) still pass sql.max_total_rss, the largest
// busy one is. Idle workers are never killed here (they hold no statement).
import type { ExitReason } from "./worker-client.ts";

export interface Sample<W> {
  worker: W;
  rss: number;
  busy: boolean;
}

export interface Caps {
  statement: number;
  total: number;
}

export function overCaps<W>(samples: readonly Sample<W>[], caps: Caps): { worker: W; reason: ExitReason }[] {
  const kills: { worker: W; reason: ExitReason }[] = [];
  let total = 0;
  let largest: Sample<W> | null = null;
  for (const s of samples) {
    if (s.busy && s.rss > caps.statement) {
      // Freed by this kill: it must not make the total cap take a second statement too.
      kills.push({ worker: s.worker, reason: { kind: "statement_rss", rssBytes: s.rss } });
      continue;
    }
    total += s.rss;
    if (s.busy && (!largest || s.rss > largest.rss)) largest = s;
  }
  if (total > caps.total && largest) kills.push({ worker: largest.worker, reason: { kind: "total_rss", rssBytes: largest.rss, totalBytes: total } });
  return kills;
}
