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
}

export interface GateDecision {
  tier: "small" | "strong";
  reason: string;
  signals: GateSignals;
}

/** `results` are the ones that passed relevance; `corpora` the corpora searched (default: those present). */
export function gateSignals(results: readonly GateInput[], corpora?: readonly string[]): GateSignals {
  const scores = results.map((r) => r.score).sort((a, b) => b - a);
  const present = new Set(results.map((r) => r.corpus));
  const searched = corpora && corpora.length > 0 ? corpora.length : present.size;
  return {
    top_score: scores.length > 0 ? scores[0]! : null,
    margin: scores.length > 1 ? scores[0]! - scores[1]! : null,
    agreement: searched === 0 ? 0 : [...present].filter((c) => !corpora || corpora.includes(c)).length / searched,
    passing: results.length,
  };
}

/**
 * Strong when nothing passed, too few passed, the best is weak, or the answer is ambiguous: the
 * top result has no clear lead and the corpora do not agree. Otherwise small.
 */
export function decideGate(signals: GateSignals, t: GateConfig): GateDecision {
  const strong = (reason: string): GateDecision => ({ tier: "strong", reason, signals });
  if (signals.passing === 0 || signals.top_score === null) return strong("no result passed relevance");
  if (signals.passing < t.min_passing) return strong(`only ${signals.passing} result(s) passed relevance; the gate wants ${t.min_passing}`);
  if (signals.top_score < t.min_top_score) return strong(`top score ${fmt(signals.top_score)} is below ${t.min_top_score}`);
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
