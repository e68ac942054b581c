// Which of a query's words the searched corpora never use (a gate signal, ../gate.ts): a word no
// document holds cannot be confirmed by BM25, only guessed at by the embedder. Words are the
// lexical tokenizer's (stop words out, plurals folded), counted once.
//
// On the labelled set (docs/matrix.md, résumés, hybrid with words+hash) the gate with this signal
// sent 38 queries to the small model, ranked at nDCG@10 0.98, and 16 to the strong one, ranked at
// 0.31 (the synonym queries but two that still ranked well); without it, all 54 went to the small
// model — read as fields, every query's top match is many deviations above an unrelated one.
import type { QueryCoverage } from "../gate.ts";
import type { Bm25Index } from "./bm25.ts";
import { tokenize } from "./tokenize.ts";

const DIGITS = /^\d+$/;

export interface CoverageOptions {
  /** Words too common in English to matter when a corpus lacks them ("near", "available"). */
  commonWord?: (word: string) => boolean;
  /** Words of the corpora's template literals: in every text shown, though no field holds them. */
  literal?: ReadonlySet<string>;
}

/** Undefined when no searched corpus has a lexical index (nothing to judge by). */
export function queryCoverage(query: string, indexes: readonly (Bm25Index | undefined)[], opts: CoverageOptions = {}): QueryCoverage | undefined {
  const present = indexes.filter((i): i is Bm25Index => i !== undefined && i.size > 0);
  if (present.length === 0) return undefined;
  const common = opts.commonWord ?? (() => false);
  // Numbers and single letters ("$19/h" → 19, h) are not words an embedder could guess at; nor
  // are the most common English words: a corpus need not use them for a query to be found in it.
  const terms = [...new Set(tokenize(query))].filter((t) => t.length > 1 && !DIGITS.test(t) && !common(t));
  return { terms: terms.length, unknown: terms.filter((t) => !opts.literal?.has(t) && !present.some((i) => i.knows(t))) };
}
