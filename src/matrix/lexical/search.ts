// A corpus's lexical candidates for a search: BM25 over its index, the search's filter applied to
// each candidate as stored with its vector (the same metadata, the same filter language as the
// vector part), best first; scores normalized (score.ts).
//
// With a 3–8% filter BM25 walks thousands of candidates per query before k pass. Given the filter
// itself, each is tested through the vector index's equality postings (VectorPort.filterAccept:
// an id lookup and a bit test for {"state": "IL"}) and only the k kept read their metadata.
// A compiled predicate still works but reads the metadata of every candidate it tests.
import type { Predicate } from "../../filter/compile.ts";
import type { FilterInput } from "../../filter/parse.ts";
import type { VectorPort } from "../../ports.ts";
import { storedDoc } from "../stored.ts";
import type { CorpusHit } from "../fusion.ts";
import type { Bm25Index } from "./bm25.ts";
import { normalizedScore } from "./score.ts";

export function lexicalHits(
  index: Bm25Index,
  vectors: VectorPort,
  vectorIndex: string,
  query: string,
  k: number,
  filter?: FilterInput | Predicate,
): CorpusHit[] {
  if (!vectors.hasIndex(vectorIndex)) return [];
  const max = index.maxScore(query);
  const allowed = filter !== undefined && typeof filter !== "function" ? allowedOrdinals(index, vectors, vectorIndex, filter) : null;
  // A document must also be in the vector index: a row a build is removing may linger here.
  const accept = allowed ? undefined : typeof filter === "function" ? viaMetadata(vectors, vectorIndex, filter) : vectors.filterAccept(vectorIndex, filter);
  const out: CorpusHit[] = [];
  for (const h of index.search(query, k, accept, allowed ?? undefined)) {
    const stored = vectors.metadata(vectorIndex, h.id);
    if (stored === undefined) continue;
    out.push({ id: h.id, score: normalizedScore(h.score, max), ...storedDoc(stored) });
  }
  return out;
}

/**
 * A filter the vector index's postings answer exactly, as a bitset over this BM25 index's
 * ordinals, remembered per filter (the way Elasticsearch caches filter bitsets per segment) while
 * neither index changes: building it looks up each passing id (3–8K for a state) in the BM25
 * index, about what testing the candidates one by one costs, so a filter used once costs the same
 * and one used again (a recruiter's state, availability) costs a bit test per candidate.
 */
const FILTER_CACHE_ENTRIES = 64;
interface CachedFilter {
  generation: number;
  seq: number;
  allowed: Uint8Array;
}
const filterCache = new WeakMap<Bm25Index, Map<string, CachedFilter>>();

function allowedOrdinals(index: Bm25Index, vectors: VectorPort, vectorIndex: string, filter: FilterInput): Uint8Array | null {
  const passing = vectors.filterIds(vectorIndex, filter);
  if (!passing) return null;
  const cache = filterCache.get(index) ?? new Map<string, CachedFilter>();
  filterCache.set(index, cache);
  const key = `${vectorIndex}\u0000${JSON.stringify(filter)}`;
  const hit = cache.get(key);
  if (hit && hit.generation === index.generation && hit.seq === passing.seq) {
    // Most recently used last: the first key is the one evicted.
    cache.delete(key);
    cache.set(key, hit);
    return hit.allowed;
  }
  const allowed = new Uint8Array((index.ordinals + 7) >> 3);
  for (const id of passing.ids) {
    const d = index.ordinalOf(id);
    if (d !== undefined) allowed[d >> 3]! |= 1 << (d & 7);
  }
  cache.delete(key);
  cache.set(key, { generation: index.generation, seq: passing.seq, allowed });
  if (cache.size > FILTER_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return allowed;
}

function viaMetadata(vectors: VectorPort, vectorIndex: string, pred: Predicate): (id: string) => boolean {
  return (id) => {
    const meta = vectors.metadata(vectorIndex, id);
    return meta !== undefined && pred(meta);
  };
}

/** Normalized BM25 scores of given documents (those the index lacks are left out). */
export function lexicalScores(index: Bm25Index, query: string, ids: readonly string[]): Map<string, number> {
  const max = index.maxScore(query);
  const out = new Map<string, number>();
  for (const [id, raw] of index.scoreOf(query, ids)) out.set(id, normalizedScore(raw, max));
  return out;
}
