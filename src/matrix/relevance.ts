// The relevance cut after fusion, pure: a minimum score, required terms, then a score-gap
// (elbow) cut. Every dropped result is counted under its reason and can be attributed.
import type { Fused } from "./fusion.ts";

export interface RelevanceOptions {
  /** Drop results whose fused score is below this. */
  minScore?: number;
  /** Each term (a word or a phrase) must appear in the result's text, case-insensitively. */
  requiredTerms?: string[];
  /** Cut everything after the first drop between consecutive scores at least this large. */
  gap?: number;
}

export type DropReason = "min_score" | "required_terms" | "gap";

export interface Drop {
  corpus: string;
  id: string;
  score: number;
  reason: DropReason;
  detail: string;
}

export interface RelevanceResult {
  kept: Fused[];
  drops: Drop[];
  counts: Record<DropReason, number>;
}

const WORD = /[\p{L}\p{N}]+/gu;

export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

function containsPhrase(haystack: readonly string[], phrase: readonly string[]): boolean {
  if (phrase.length === 0) return true;
  outer: for (let i = 0; i + phrase.length <= haystack.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (haystack[i + j] !== phrase[j]) continue outer;
    return true;
  }
  return false;
}

/** The text a result is checked against: its embedded text, or its metadata values when it has none. */
function searchableText(r: Fused): string {
  if (r.text !== undefined) return r.text;
  return Object.values(r.metadata)
    .filter((x) => typeof x === "string" || typeof x === "number")
    .join(" ");
}

/** `results` sorted best first; the kept ones stay in that order. */
export function applyRelevance(results: readonly Fused[], opts: RelevanceOptions): RelevanceResult {
  const drops: Drop[] = [];
  const counts: Record<DropReason, number> = { min_score: 0, required_terms: 0, gap: 0 };
  const drop = (r: Fused, reason: DropReason, detail: string) => {
    counts[reason]++;
    drops.push({ corpus: r.corpus, id: r.id, score: r.score, reason, detail });
  };
  const terms = (opts.requiredTerms ?? []).map((t) => ({ term: t, words: words(t) })).filter((t) => t.words.length > 0);
  const passing: Fused[] = [];
  for (const r of results) {
    if (opts.minScore !== undefined && r.score < opts.minScore) {
      drop(r, "min_score", `score ${round(r.score)} is below ${opts.minScore}`);
      continue;
    }
    if (terms.length > 0) {
      const text = words(searchableText(r));
      const missing = terms.filter((t) => !containsPhrase(text, t.words)).map((t) => t.term);
      if (missing.length > 0) {
        drop(r, "required_terms", `missing ${missing.map((m) => JSON.stringify(m)).join(", ")}`);
        continue;
      }
    }
    passing.push(r);
  }
  let kept = passing;
  if (opts.gap !== undefined) {
    const cut = passing.findIndex((r, i) => i > 0 && passing[i - 1]!.score - r.score >= opts.gap!);
    if (cut > 0) {
      const above = passing[cut - 1]!.score;
      for (const r of passing.slice(cut)) drop(r, "gap", `after a score drop of ${round(above - passing[cut]!.score)} (gap ${opts.gap}) below rank ${cut}`);
      kept = passing.slice(0, cut);
    }
  }
  return { kept, drops, counts };
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
