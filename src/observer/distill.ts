// Distillation export: accepted reviews become a dataset (Parquet, in the catalog, queryable) of
// {review_id, ts, source, score, claim, evidence, verdict, reasons}, minus every example the
// contamination firewall (firewall.ts) excludes. The NDJSON handed to the dataset writer is
// canonical and in review-id order, so re-running with the same inputs gives the same bytes and
// the ingest path answers "unchanged". The first export creates the dataset; later ones replace it.
import { BadRequest, Conflict } from "../errors.ts";
import type { DatasetWriterPort, EmbedPort } from "../ports.ts";
import { canonical } from "../lib/canonical.ts";
import type { ReviewSql } from "./evidence.ts";
import { bestSimilarity, checkNearHoldoutSize, claimTexts, embedAll, readHoldout, textHash } from "./firewall.ts";
import { OBSERVER_SOURCE, type ObsEvent } from "./model.ts";
import type { EventReader } from "./reads.ts";

export interface DistillInput {
  name: string;
  since?: string;
  until?: string;
  /** Only reviews whose `source` is one of these. */
  sources?: string[];
  /** Only reviews with a score of at least this. */
  min_score?: number;
  holdout: { dataset: string; column: string };
  near_duplicate?: { min_similarity: number };
  /** Dot-path of the claim's text; default: the claim when it is a string, else its string leaves. */
  text_path?: string;
}

export interface DistillResult {
  name: string;
  written: number;
  excluded_exact: number;
  excluded_near: number;
  result: "created" | "replaced" | "unchanged" | "appended" | "empty";
  ms: number;
}

export interface DistillDeps {
  reader: EventReader;
  sql: ReviewSql;
  embed: EmbedPort;
  writer: DatasetWriterPort;
}

interface VerdictPayload {
  verdict?: string;
  claim?: unknown;
  evidence?: unknown;
  reasons?: unknown;
  source?: string;
  score?: number;
}

export async function distill(deps: DistillDeps, input: DistillInput, actor: string): Promise<DistillResult> {
  const t0 = performance.now();
  if (input.name.toLowerCase() === input.holdout.dataset.toLowerCase())
    throw new BadRequest("the export cannot replace its own holdout dataset", { name: input.name });
  const since = input.since ? new Date(input.since).toISOString() : undefined;
  const until = input.until ? new Date(input.until).toISOString() : undefined;
  const sources = input.sources ? new Set(input.sources) : null;
  const keep = (e: ObsEvent) => {
    if (e.source !== OBSERVER_SOURCE || e.kind !== "verdict") return false;
    const p = e.payload as VerdictPayload;
    if (p?.verdict !== "accept") return false;
    if ((since && e.ts < since) || (until && e.ts >= until)) return false;
    if (sources && (p.source === undefined || !sources.has(p.source))) return false;
    if (input.min_score !== undefined && !(typeof p.score === "number" && p.score >= input.min_score)) return false;
    return true;
  };
  // The holdout first: if it cannot be read (missing dataset or column), nothing is exported.
  const holdout = await readHoldout(deps.sql, input.holdout.dataset, input.holdout.column);
  const hashes = new Set(holdout.map(textHash));
  const candidates: { e: ObsEvent; texts: string[] }[] = [];
  let excludedExact = 0;
  for await (const e of deps.reader.all(keep)) {
    const texts = claimTexts((e.payload as VerdictPayload).claim, input.text_path);
    if (texts.some((t) => hashes.has(textHash(t)))) excludedExact++;
    else candidates.push({ e, texts });
  }
  let excludedNear = 0;
  let kept = candidates;
  if (input.near_duplicate && candidates.length > 0 && holdout.length > 0) {
    checkNearHoldoutSize(holdout.length);
    const hv = await embedAll(deps.embed, holdout);
    const flat = candidates.flatMap((c, i) => c.texts.map((t) => ({ i, t })));
    const cv = await embedAll(
      deps.embed,
      flat.map((x) => x.t),
    );
    const near = new Set<number>();
    flat.forEach((x, j) => {
      if (bestSimilarity(cv[j]!, hv) >= input.near_duplicate!.min_similarity) near.add(x.i);
    });
    excludedNear = near.size;
    kept = candidates.filter((_, i) => !near.has(i));
  }
  const ms = () => Math.round(performance.now() - t0);
  if (kept.length === 0) return { name: input.name, written: 0, excluded_exact: excludedExact, excluded_near: excludedNear, result: "empty", ms: ms() };
  kept.sort((a, b) => a.e.id - b.e.id);
  let text = "";
  for (const { e } of kept) {
    const p = e.payload as VerdictPayload;
    text += `${canonical({
      review_id: e.id,
      ts: e.ts,
      source: p.source ?? null,
      score: p.score ?? null,
      claim: canonical(p.claim ?? null),
      evidence: canonical(p.evidence ?? []),
      verdict: p.verdict,
      reasons: canonical(p.reasons ?? []),
    })}\n`;
  }
  const bytes = new TextEncoder().encode(text);
  let out: Awaited<ReturnType<DatasetWriterPort["writeNdjson"]>>;
  try {
    out = await deps.writer.writeNdjson(input.name, bytes, { actor });
  } catch (err) {
    if (!(err instanceof Conflict)) throw err;
    // The dataset exists: the export is its new version (unchanged when the bytes are the same).
    out = await deps.writer.writeNdjson(input.name, bytes, { mode: "replace", schema: "evolve", actor });
  }
  return { name: input.name, written: kept.length, excluded_exact: excludedExact, excluded_near: excludedNear, result: out.result, ms: ms() };
}
