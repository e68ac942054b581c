// A corpus's lexical background, measured like its vector background (../calibration.ts): the
// same probes (short word windows cut from sampled documents) scored with BM25 against every
// other sampled document. Scores are normalized by the query's attainable maximum first
// (score.ts), so the background does not depend on how long a probe or a query is.
import { MIN_BACKGROUND_STD, probeTexts } from "../calibration.ts";
import type { Calibration } from "../fusion.ts";
import type { Bm25Index } from "./bm25.ts";
import { normalizedScore } from "./score.ts";

const PROBES = 32;

export function lexicalBackground(index: Bm25Index, sample: readonly { id: string; text: string }[]): Calibration | null {
  const ids = sample.map((s) => s.id);
  const scores: number[] = [];
  for (const probe of probeTexts(
    sample.map((s) => s.text),
    PROBES,
  )) {
    const max = index.maxScore(probe.text);
    const raw = index.scoreOf(probe.text, ids);
    ids.forEach((id, i) => {
      if (i !== probe.source && raw.has(id)) scores.push(normalizedScore(raw.get(id)!, max));
    });
  }
  if (scores.length < 10) return null;
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  return { mean, std: Math.max(std, MIN_BACKGROUND_STD) };
}
