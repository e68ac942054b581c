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
  // A document must also be in the vector index: a row a build is removing may linger here.
  const accept = typeof filter === "function" ? viaMetadata(vectors, vectorIndex, filter) : vectors.filterAccept(vectorIndex, filter);
  const out: CorpusHit[] = [];
  for (const h of index.search(query, k, accept)) {
    const stored = vectors.metadata(vectorIndex, h.id);
    if (stored === undefined) continue;
    out.push({ id: h.id, score: normalizedScore(h.score, max), ...storedDoc(stored) });
  }
  return out;
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
