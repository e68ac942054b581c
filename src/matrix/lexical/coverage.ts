// Which of a query's words the searched corpora never use (a gate signal, ../gate.ts): a word no
// document holds cannot be confirmed by BM25, only guessed at by the embedder. Words are the
// lexical tokenizer's (stop words out, plurals folded), counted once.
//
// On the labelled set (docs/matrix.md, résumés, hybrid with words+hash) the gate with this signal
// sent 38 queries to the small model, ranked at nDCG@10 0.98, and 16 to the strong one, ranked at
// 0.31 (the synonym queries but two that still ranked well); without it, all 54 went to the small
// model — read as fields, every query's top match is many deviations above an unrelated one. Words common in
// English but absent from short texts ("near", "under" against skill/city/shift profiles) also
// count: a profile corpus sends more literal queries to the strong model.
import type { QueryCoverage } from "../gate.ts";
import type { Bm25Index } from "./bm25.ts";
import { tokenize } from "./tokenize.ts";

const DIGITS = /^\d+$/;

/** Undefined when no searched corpus has a lexical index (nothing to judge by). */
export function queryCoverage(query: string, indexes: readonly (Bm25Index | undefined)[]): QueryCoverage | undefined {
  const present = indexes.filter((i): i is Bm25Index => i !== undefined && i.size > 0);
  if (present.length === 0) return undefined;
  // Numbers and single letters ("$19/h" → 19, h) are not words an embedder could guess at.
  const terms = [...new Set(tokenize(query))].filter((t) => t.length > 1 && !DIGITS.test(t));
  return { terms: terms.length, unknown: terms.filter((t) => !present.some((i) => i.knows(t))) };
}
