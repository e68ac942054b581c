// Merges ranked lists from several corpora into one, pure. Raw similarities are not comparable
// across corpora (a corpus of long resumes and one of short notes sit on different scales), so
// each list is either fused by rank (reciprocal rank fusion) or calibrated: a raw score becomes
// its distance from the corpus's background (the similarity of unrelated pairs) in standard
// deviations, which means the same thing in every corpus. docs/matrix.md has the measurement.

import type { HybridParts } from "./hybrid.ts";

export type Metadata = Record<string, unknown>;

export interface CorpusHit {
  id: string;
  /** Raw similarity reported by the corpus index: higher is closer. */
  score: number;
  metadata: Metadata;
  text?: string;
  /** A hybrid hit's vector and lexical parts (its score is then already calibrated). */
  parts?: HybridParts;
}

/** Mean and standard deviation of a corpus's similarity between unrelated query/document pairs. */
export interface Calibration {
  mean: number;
  std: number;
}

export type FusionMethod = "rrf" | "calibrated";

export interface FusionOptions {
  method: FusionMethod;
  rrfK: number;
  /** Multiplies a corpus's contribution; absent means 1. */
  weights?: Record<string, number>;
  /** Per-corpus background; a corpus without one is calibrated against its own returned list. */
  calibration?: Record<string, Calibration | undefined>;
  /** Results whose metadata agree on this key are one entity, reported once. */
  dedupeKey?: string;
}

export interface Source {
  corpus: string;
  id: string;
  /** 1-based rank within its corpus list. */
  rank: number;
  raw: number;
  /** Standard deviations above the corpus background. */
  calibrated: number;
  /** What this source added to the fused score. */
  contribution: number;
  /** Hybrid search: the vector and lexical parts its score was combined from. */
  parts?: HybridParts;
}

export interface Fused {
  corpus: string;
  id: string;
  /** Fused score, higher is better: calibrated units, or the RRF sum. */
  score: number;
  /** The calibrated score of the best source: an absolute confidence whatever the fusion. */
  confidence: number;
  metadata: Metadata;
  text?: string;
  /** Every corpus hit merged into this result (more than one only with a dedupe key). */
  sources: Source[];
}

const MIN_STD = 1e-6;

/** Background of a list when a corpus has none recorded: its own mean and spread. */
export function selfCalibration(scores: readonly number[]): Calibration {
  if (scores.length === 0) return { mean: 0, std: 1 };
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const variance = scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length;
  return { mean, std: Math.max(Math.sqrt(variance), MIN_STD) };
}

function calibrate(raw: number, c: Calibration): number {
  return (raw - c.mean) / Math.max(c.std, MIN_STD);
}

function entityKey(corpus: string, hit: CorpusHit, dedupeKey: string | undefined): string {
  if (dedupeKey !== undefined) {
    const value = hit.metadata[dedupeKey];
    if (value !== undefined && value !== null) return `k\u0000${typeof value}\u0000${String(value)}`;
  }
  return `i\u0000${corpus}\u0000${hit.id}`;
}

/**
 * Fuses per-corpus lists (each sorted best first) into one list sorted best first. Under RRF the
 * sources of one entity add up (the method's own rule); calibrated takes the best source, so an
 * entity found twice is not counted twice.
 */
export function fuse(lists: ReadonlyMap<string, readonly CorpusHit[]>, opts: FusionOptions): Fused[] {
  const byKey = new Map<string, Fused>();
  for (const [corpus, hits] of lists) {
    const weight = opts.weights?.[corpus] ?? 1;
    const cal = opts.calibration?.[corpus] ?? selfCalibration(hits.map((h) => h.score));
    hits.forEach((hit, i) => {
      const calibrated = calibrate(hit.score, cal);
      const contribution = opts.method === "rrf" ? weight / (opts.rrfK + i + 1) : weight * calibrated;
      const source: Source = { corpus, id: hit.id, rank: i + 1, raw: hit.score, calibrated, contribution };
      if (hit.parts) source.parts = hit.parts;
      const key = entityKey(corpus, hit, opts.dedupeKey);
      const cur = byKey.get(key);
      if (!cur) {
        byKey.set(key, { corpus, id: hit.id, score: contribution, confidence: calibrated, metadata: hit.metadata, text: hit.text, sources: [source] });
        return;
      }
      cur.sources.push(source);
      if (opts.method === "rrf") cur.score += contribution;
      if (calibrated > cur.confidence) cur.confidence = calibrated;
      // The representative is the best-contributing source.
      const best = cur.sources.reduce((a, b) => (b.contribution > a.contribution ? b : a));
      if (best === source) {
        cur.corpus = corpus;
        cur.id = hit.id;
        cur.metadata = hit.metadata;
        cur.text = hit.text;
        if (opts.method === "calibrated") cur.score = contribution;
      }
    });
  }
  return [...byKey.values()].sort(compareFused);
}

/** Best first; ties broken by corpus then id so equal inputs always give the same order. */
export function compareFused(a: Fused, b: Fused): number {
  return b.score - a.score || (a.corpus < b.corpus ? -1 : a.corpus > b.corpus ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
