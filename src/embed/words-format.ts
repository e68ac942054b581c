// The compact word-vector table of the `words` provider: ONE little-endian binary file, written once
// by scripts/build-words.ts and read back with a single file read plus typed-array views (no
// parsing, no per-word objects), so loading stays far below the 300 ms / 64 MiB budget (measured
// in docs/benchmarks.md). The word → row lookup is an open-addressing hash table stored in the
// file itself: building a JS Map of 320K strings at start-up would cost ~100 ms and ~25 MB.
//
// Layout: a 64-byte header, then sections each starting on an 8-byte boundary, in this order:
//   component f32[dim]        the common component removed from every sentence vector (unit)
//   weights   f32[count]      SIF weight a / (a + p(w)) of each word
//   scales    f32[count]      int8 → float scale of each word's row
//   bscales   f32[buckets]    the same for each subword bucket's row
//   offsets   u32[count + 1]  where each word's UTF-16 code units start in `chars`
//   slots     i32[slots]      hash table: row index or -1 (slots is a power of two)
//   chars     u16[charCount]  the words, concatenated
//   vectors   i8[count * dim] word rows
//   bvectors  i8[buckets * dim] subword-bucket rows (unknown words: see words-embedder.ts)
import { closeSync, openSync, readSync } from "node:fs";
import { fnv1a } from "./hash-embedder.ts";

export const MAGIC = "LHWORDS1";
export const FORMAT_VERSION = 1;
const HEADER_BYTES = 64;
const MODEL_BYTES = 16;
/** FNV seed of the stored hash table; any constant works, it only has to match at write and read. */
const SLOT_SEED = 0x1b873593;

export interface WordsTable {
  /** Model name the vectors are served under, e.g. "words-sg100-v1". */
  model: string;
  dim: number;
  count: number;
  buckets: number;
  /** SIF's a (Arora et al.), kept for the record; the weights are already computed with it. */
  sifA: number;
  /** SIF weight given to a word the table does not hold. */
  oovWeight: number;
  /** Norm an unknown word's projected vector is scaled to (typical norm of a rare known word). */
  oovNorm: number;
  component: Float32Array;
  weights: Float32Array;
  scales: Float32Array;
  bucketScales: Float32Array;
  offsets: Uint32Array;
  slots: Int32Array;
  chars: Uint16Array;
  vectors: Int8Array;
  bucketVectors: Int8Array;
}

export type WordsTableInput = Omit<WordsTable, "offsets" | "slots" | "chars" | "count"> & { words: readonly string[] };

export class WordsTableError extends Error {}

const align8 = (n: number) => (n + 7) & ~7;

/** Hash of a word for the stored table: FNV-1a over UTF-16 code units (the hash embedder's). */
export function slotHash(word: string): number {
  return fnv1a(word, 0, word.length, SLOT_SEED) >>> 0;
}

function sectionSizes(dim: number, count: number, buckets: number, slots: number, charCount: number): number[] {
  return [dim * 4, count * 4, count * 4, buckets * 4, (count + 1) * 4, slots * 4, charCount * 2, count * dim, buckets * dim];
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Serializes a table. Words must be distinct; row i of `vectors` belongs to words[i]. */
export function encodeWordsTable(t: WordsTableInput): Uint8Array {
  const count = t.words.length;
  // Load factor ≤ 0.5: linear probing then needs ~1.5 probes per hit and ~2.5 per miss.
  const slotCount = nextPow2(Math.max(2, count * 2));
  const charCount = t.words.reduce((s, w) => s + w.length, 0);
  const sizes = sectionSizes(t.dim, count, t.buckets, slotCount, charCount);
  const total = sizes.reduce((s, n) => s + align8(n), HEADER_BYTES);
  const buf = new ArrayBuffer(total);
  const bytes = new Uint8Array(buf);
  const view = new DataView(buf);
  const offsets = new Uint32Array(count + 1);
  const chars = new Uint16Array(charCount);
  const slots = new Int32Array(slotCount).fill(-1);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const w = t.words[i]!;
    offsets[i] = at;
    for (let c = 0; c < w.length; c++) chars[at + c] = w.charCodeAt(c);
    at += w.length;
    let s = slotHash(w) & (slotCount - 1);
    while (slots[s] !== -1) s = (s + 1) & (slotCount - 1);
    slots[s] = i;
  }
  offsets[count] = at;
  const parts: ArrayBufferView[] = [t.component, t.weights, t.scales, t.bucketScales, offsets, slots, chars, t.vectors, t.bucketVectors];
  let pos = HEADER_BYTES;
  for (const [i, part] of parts.entries()) {
    if (part.byteLength !== sizes[i]) throw new WordsTableError(`section ${i} holds ${part.byteLength} bytes, expected ${sizes[i]}`);
    bytes.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), pos);
    pos += align8(part.byteLength);
  }
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, t.dim, true);
  view.setUint32(16, count, true);
  view.setUint32(20, t.buckets, true);
  view.setUint32(24, slotCount, true);
  view.setUint32(28, charCount, true);
  view.setFloat32(32, t.sifA, true);
  view.setFloat32(36, t.oovWeight, true);
  view.setFloat32(40, t.oovNorm, true);
  const model = new TextEncoder().encode(t.model);
  if (model.length > MODEL_BYTES) throw new WordsTableError(`model name "${t.model}" is longer than ${MODEL_BYTES} bytes`);
  bytes.set(model, 48);
  // Last: the checksum covers everything after the header, so a truncated or damaged file is refused.
  view.setUint32(44, Bun.hash.crc32(bytes.subarray(HEADER_BYTES)) >>> 0, true);
  return bytes;
}

/** The model name from a table file's header alone (64 bytes read); undefined when it is missing or not a table of this format. */
export function readWordsModel(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const head = new Uint8Array(HEADER_BYTES);
    if (readSync(fd, head, 0, HEADER_BYTES, 0) !== HEADER_BYTES || new TextDecoder().decode(head.subarray(0, 8)) !== MAGIC) return undefined;
    const view = new DataView(head.buffer);
    if (view.getUint32(8, true) !== FORMAT_VERSION) return undefined;
    const modelBytes = head.subarray(48, 48 + MODEL_BYTES);
    const end = modelBytes.indexOf(0);
    return new TextDecoder().decode(end === -1 ? modelBytes : modelBytes.subarray(0, end));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Views over a table's bytes (no copy when `bytes` is 8-byte aligned). Throws WordsTableError for
 * anything that is not a complete, undamaged table of this format version.
 */
export function decodeWordsTable(input: Uint8Array): WordsTable {
  const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
  if (bytes.length < HEADER_BYTES || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new WordsTableError("not a words table (bad magic)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) throw new WordsTableError(`words table format ${version}; this build reads format ${FORMAT_VERSION}`);
  const dim = view.getUint32(12, true);
  const count = view.getUint32(16, true);
  const buckets = view.getUint32(20, true);
  const slotCount = view.getUint32(24, true);
  const charCount = view.getUint32(28, true);
  const sizes = sectionSizes(dim, count, buckets, slotCount, charCount);
  const total = sizes.reduce((s, n) => s + align8(n), HEADER_BYTES);
  if (bytes.length !== total) throw new WordsTableError(`words table is ${bytes.length} bytes; its header says ${total}`);
  if (Bun.hash.crc32(bytes.subarray(HEADER_BYTES)) >>> 0 !== view.getUint32(44, true)) throw new WordsTableError("words table checksum mismatch");
  const modelBytes = bytes.subarray(48, 48 + MODEL_BYTES);
  const end = modelBytes.indexOf(0);
  const model = new TextDecoder().decode(end === -1 ? modelBytes : modelBytes.subarray(0, end));
  let pos = bytes.byteOffset + HEADER_BYTES;
  const next = (i: number) => {
    const start = pos;
    pos += align8(sizes[i]!);
    return start;
  };
  const b = bytes.buffer;
  return {
    model,
    dim,
    count,
    buckets,
    sifA: view.getFloat32(32, true),
    oovWeight: view.getFloat32(36, true),
    oovNorm: view.getFloat32(40, true),
    component: new Float32Array(b, next(0), dim),
    weights: new Float32Array(b, next(1), count),
    scales: new Float32Array(b, next(2), count),
    bucketScales: new Float32Array(b, next(3), buckets),
    offsets: new Uint32Array(b, next(4), count + 1),
    slots: new Int32Array(b, next(5), slotCount),
    chars: new Uint16Array(b, next(6), charCount),
    vectors: new Int8Array(b, next(7), count * dim),
    bucketVectors: new Int8Array(b, next(8), buckets * dim),
  };
}

/** Row index of `word`, or -1. */
export function lookupWord(t: WordsTable, word: string): number {
  const mask = t.slots.length - 1;
  for (let s = slotHash(word) & mask; ; s = (s + 1) & mask) {
    const row = t.slots[s]!;
    if (row === -1) return -1;
    const start = t.offsets[row]!;
    if (t.offsets[row + 1]! - start !== word.length) continue;
    let same = true;
    for (let c = 0; c < word.length; c++) {
      if (t.chars[start + c] !== word.charCodeAt(c)) {
        same = false;
        break;
      }
    }
    if (same) return row;
  }
}

/** The word stored at a row (tests, nearest-word tools). */
export function wordAt(t: WordsTable, row: number): string {
  return String.fromCharCode(...t.chars.subarray(t.offsets[row]!, t.offsets[row + 1]!));
}
