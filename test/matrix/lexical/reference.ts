// The lexical index a corpus over test/support/staffing.ts workers should hold, built from scratch
// in this process: what the durable, incremental one is compared with. Free of bun:test.
import { Bm25Index } from "../../../src/matrix/lexical/bm25.ts";
import { normalizedScore } from "../../../src/matrix/lexical/score.ts";
import { renderText } from "../../../src/matrix/rows.ts";
import type { Worker } from "../../support/staffing.ts";
import { WORKERS_CORPUS } from "../fixtures.ts";

export function referenceIndex(rows: readonly Worker[]): Bm25Index {
  const ix = new Bm25Index();
  for (const w of rows) ix.upsert(w.worker_id, renderText({ template: WORKERS_CORPUS.template }, w as any));
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
