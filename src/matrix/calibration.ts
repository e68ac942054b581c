// A corpus's background: how similar a query-like text is to documents it has nothing to do
// with. Probes are short word windows cut from sampled documents, each scored against every
// other sampled document; the mean and spread of those scores calibrate the corpus (fusion.ts).
import { FIELD_SEP } from "./fields.ts";
import type { Calibration } from "./fusion.ts";
import { dot } from "./playbook-boost.ts";
import { words } from "./relevance.ts";

const PROBE_WORDS = 4;
/** A fielded document's probe takes this many words from each field, as a query names a skill, a city, a shift. */
const PROBE_FIELD_WORDS = 2;

function window(ws: readonly string[], n: number, seed: number): string[] {
  const k = Math.min(n, ws.length);
  const start = (seed * 7919) % (ws.length - k + 1);
  return ws.slice(start, start + k);
}
export const MIN_BACKGROUND_STD = 0.02;

/** A deterministic window of up to PROBE_WORDS words from each text (of a fielded one, PROBE_FIELD_WORDS from each field); `source` is its text's index. */
export function probeTexts(texts: readonly string[], max: number): { text: string; source: number }[] {
  const out: { text: string; source: number }[] = [];
  texts.forEach((t, i) => {
    if (out.length >= max) return;
    const ws = t.includes(FIELD_SEP) ? t.split(FIELD_SEP).flatMap((field) => window(words(field), PROBE_FIELD_WORDS, i)) : window(words(t), PROBE_WORDS, i);
    if (ws.length === 0) return;
    out.push({ text: ws.join(" "), source: i });
  });
  return out;
}

export function unit(vec: readonly number[]): number[] {
  const n = Math.sqrt(dot(vec, vec));
  return n > 0 ? vec.map((x) => x / n) : [...vec];
}

/** Mean and std of probe-to-document similarity over pairs not cut from the same document; null with too few pairs. */
export function backgroundOf(probes: readonly { vector: readonly number[]; source: number }[], docs: readonly (readonly number[])[]): Calibration | null {
  const scores: number[] = [];
  for (const p of probes) {
    const q = unit(p.vector);
    docs.forEach((d, i) => {
      if (i !== p.source) scores.push(dot(q, d));
    });
  }
  if (scores.length < 10) return null;
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  // A corpus of near-identical texts has almost no spread; a floor keeps its scores from exploding.
  return { mean, std: Math.max(std, MIN_BACKGROUND_STD) };
}
