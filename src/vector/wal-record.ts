// Encoding of one write-ahead-log record, pure. A record is one acknowledged request (a whole
// upsert batch or a whole delete batch), so a torn write loses only a request that was never
// acknowledged. Layout: [u32 payload length][u32 crc32 of payload][payload], where payload is
// [f64 seq][u32 header length][header JSON][f32 vectors, item order], all little-endian.
import type { Metadata } from "../filter/compile.ts";

export interface UpsertItemRecord {
  id: string;
  label: number;
  /** Absent: keep the metadata the item had. null: clear it. */
  metadata?: Metadata;
}

export type WalRecord =
  | { seq: number; kind: "upsert"; items: UpsertItemRecord[]; vectors: Float32Array }
  | { seq: number; kind: "delete"; ids: string[]; labels: number[] };

const FRAME = 8;
/** Float32Array uses the platform's byte order; the log is little-endian, so on LE machines vectors copy as bytes. */
const LITTLE_ENDIAN = new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeRecord(rec: WalRecord): Uint8Array {
  const header = enc.encode(
    JSON.stringify(rec.kind === "upsert" ? { kind: "upsert", items: rec.items } : { kind: "delete", ids: rec.ids, labels: rec.labels }),
  );
  const vectorBytes = rec.kind === "upsert" ? rec.vectors.byteLength : 0;
  const payloadLen = 8 + 4 + header.length + vectorBytes;
  const buf = new Uint8Array(FRAME + payloadLen);
  const view = new DataView(buf.buffer);
  view.setUint32(0, payloadLen, true);
  view.setFloat64(FRAME, rec.seq, true);
  view.setUint32(FRAME + 8, header.length, true);
  buf.set(header, FRAME + 12);
  if (rec.kind === "upsert") {
    const off = FRAME + 12 + header.length;
    if (LITTLE_ENDIAN) buf.set(new Uint8Array(rec.vectors.buffer, rec.vectors.byteOffset, vectorBytes), off);
    else {
      const dv = new DataView(buf.buffer, off, vectorBytes);
      for (let i = 0; i < rec.vectors.length; i++) dv.setFloat32(i * 4, rec.vectors[i]!, true);
    }
  }
  view.setUint32(4, Bun.hash.crc32(buf.subarray(FRAME)), true);
  return buf;
}

export type DecodeResult =
  | { ok: true; record: WalRecord; next: number }
  | { ok: false; reason: "end" | "torn" }
  /** A whole frame whose content is wrong; `end` is where the frame ends. */
  | { ok: false; reason: "checksum" | "malformed"; end: number };

/** Decodes the record starting at `offset`. Anything but a whole, checksummed record is reported, never thrown. */
export function decodeRecord(buf: Uint8Array, offset: number, dim: number): DecodeResult {
  if (offset === buf.length) return { ok: false, reason: "end" };
  if (buf.length - offset < FRAME) return { ok: false, reason: "torn" };
  const view = new DataView(buf.buffer, buf.byteOffset + offset);
  const payloadLen = view.getUint32(0, true);
  const crc = view.getUint32(4, true);
  if (payloadLen < 12 || buf.length - offset - FRAME < payloadLen) return { ok: false, reason: "torn" };
  const end = offset + FRAME + payloadLen;
  const payload = buf.subarray(offset + FRAME, end);
  if (Bun.hash.crc32(payload) !== crc) return { ok: false, reason: "checksum", end };
  try {
    const pv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const seq = pv.getFloat64(0, true);
    const headerLen = pv.getUint32(8, true);
    const header = JSON.parse(dec.decode(payload.subarray(12, 12 + headerLen)));
    const next = end;
    if (header.kind === "delete") return { ok: true, next, record: { seq, kind: "delete", ids: header.ids, labels: header.labels } };
    const items = header.items as UpsertItemRecord[];
    const vecOff = 12 + headerLen;
    if (payloadLen - vecOff !== items.length * dim * 4) return { ok: false, reason: "malformed", end };
    const vectors = new Float32Array(items.length * dim);
    if (LITTLE_ENDIAN) new Uint8Array(vectors.buffer).set(payload.subarray(vecOff));
    else for (let i = 0; i < vectors.length; i++) vectors[i] = pv.getFloat32(vecOff + i * 4, true);
    return { ok: true, next, record: { seq, kind: "upsert", items, vectors } };
  } catch {
    return { ok: false, reason: "malformed", end };
  }
}
