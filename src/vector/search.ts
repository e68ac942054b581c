// Search planning, given an index's state. With a filter, candidates are counted first (from the
// equality postings of its narrowest $eq/$in condition when it has one, else over every item;
// filter-plan.ts), stopping as soon as there are more than `exactFilterMax`: few candidates are
// scored exactly (in-graph filtering at 1% selectivity wanders far), many are filtered inside the
// graph walk (Qdrant plans the same way). Items acknowledged but not yet in the graph are always scored exactly and merged
// in, so a search reads its own writes; the response says how many (`pending_scanned`).
//
// The graph lives in another thread (graph-worker.ts), so its part is asynchronous. Everything
// else happens in one synchronous step after the graph answers: graph hits whose label is no
// longer current (deleted, re-upserted, pending) are dropped, and the pending items of that same
// moment are scanned, so a hit is never a half-applied item and a delete never comes back.
import type { Metadata } from "../filter/compile.ts";
import { parseFilter } from "../filter/parse.ts";
import type { FieldPostings } from "./field-postings.ts";
import { type FilterPlan, planFilter } from "./filter-plan.ts";
import { ValidationFailed } from "../errors.ts";
import { rescoreCount } from "./codes.ts";
import { TopK } from "./topk.ts";
import { type Metric, scoreOf, toVector } from "./vectors.ts";

export interface SearchRequest {
  vector: readonly unknown[];
  k: number;
  ef?: number;
  filter?: unknown;
  include_vectors?: boolean;
}

export interface SearchHit {
  id: string;
  score: number;
  metadata: Metadata;
  vector?: number[];
}

export interface SearchResult {
  hits: SearchHit[];
  /** Items not yet in the graph that this search scored by scanning them (after the filter). */
  pending_scanned: number;
}

export interface GraphHit {
  label: number;
  distance: number;
}

/** The graph's side of a search: the nearest `k`, only among `allowed` labels (a bitmap) when given. */
export interface GraphSearcher {
  search(query: Float32Array, k: number, ef: number, allowed?: Uint8Array): Promise<GraphHit[]>;
}

/**
 * Up to this many pending items are scored in float32 directly; past it, the int8 copy picks a
 * shortlist that is re-scored exactly. 2,048 × 384 float32 is 3 MiB, ≈0.4 ms: below that the
 * shortlist saves nothing worth its extra pass.
 */
export const EXACT_PENDING_MAX = 2048;

export interface SearchState {
  dim: number;
  metric: Metric;
  efSearch: number;
  exactFilterMax: number;
  /** Acknowledged items: id → label. */
  live: ReadonlyMap<string, number>;
  /** One past the highest label in use (sizes a filter's bitmap). */
  labelLimit: number;
  idOf(label: number): string;
  metaOf(label: number): Metadata;
  vectorOf(label: number): Float32Array;
  /** Calls `visit(i, distance)` with the metric's distance from `query` to the acknowledged vector of each of `labels`. */
  score(query: Float32Array, labels: ArrayLike<number>, visit: (index: number, distance: number) => void): void;
  /** The `keep` labels among `labels` nearest to `query` by a cheap approximate score (int8 codes). */
  shortlist(query: Float32Array, labels: ArrayLike<number>, keep: number): number[];
  /** Whether every acknowledged item has its int8 code (after a start, not until the restored ones are coded). */
  codesComplete: boolean;
  /** Equality postings of the metadata fields filters use. */
  postings: FieldPostings;
  /** Labels whose acknowledged vector is not in the graph yet. */
  pending: ReadonlyMap<number, number>;
  graph: GraphSearcher;
}

export async function searchIndex(req: SearchRequest, s: SearchState): Promise<SearchResult> {
  const query = toVector(req.vector, s.dim, s.metric, "vector");
  if (!(query instanceof Float32Array)) throw new ValidationFailed(`${query.path}: ${query.message}`, [query]);
  const node = req.filter === undefined ? undefined : parseFilter(req.filter);
  const plan = node && planFilter(node, s.postings, s.metaOf);
  const ef = req.ef ?? s.efSearch;

  let allowed: Uint8Array | undefined;
  if (plan) {
    const candidates = matchesUpTo(plan, s, s.exactFilterMax);
    if (candidates) {
      // Past a few thousand, the int8 copy picks the shortlist that is scored exactly (as for the
      // pending scan): a scan of scattered slab rows is bound by memory, and a code is a quarter
      // of a row (5,600 of 100K × 384: 1.4 ms against 2.2 ms for the float32 rows).
      const scored = candidates.length > EXACT_PENDING_MAX && s.codesComplete ? s.shortlist(query, candidates, rescoreCount(req.k)) : candidates;
      const top = new TopK(req.k);
      s.score(query, scored, (i, d) => top.offer(scored[i]!, d));
      return { hits: hits(top, s, req.include_vectors), pending_scanned: countPending(candidates, s) };
    }
    // Many match: the graph walk tests each node it visits against a bitmap of the matches (the
    // graph's thread cannot call back into this one's metadata). A bit per label: 12.5 KB at 100K.
    allowed = new Uint8Array((s.labelLimit + 7) >> 3);
    if (plan.candidates) {
      for (const label of plan.candidates) if (plan.exact || plan.refine(label)) allowed[label >> 3]! |= 1 << (label & 7);
    } else {
      for (const label of s.live.values()) if (plan.refine(label)) allowed[label >> 3]! |= 1 << (label & 7);
    }
  }
  const graphHits = await s.graph.search(query, req.k, ef, allowed);

  // From here on synchronous: the graph hits and the pending scan see the same acknowledged state
  // (the plan's tests read the postings and metadata of this moment, not of the plan's).
  const top = new TopK(req.k);
  for (const h of graphHits) if (isCurrent(h.label, s)) top.offer(h.label, h.distance);
  const pending: number[] = [];
  for (const label of s.pending.keys()) if (!plan || plan.accepts(label)) pending.push(label);
  const scored = pending.length <= EXACT_PENDING_MAX ? pending : s.shortlist(query, pending, rescoreCount(req.k));
  s.score(query, scored, (i, d) => top.offer(scored[i]!, d));
  return { hits: hits(top, s, req.include_vectors), pending_scanned: pending.length };
}

/** A graph hit counts only while its label holds an acknowledged item the graph is up to date with. */
function isCurrent(label: number, s: SearchState): boolean {
  return !s.pending.has(label) && s.live.get(s.idOf(label) ?? "") === label;
}

/** The labels matching the plan, ascending when the postings gave them, or null as soon as there are more than `max`. */
function matchesUpTo(plan: FilterPlan, s: SearchState, max: number): ArrayLike<number> | null {
  if (plan.exact && plan.candidates) return plan.candidates.length <= max ? plan.candidates : null;
  const out: number[] = [];
  for (const label of plan.candidates ?? s.live.values()) {
    if (!plan.refine(label)) continue;
    if (out.length === max) return null;
    out.push(label);
  }
  return out;
}

/** How many of `labels` are pending (scored here although the graph does not hold them yet). */
function countPending(labels: ArrayLike<number>, s: SearchState): number {
  if (s.pending.size === 0) return 0;
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (s.pending.has(labels[i]!)) n++;
  return n;
}

function hits(top: TopK, s: SearchState, withVectors = false): SearchHit[] {
  return top.sorted().map(({ label, distance: d }) => {
    const hit: SearchHit = { id: s.idOf(label), score: scoreOf(s.metric, d), metadata: s.metaOf(label) };
    if (withVectors) hit.vector = Array.from(s.vectorOf(label));
    return hit;
  });
}
