// The lexical index a corpus over test/support/staffing.ts workers should hold, built from scratch
// in this process: what the durable, incremental one is compared with. Free of bun:test.
import { Bm25Index } from "../../../src/matrix/lexical/bm25.ts";
import { normalizedScore } from "../../../src/matrix/lexical/score.ts";
import { type Field, renderWithSpans } from "../../../src/matrix/fields.ts";
import { fieldedText } from "../../../src/matrix/stored.ts";
import type { Worker } from "../../support/staffing.ts";
import { WORKERS_CORPUS } from "../fixtures.ts";

/** `fields`: the corpus's, as its status reports them (weighed from the rows it was created over). */
export function referenceIndex(rows: readonly Worker[], fields: readonly Field[]): Bm25Index {
  const ix = new Bm25Index(fields.map((f) => f.weight));
  for (const w of rows) {
    const { text, spans } = renderWithSpans({ template: WORKERS_CORPUS.template }, fields, w as any);
    ix.upsert(w.worker_id, fieldedText(text, spans));
  }
  return ix;
}

/** id → normalized BM25 (what a lexical search reports as `raw`), for the top `k`. */
export function referenceScores(ix: Bm25Index, query: string, k: number): Map<string, number> {
  const max = ix.maxScore(query);
  return new Map(ix.search(query, k).map((h) => [h.id, normalizedScore(h.score, max)]));
}

/** The same from a lexical search's explained results. */
export function reportedScores(res: { results: { id: string; explain: { sources: { raw: number }[] } }[] }): Map<string, number> {
  return new Map(res.results.map((r) => [r.id, r.explain.sources[0]!.raw]));
}
