// The offline default: feature hashing ("the hashing trick") of word unigrams, word bigrams and
// character n-grams into a fixed number of signed buckets, tf-weighted, L2-normalized.
// It captures LEXICAL similarity only — shared words, word pairs and spelling fragments. It knows
// nothing of meaning: "car" and "automobile" are unrelated to it. Use ollama or openai for that.
import { BadRequest } from "../errors.ts";
import type { EmbedProvider } from "./provider.ts";

const WORD = /[\p{L}\p{N}]+/gu;
const NON_SPACE = /\S+/g;

// Char n-grams outnumber words several to one; lower weights keep whole words dominant while
// still letting "embedding"/"embeddings" or a typo land close.
const WORD_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.5;
const CHAR_WEIGHT = 0.25;
export const CHAR_NGRAM_MIN = 3;
export const CHAR_NGRAM_MAX = 4;

// Distinct seeds keep the feature families apart: the word "abc" and the trigram "abc" differ.
const WORD_SEED = 0x2545f491;
const BIGRAM_SEED = 0x6a09e667;
export const CHAR_SEED = 0x3c6ef372;
const BLANK_SEED = 0x510e527f;

export function fnv1a(s: string, start: number, end: number, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** murmur3's finalizer: FNV's low bits are weak, and both the bucket and the sign come from them. */
export function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function addFeature(acc: Float64Array, hash: number, weight: number): void {
  const m = mix(hash);
  // The sign makes collisions cancel on average instead of always inflating a bucket.
  acc[(m & 0x7fffffff) % acc.length]! += m < 0 ? -weight : weight;
}

/** Word tokens of a text: letter/digit runs, lower-cased; punctuation-only text falls back to its non-space runs. */
export function tokenize(text: string): string[] {
  const lower = text.toLowerCase();
  return lower.match(WORD) ?? lower.match(NON_SPACE) ?? [];
}

/** The normalized hashed feature vector of one text. Deterministic across runs and machines. */
export function hashEmbed(text: string, dimension: number): number[] {
  const acc = new Float64Array(dimension);
  const words = tokenize(text);
  if (words.length === 0) addFeature(acc, BLANK_SEED, 1);
  let prev = 0;
  for (let w = 0; w < words.length; w++) {
    const word = words[w]!;
    const h = fnv1a(word, 0, word.length, WORD_SEED);
    addFeature(acc, h, WORD_WEIGHT);
    if (w > 0) addFeature(acc, Math.imul(prev, 0x9e3779b1) ^ h ^ BIGRAM_SEED, BIGRAM_WEIGHT);
    prev = h;
    const padded = `<${word}>`;
    for (let n = CHAR_NGRAM_MIN; n <= CHAR_NGRAM_MAX; n++) {
      for (let i = 0; i + n <= padded.length; i++) addFeature(acc, fnv1a(padded, i, i + n, CHAR_SEED + n), CHAR_WEIGHT);
    }
  }
  let norm = 0;
  for (let i = 0; i < dimension; i++) norm += acc[i]! * acc[i]!;
  // Every text yields at least one feature, but its buckets can cancel exactly; keep a unit vector anyway.
  if (norm === 0) acc[(mix(BLANK_SEED) & 0x7fffffff) % dimension] = norm = 1;
  const inv = 1 / Math.sqrt(norm);
  const out = new Array<number>(dimension);
  for (let i = 0; i < dimension; i++) out[i] = acc[i]! * inv;
  return out;
}

export class HashProvider implements EmbedProvider {
  readonly name = "hash";
  readonly defaultModel: string;

  constructor(readonly dimension: number) {
    this.defaultModel = `hash-${dimension}`;
  }

  async embed(texts: readonly string[], model?: string): Promise<number[][]> {
    if (model !== undefined && model !== this.defaultModel) {
      throw new BadRequest(`the hash provider serves only model "${this.defaultModel}", not "${model}"`, {
        provider: this.name,
        model,
      });
    }
    return texts.map((t) => hashEmbed(t, this.dimension));
  }
}
