// How past outcomes move today's results, pure. A playbook applies to a search when its query is
// similar enough to the new one; its effect is that similarity times the configured weight,
// halved every half-life, scaled by its rating, positive for a success and negative for a failure.
import { compareFused, type Fused } from "./fusion.ts";

export interface PlaybookSignal {
  id: string;
  corpus: string;
  item_id: string;
  outcome: "success" | "failure";
  /** 1-5; absent counts as 5. */
  rating?: number;
  /** Creation time, ms since the epoch. */
  created_ms: number;
  /** Unit-length embedding of the playbook's query. */
  vector: readonly number[];
}

export interface BoostOptions {
  minSimilarity: number;
  weight: number;
  halfLifeDays: number;
  /** Fused-score units per unit of effect (1 under calibrated fusion, one top rank under RRF). */
  unit: number;
  now: number;
}

export interface Boost {
  playbook: string;
  outcome: "success" | "failure";
  similarity: number;
  age_days: number;
  effect: number;
}

const DAY_MS = 86_400_000;

export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}

export const itemKey = (corpus: string, id: string) => `${corpus}\u0000${id}`;

/** Effects per (corpus, item id) of every playbook that applies to a query with unit vector `query`. */
export function playbookBoosts(query: readonly number[], playbooks: Iterable<PlaybookSignal>, o: BoostOptions): Map<string, Boost[]> {
  const out = new Map<string, Boost[]>();
  for (const p of playbooks) {
    if (p.vector.length !== query.length) continue;
    const similarity = dot(query, p.vector);
    if (similarity < o.minSimilarity) continue;
    const ageDays = Math.max(0, (o.now - p.created_ms) / DAY_MS);
    const decay = 0.5 ** (ageDays / o.halfLifeDays);
    const sign = p.outcome === "success" ? 1 : -1;
    const effect = sign * o.weight * o.unit * similarity * decay * ((p.rating ?? 5) / 5);
    const key = itemKey(p.corpus, p.item_id);
    const list = out.get(key) ?? [];
    list.push({ playbook: p.id, outcome: p.outcome, similarity, age_days: ageDays, effect });
    out.set(key, list);
  }
  return out;
}

/** Adds each result's boosts to its score (any of its merged sources counts) and re-sorts. */
export function applyBoosts(results: readonly Fused[], boosts: ReadonlyMap<string, Boost[]>): { results: Fused[]; applied: Map<Fused, Boost[]> } {
  const applied = new Map<Fused, Boost[]>();
  const out = results.map((r) => {
    const list = r.sources.flatMap((s) => boosts.get(itemKey(s.corpus, s.id)) ?? []);
    if (list.length === 0) return r;
    const boosted = { ...r, score: r.score + list.reduce((a, b) => a + b.effect, 0) };
    applied.set(boosted, list);
    return boosted;
  });
  return { results: out.sort(compareFused), applied };
}
