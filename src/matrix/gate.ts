// The downgrade gate, pure: decides whether a small model can answer from these results or a
// strong one is needed, from confidence signals that are cheap to compute and easy to explain.
import type { GateConfig } from "./config.ts";

export interface GateInput {
  corpus: string;
  /** Calibrated confidence of the result (standard deviations above an unrelated match). */
  score: number;
}

export interface GateSignals {
  top_score: number | null;
  /** Lead of the top result over the second; null with fewer than two results. */
  margin: number | null;
  /** Share of the searched corpora with at least one passing result. */
  agreement: number;
  passing: number;
  /** Query words that occur in none of the searched corpora (their lexical indexes); absent without query text. */
  unknown_terms?: string[];
  /** Their share of the query's distinct words. */
  unknown_share?: number;
}

export interface GateDecision {
  tier: "small" | "strong";
  reason: string;
  signals: GateSignals;
}

/** The query's words none of the searched corpora use, and their share of its distinct words. */
export interface QueryCoverage {
  terms: number;
  unknown: string[];
}

/** `results` are the ones that passed relevance; `corpora` the corpora searched (default: those present). */
export function gateSignals(results: readonly GateInput[], corpora?: readonly string[], coverage?: QueryCoverage): GateSignals {
  const scores = results.map((r) => r.score).sort((a, b) => b - a);
  const present = new Set(results.map((r) => r.corpus));
  const searched = corpora && corpora.length > 0 ? corpora.length : present.size;
  return {
    top_score: scores.length > 0 ? scores[0]! : null,
    margin: scores.length > 1 ? scores[0]! - scores[1]! : null,
    agreement: searched === 0 ? 0 : [...present].filter((c) => !corpora || corpora.includes(c)).length / searched,
    passing: results.length,
    ...(coverage && coverage.terms > 0 ? { unknown_terms: coverage.unknown, unknown_share: coverage.unknown.length / coverage.terms } : {}),
  };
}

/**
 * Strong when nothing passed, too few passed, the best is weak, the query's words are largely
 * unknown to the corpora, or the answer is ambiguous: the top result has no clear lead and the
 * corpora do not agree. Otherwise small.
 */
export function decideGate(signals: GateSignals, t: GateConfig): GateDecision {
  const strong = (reason: string): GateDecision => ({ tier: "strong", reason, signals });
  if (signals.passing === 0 || signals.top_score === null) return strong("no result passed relevance");
  if (signals.passing < t.min_passing) return strong(`only ${signals.passing} result(s) passed relevance; the gate wants ${t.min_passing}`);
  if (signals.top_score < t.min_top_score) return strong(`top score ${fmt(signals.top_score)} is below ${t.min_top_score}`);
  if (signals.unknown_share !== undefined && signals.unknown_share >= t.max_unknown_share) {
    const unknown = signals.unknown_terms!;
    const words = unknown.map((w) => `"${w}"`).join(", ");
    const of = Math.round(unknown.length / signals.unknown_share);
    return strong(
      `${words} ${unknown.length === 1 ? "occurs" : "occur"} in none of the searched corpora (${unknown.length} of the query's ${of} words): the results rest on the embedder's guess of their meaning`,
    );
  }
  const clearLead = signals.margin === null || signals.margin >= t.min_margin;
  const agreed = signals.agreement >= t.min_agreement;
  if (!clearLead && !agreed) {
    return strong(`ambiguous: margin ${fmt(signals.margin!)} is below ${t.min_margin} and agreement ${fmt(signals.agreement)} is below ${t.min_agreement}`);
  }
  return {
    tier: "small",
    reason: clearLead ? `top score ${fmt(signals.top_score)} with a clear lead` : `top score ${fmt(signals.top_score)} and the corpora agree`,
    signals,
  };
}

const fmt = (x: number) => String(Math.round(x * 1000) / 1000);
