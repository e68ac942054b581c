// A BM25 score as a share of what the query could score at most (every term present and
// saturated): raw BM25 grows with the number of query terms, so scores of a two-word and a
// ten-word query, or of a probe and a real query, are comparable only once divided by it.
export function normalizedScore(raw: number, max: number): number {
  return max > 0 ? raw / max : 0;
}
