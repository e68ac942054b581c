// A review: a claim checked against truth rules and SQL evidence, answered with a verdict.
//   accept  every rule and every evidence item passed;
//   reject  at least one failed (the claim is shown wrong; `degraded` says whether something else could not be checked);
//   cycle   nothing failed, but something could not be checked: degraded is true.
// Fail-safe by construction: the verdict starts as "cycle" and only a complete run in which every
// check passed can make it "accept". A rule that cannot be evaluated, a SQL error or timeout, a
// missing dataset, an exception anywhere in here, or a verdict that could not be stored all end in
// cycle + degraded. There is no setting that turns this off.
//
// Every verdict is stored as an event (source "observer", kind "verdict") with the hashes of the
// input and the output, so the review trail is queryable in SQL.
import { canonical, sha256 } from "../lib/canonical.ts";
import { type Evidence, type EvidenceLimits, evaluateEvidence, type ReviewSql } from "./evidence.ts";
import { type NewEvent, OBSERVER_SOURCE } from "./model.ts";
import type { RegexRunner } from "./regex.ts";
import { evaluateRule, type Reason, type Rule } from "./rules.ts";

export type Verdict = "accept" | "reject" | "cycle";

export interface ReviewInput {
  claim: unknown;
  rules?: Rule[];
  evidence?: Evidence[];
  run_id?: string;
  /** Who made the claim (distillation can select by it). */
  source?: string;
  /** The claim's score, when the caller has one (distillation's min_score). */
  score?: number;
}

export interface ReviewResult {
  verdict: Verdict;
  degraded: boolean;
  reasons: Reason[];
  ms: number;
  /** The id of the verdict event, when it was stored. */
  event_id?: number;
}

export interface ReviewDeps {
  sql: ReviewSql;
  regex: RegexRunner;
  limits: EvidenceLimits;
  /** Stores the verdict event durably; returns its id. */
  record(event: NewEvent): Promise<number>;
}

export function decide(reasons: readonly Reason[]): { verdict: Verdict; degraded: boolean } {
  const degraded = reasons.some((r) => r.outcome === "error");
  if (reasons.some((r) => r.outcome === "fail")) return { verdict: "reject", degraded };
  if (!degraded && reasons.length > 0 && reasons.every((r) => r.outcome === "pass")) return { verdict: "accept", degraded: false };
  return { verdict: "cycle", degraded: true };
}

async function evaluate(deps: ReviewDeps, input: ReviewInput): Promise<Reason[]> {
  const reasons: Reason[] = [];
  for (const rule of input.rules ?? []) reasons.push(await evaluateRule(rule, input.claim, deps.regex));
  // Evidence items are independent statements: run them together (each under its own timeout).
  const evidence = await Promise.all((input.evidence ?? []).map((ev, i) => evaluateEvidence(ev, i, deps.sql, deps.limits)));
  reasons.push(...evidence);
  return reasons;
}

export async function review(deps: ReviewDeps, input: ReviewInput): Promise<ReviewResult> {
  const t0 = performance.now();
  try {
    return await reviewUnguarded(deps, input, t0);
  } catch {
    // Anything thrown outside the checks (hashing, building the event): the last line of the fail-safe.
    const reasons: Reason[] = [{ check: "internal", outcome: "error", message: "the review failed internally; nothing is accepted" }];
    return { verdict: "cycle", degraded: true, reasons, ms: Math.round((performance.now() - t0) * 100) / 100 };
  }
}

async function reviewUnguarded(deps: ReviewDeps, input: ReviewInput, t0: number): Promise<ReviewResult> {
  let reasons: Reason[];
  try {
    reasons = await evaluate(deps, input);
  } catch {
    reasons = [{ check: "internal", outcome: "error", message: "the review failed internally; nothing is accepted" }];
  }
  let { verdict, degraded } = decide(reasons);
  const inputHash = sha256(canonical({ claim: input.claim, rules: input.rules ?? [], evidence: input.evidence ?? [] }));
  const outputHash = sha256(canonical({ verdict, degraded, reasons }));
  const ms = Math.round((performance.now() - t0) * 100) / 100;
  const payload: Record<string, unknown> = {
    verdict,
    degraded,
    reasons,
    input_hash: inputHash,
    output_hash: outputHash,
    claim: input.claim,
    evidence: input.evidence ?? [],
    ms,
  };
  if (input.source !== undefined) payload.source = input.source;
  if (input.score !== undefined) payload.score = input.score;
  try {
    const level = verdict === "accept" ? "info" : verdict === "reject" ? "warn" : "error";
    const id = await deps.record({ source: OBSERVER_SOURCE, kind: "verdict", run_id: input.run_id ?? null, level, payload });
    return { verdict, degraded, reasons, ms, event_id: id };
  } catch {
    // A verdict that is not in the trail is not given: whatever was decided, the caller must come back.
    reasons = [...reasons, { check: "record", outcome: "error", message: "the verdict could not be stored; nothing is accepted" }];
    ({ verdict, degraded } = { verdict: "cycle", degraded: true });
    return { verdict, degraded, reasons, ms };
  }
}
