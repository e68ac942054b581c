// Search planning, given an index's state. With a filter, candidates are counted first (from the
// equality postings of its narrowest $eq/$in condition when it has one, else over every item),
// stopping as soon as there are more than `exactFilterMax`: few candidates are scored exactly (in-graph
// filtering at 1% selectivity wanders far), many are filtered inside the graph walk (Qdrant plans
// the same way). Items acknowledged but not yet in the graph are always scored exactly and merged
// in, so a search reads its own writes.
import { compileFilter, type Metadata, type Predicate } from "../filter/compile.ts";
import { parseFilter } from "../filter/parse.ts";
import { type FieldPostings, narrowest } from "./field-postings.ts";
import { ValidationFailed } from "../errors.ts";
import type { GraphHit } from "./hnsw.ts";
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

export interface SearchState {
  dim: number;
  metric: Metric;
  efSearch: number;
  exactFilterMax: number;
  /** Acknowledged items: id → label. */
  live: ReadonlyMap<string, number>;
  idOf(label: number): string;
  metaOf(label: number): Metadata;
  vectorOf(label: number): Float32Array;
  /** Calls `visit(i, distance)` with the metric's distance from `query` to the acknowledged vector of each of `labels`. */
  score(query: Float32Array, labels: readonly number[], visit: (index: number, distance: number) => void): void;
  /** Equality postings of the metadata fields filters use. */
  postings: FieldPostings;
  /** Labels whose acknowledged vector is not in the graph yet. */
  pending: ReadonlyMap<number, number>;
  graph: { search(query: Float32Array, k: number, ef: number, accept?: (label: number) => boolean): GraphHit[] };
}

export function searchIndex(req: SearchRequest, s: SearchState): SearchHit[] {
  const query = toVector(req.vector, s.dim, s.metric, "vector");
  if (!(query instanceof Float32Array)) throw new ValidationFailed(`${query.path}: ${query.message}`, [query]);
  const node = req.filter === undefined ? undefined : parseFilter(req.filter);
  const pred = node && compileFilter(node);
  const ef = req.ef ?? s.efSearch;
  const top = new TopK(req.k);

  if (node && pred) {
    const narrowed = narrowest(node, s.postings);
    const candidates = collectUpTo(narrowed ? narrowed.labels : s.live.values(), s, pred, s.exactFilterMax);
    if (candidates) {
      s.score(query, candidates, (i, d) => top.offer(candidates[i]!, d));
      return hits(top, s, req.include_vectors);
    }
  }
  for (const h of s.graph.search(query, req.k, ef, pred && ((l) => pred(s.metaOf(l))))) top.offer(h.label, h.distance);
  const pending: number[] = [];
  for (const label of s.pending.keys()) if (!pred || pred(s.metaOf(label))) pending.push(label);
  s.score(query, pending, (i, d) => top.offer(pending[i]!, d));
  return hits(top, s, req.include_vectors);
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
