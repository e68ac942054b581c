// How a corpus's lexical index is stored: immutable segments under _matrix/lexical/<corpus>/, in
// the object store like every other matrix state (so it follows the store to S3 and needs no
// local directory of its own):
//
//   <seq>.base   the whole index as flat arrays (binary: 34 MB for 100K résumés, read, decoded
//                and loaded in ≈0.25 s, where indexing their text again takes 1.5-3 s)
//   <seq>.delta  what changed since the segment before it: upserted documents with their text,
//                removed ids (JSON; a build writes one at each of its checkpoints)
//
// `seq` is 16 zero-padded digits, so the listing order is the write order. The index is the
// latest base plus every delta after it, applied in order. A base is written when a build ends
// (after compacting removed documents away), then the older segments are deleted; a crash
// between the two leaves segments the next load ignores and deletes. Each put is atomic, so a
// segment is whole or absent; a checksum and the tokenizer version are still checked, and a
// segment that fails either makes the index rebuild from the vector index's stored texts.
import type { IndexImage } from "./bm25.ts";
import { TOKENIZER_VERSION } from "./tokenize.ts";

const MAGIC = 0x584c484c; // "LHLX" little-endian
const FORMAT = 1;

export type SegmentKind = "base" | "delta";

export interface Delta {
  upserts: [id: string, text: string][];
  removes: string[];
}

export const segmentKey = (prefix: string, seq: number, kind: SegmentKind) => `${prefix}${String(seq).padStart(16, "0")}.${kind}`;

/** Parses a segment's key (relative to its corpus prefix); null for anything else. */
export function parseSegmentName(name: string): { seq: number; kind: SegmentKind } | null {
  const m = /^(\d{16})\.(base|delta)$/.exec(name);
  return m ? { seq: Number(m[1]), kind: m[2] as SegmentKind } : null;
}

const crc = (bytes: Uint8Array) => Bun.hash.crc32(bytes) >>> 0;
const pad4 = (n: number) => (n + 3) & ~3;

/**
 * magic, format, tokenizer version, header length (u32 each); the header (JSON: ids, terms, and
 * fields when more than one); padding to 4; lens u32[ids × fields]; counts u32[terms]; docs
 * i32[postings]; tfs u16[postings];
 * padding to 4; CRC-32 of everything before it.
 */
export function encodeBase(img: IndexImage): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ ids: img.ids, terms: img.terms, ...(img.fields !== undefined ? { fields: img.fields } : {}) }));
  const p = img.docs.length;
  const headerEnd = pad4(16 + header.length);
  const bodyEnd = pad4(headerEnd + 4 * img.lens.length + 4 * img.counts.length + 4 * p + 2 * p);
  const out = new Uint8Array(bodyEnd + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT, true);
  view.setUint32(8, TOKENIZER_VERSION, true);
  view.setUint32(12, header.length, true);
  out.set(header, 16);
  let at = headerEnd;
  for (const arr of [img.lens, img.counts, img.docs, img.tfs]) {
    out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), at);
    at += arr.byteLength;
  }
  view.setUint32(bodyEnd, crc(out.subarray(0, bodyEnd)), true);
  return out;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; problem: "damaged" | "stale" };

export function decodeBase(bytes: Uint8Array): Decoded<IndexImage> {
  try {
    if (bytes.length < 20) return { ok: false, problem: "damaged" };
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bodyEnd = bytes.length - 4;
    if (view.getUint32(0, true) !== MAGIC || view.getUint32(bodyEnd, true) !== crc(bytes.subarray(0, bodyEnd))) return { ok: false, problem: "damaged" };
    if (view.getUint32(4, true) !== FORMAT || view.getUint32(8, true) !== TOKENIZER_VERSION) return { ok: false, problem: "stale" };
    const headerLen = view.getUint32(12, true);
    const header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(16, 16 + headerLen))) as {
      ids: string[];
      terms: string[];
      fields?: number;
    };
    if (!Array.isArray(header.ids) || !Array.isArray(header.terms)) return { ok: false, problem: "damaged" };
    const fields = header.fields ?? 1;
    if (!Number.isInteger(fields) || fields < 1) return { ok: false, problem: "damaged" };
    // Copied into a fresh buffer at offset 0, so the typed arrays below are aligned. Not
    // bytes.slice(): the store may hand a Node Buffer, whose slice() is a view at an offset.
    const body = new Uint8Array(bytes.subarray(pad4(16 + headerLen), bodyEnd));
    const n = header.ids.length * fields;
    const t = header.terms.length;
    const lens = new Uint32Array(body.buffer, 0, n);
    const counts = new Uint32Array(body.buffer, 4 * n, t);
    let p = 0;
    for (const c of counts) p += c;
    if (pad4(4 * n + 4 * t + 6 * p) !== body.length) return { ok: false, problem: "damaged" };
    const docs = new Int32Array(body.buffer, 4 * (n + t), p);
    const tfs = new Uint16Array(body.buffer, 4 * (n + t + p), p);
    const value: IndexImage = { ids: header.ids, lens, terms: header.terms, counts, docs, tfs };
    if (header.fields !== undefined) value.fields = fields;
    return { ok: true, value };
  } catch {
    return { ok: false, problem: "damaged" };
  }
}

export function encodeDelta(d: Delta): string {
  const json = JSON.stringify({ format: FORMAT, tokenizer: TOKENIZER_VERSION, upserts: d.upserts, removes: d.removes });
  return `${(crc(new TextEncoder().encode(json)) >>> 0).toString(16).padStart(8, "0")} ${json}`;
}

export function decodeDelta(bytes: Uint8Array): Decoded<Delta> {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const json = text.slice(9);
    if (text[8] !== " " || crc(new TextEncoder().encode(json)).toString(16).padStart(8, "0") !== text.slice(0, 8)) return { ok: false, problem: "damaged" };
    const obj = JSON.parse(json);
    if (obj.format !== FORMAT || obj.tokenizer !== TOKENIZER_VERSION) return { ok: false, problem: "stale" };
    const okUpserts = Array.isArray(obj.upserts) && obj.upserts.every((u: unknown) => Array.isArray(u) && typeof u[0] === "string" && typeof u[1] === "string");
    const okRemoves = Array.isArray(obj.removes) && obj.removes.every((r: unknown) => typeof r === "string");
    return okUpserts && okRemoves ? { ok: true, value: { upserts: obj.upserts, removes: obj.removes } } : { ok: false, problem: "damaged" };
  } catch {
    return { ok: false, problem: "damaged" };
  }
}
