// A corpus's lexical candidates for a search: BM25 over its index, the search's filter applied to
// each candidate's metadata as stored with its vector (the same metadata, the same filter
// language and predicate as the vector part), best first; scores normalized (score.ts).
import type { Predicate } from "../../filter/compile.ts";
import type { VectorPort } from "../../ports.ts";
import { TEXT_KEY } from "../builder.ts";
import type { CorpusHit } from "../fusion.ts";
import type { Bm25Index } from "./bm25.ts";
import { normalizedScore } from "./score.ts";

export function lexicalHits(index: Bm25Index, vectors: VectorPort, vectorIndex: string, query: string, k: number, accept?: Predicate): CorpusHit[] {
  if (!vectors.hasIndex(vectorIndex)) return [];
  const max = index.maxScore(query);
  const stored = new Map<string, Record<string, unknown>>();
  const hits = index.search(query, k, (id) => {
    // A document must also be in the vector index: a row a build is removing may linger here.
    const meta = vectors.metadata(vectorIndex, id);
    if (meta === undefined || (accept && !accept(meta))) return false;
    stored.set(id, meta);
    return true;
  });
  return hits.map((h) => {
    const { [TEXT_KEY]: text, ...metadata } = stored.get(h.id)!;
    return { id: h.id, score: normalizedScore(h.score, max), metadata, text: typeof text === "string" ? text : undefined };
  });
}

/** Normalized BM25 scores of given documents (those the index lacks are left out). */
export function lexicalScores(index: Bm25Index, query: string, ids: readonly string[]): Map<string, number> {
  const max = index.maxScore(query);
  const out = new Map<string, number>();
  for (const [id, raw] of index.scoreOf(query, ids)) out.set(id, normalizedScore(raw, max));
  return out;
}
