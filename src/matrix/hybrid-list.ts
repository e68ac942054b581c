// One corpus's hybrid list (hybrid.ts has the formula): the vector and lexical candidates, each
// one only a part found scored exactly by the other part — its BM25 score from the index, its
// cosine from its stored vector — then combined.
import type { VectorPort } from "../ports.ts";
import { unit } from "./calibration.ts";
import type { CorpusRecord } from "./corpus-store.ts";
import type { CorpusHit } from "./fusion.ts";
import { combineHybrid } from "./hybrid.ts";
import type { Bm25Index } from "./lexical/bm25.ts";
import { lexicalScores } from "./lexical/search.ts";
import { dot } from "./playbook-boost.ts";

/** One corpus's hybrid list: each candidate of either part scored exactly by the other. */
export async function hybridList(
  vectors: VectorPort,
  rec: CorpusRecord,
  query: string,
  vec: CorpusHit[],
  lex: CorpusHit[],
  index: Bm25Index | undefined,
  queryVector: readonly number[],
  lexicalWeight: number,
): Promise<CorpusHit[]> {
  const inVec = new Set(vec.map((h) => h.id));
  const inLex = new Set(lex.map((h) => h.id));
  const lexicalOf = index
    ? lexicalScores(
        index,
        query,
        vec.filter((h) => !inLex.has(h.id)).map((h) => h.id),
      )
    : new Map<string, number>();
  const vectorOf = new Map<string, number>();
  const q = unit(queryVector);
  for (const h of lex) {
    if (inVec.has(h.id)) continue;
    const item = await vectors.get(rec.index, h.id);
    if (item) vectorOf.set(h.id, dot(q, unit(item.vector)));
  }
  return combineHybrid({
    vector: vec,
    lexical: lex,
    vectorOf,
    lexicalOf,
    vectorCalibration: rec.calibration,
    lexicalCalibration: rec.lexical_calibration,
    lexicalWeight,
  });
}
