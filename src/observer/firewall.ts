// The contamination firewall: evaluation data must never leak into training data. An example is
// excluded when one of its texts, normalized, hashes like a row of the holdout column (exact), or,
// when asked, when its embedding is at least min_similarity (cosine) to a holdout row's (near).
// The holdout is read whole through the SQL port, a page at a time; if it cannot be read, nothing
// is exported (a firewall that could not look is not a firewall).
import { BadRequest } from "../errors.ts";
import { quoteIdent } from "../lib/sql-quote.ts";
import type { EmbedPort } from "../ports.ts";
import { canonical, sha256 } from "../lib/canonical.ts";
import type { ReviewSql } from "./evidence.ts";
import { atPath } from "./rules.ts";

/** Holdout values read per SQL statement (within the SQL module's max_rows). */
const PAGE = 5000;
/** Holdout rows the near-duplicate check embeds at most (≈5 s with the built-in embedder). */
export const MAX_NEAR_HOLDOUT = 100_000;
/** Texts of one example checked at most (string leaves of an object claim). */
const MAX_TEXTS = 32;

export function normalizeText(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

export const textHash = (s: string) => sha256(normalizeText(s));

/** The texts of a claim the firewall checks: the value at text_path, the claim itself when it is a string, else its string leaves. */
export function claimTexts(claim: unknown, textPath?: string): string[] {
  if (textPath !== undefined) {
    const v = atPath(claim, textPath);
    if (typeof v === "string") return [v];
    return typeof v === "symbol" || v === undefined ? [] : [canonical(v)];
  }
  if (typeof claim === "string") return [claim];
  const out: string[] = [];
  const walk = (x: unknown) => {
    if (out.length >= MAX_TEXTS) return;
    if (typeof x === "string") {
      if (normalizeText(x) !== "") out.push(x);
    } else if (x !== null && typeof x === "object") for (const v of Array.isArray(x) ? x : Object.values(x)) walk(v);
  };
  walk(claim);
  return out;
}

/** Every distinct non-null value of the holdout column, as text. */
export async function readHoldout(sql: ReviewSql, dataset: string, column: string): Promise<string[]> {
  const out: string[] = [];
  const inner = `SELECT DISTINCT CAST(${quoteIdent(column)} AS VARCHAR) AS v FROM ${quoteIdent(dataset)}`;
  let after: string | null = null;
  for (;;) {
    const stmt = `SELECT v FROM (${inner}) t WHERE v IS NOT NULL${after === null ? "" : " AND v > ?"} ORDER BY v LIMIT ${PAGE}`;
    const res = await sql.query(stmt, after === null ? [] : [after], { maxRows: PAGE });
    for (const r of res.rows) out.push(String(r[0]));
    if (res.rows.length < PAGE) return out;
    after = out.at(-1)!;
  }
}

function unit(v: readonly number[]): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const s = n > 0 ? 1 / Math.sqrt(n) : 0;
  return Float32Array.from(v, (x) => x * s);
}

export async function embedAll(embed: EmbedPort, texts: readonly string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += embed.maxBatch) {
    const { vectors } = await embed.embed(texts.slice(i, i + embed.maxBatch));
    for (const v of vectors) out.push(unit(v));
  }
  return out;
}

/** The highest cosine similarity between `v` and any holdout vector. */
export function bestSimilarity(v: Float32Array, holdout: readonly Float32Array[]): number {
  let best = -1;
  for (const h of holdout) {
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += v[i]! * h[i]!;
    if (dot > best) best = dot;
  }
  return best;
}

export function checkNearHoldoutSize(n: number): void {
  if (n > MAX_NEAR_HOLDOUT)
    throw new BadRequest(`the holdout has ${n} distinct values; near_duplicate embeds at most ${MAX_NEAR_HOLDOUT}`, { limit: MAX_NEAR_HOLDOUT });
}
