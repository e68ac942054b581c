// Search planning, given an index's state. With a filter, candidates are counted first (from the
// equality postings of its narrowest $eq/$in condition when it has one, else over every item),
// stopping as soon as there are more than `exactFilterMax`: few candidates are scored exactly (in-graph
// filtering at 1% selectivity wanders far), many are filtered inside the graph walk (Qdrant plans
// the same way). Items acknowledged but not yet in the graph are always scored exactly and merged
// in, so a search reads its own writes; the response says how many (`pending_scanned`).
//
// The graph lives in another thread (graph-worker.ts), so its part is asynchronous. Everything
// else happens in one synchronous step after the graph answers: graph hits whose label is no
// longer current (deleted, re-upserted, pending) are dropped, and the pending items of that same
// moment are scanned, so a hit is never a half-applied item and a delete never comes back.
import { compileFilter, type Metadata, type Predicate } from "../filter/compile.ts";
import { parseFilter } from "../filter/parse.ts";
import { type FieldPostings, narrowest } from "./field-postings.ts";
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
  score(query: Float32Array, labels: readonly number[], visit: (index: number, distance: number) => void): void;
  /** The `keep` labels among `labels` nearest to `query` by a cheap approximate score (int8 codes). */
  shortlist(query: Float32Array, labels: readonly number[], keep: number): number[];
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
  const pred = node && compileFilter(node);
  const ef = req.ef ?? s.efSearch;

  let allowed: Uint8Array | undefined;
  if (node && pred) {
    const narrowed = narrowest(node, s.postings);
    const labels = narrowed ? narrowed.labels : s.live.values();
    const candidates = collectUpTo(labels, s, pred, s.exactFilterMax);
    if (candidates) {
      const top = new TopK(req.k);
      s.score(query, candidates, (i, d) => top.offer(candidates[i]!, d));
      let pendingScanned = 0;
      for (const label of candidates) if (s.pending.has(label)) pendingScanned++;
      return { hits: hits(top, s, req.include_vectors), pending_scanned: pendingScanned };
    }
    // Many match: the graph walk tests each node it visits against a bitmap of the matches (the
    // graph's thread cannot call back into this one's metadata). A bit per label: 12.5 KB at 100K.
    allowed = new Uint8Array((s.labelLimit + 7) >> 3);
    for (const label of narrowed ? narrowed.labels : s.live.values()) if (pred(s.metaOf(label))) allowed[label >> 3]! |= 1 << (label & 7);
  }
  const graphHits = await s.graph.search(query, req.k, ef, allowed);

  // From here on synchronous: the graph hits and the pending scan see the same acknowledged state.
  const top = new TopK(req.k);
  for (const h of graphHits) if (isCurrent(h.label, s)) top.offer(h.label, h.distance);
  const pending: number[] = [];
  for (const label of s.pending.keys()) if (!pred || pred(s.metaOf(label))) pending.push(label);
  const scored = pending.length <= EXACT_PENDING_MAX ? pending : s.shortlist(query, pending, rescoreCount(req.k));
  s.score(query, scored, (i, d) => top.offer(scored[i]!, d));
  return { hits: hits(top, s, req.include_vectors), pending_scanned: pending.length };
}

/** A graph hit counts only while its label holds an acknowledged item the graph is up to date with. */
function isCurrent(label: number, s: SearchState): boolean {
  return !s.pending.has(label) && s.live.get(s.idOf(label) ?? "") === label;
}

/** The labels among `labels` matching `pred`, or null as soon as there are more than `max`. */
function collectUpTo(labels: Iterable<number>, s: SearchState, pred: Predicate, max: number): number[] | null {
  const out: number[] = [];
  for (const label of labels) {
    if (!pred(s.metaOf(label))) continue;
    if (out.length === max) return null;
    out.push(label);
  }
  return out;
}

function hits(top: TopK, s: SearchState, withVectors = false): SearchHit[] {
  return top.sorted().map(({ label, distance: d }) => {
    const hit: SearchHit = { id: s.idOf(label), score: scoreOf(s.metric, d), metadata: s.metaOf(label) };
    if (withVectors) hit.vector = Array.from(s.vectorOf(label));
    return hit;
  });
}
