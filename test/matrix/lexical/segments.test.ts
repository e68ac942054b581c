// The stored forms of a lexical index: a base decodes to the same index from any byte view (a
// Node Buffer at an offset, as a store may return), a flipped byte or another tokenizer version
// is refused, a delta round-trips, and segment names sort in write order.
import { describe, expect, test } from "bun:test";
import { Bm25Index } from "../../../src/matrix/lexical/bm25.ts";
import { decodeBase, decodeDelta, encodeBase, encodeDelta, parseSegmentName, segmentKey } from "../../../src/matrix/lexical/segments.ts";

function index(): Bm25Index {
  const ix = new Bm25Index();
  for (let i = 0; i < 300; i++) ix.upsert(`w${i}`, `welder ${i % 7} forklift ${"night ".repeat(i % 3)} Chicago`);
  ix.remove("w5");
  ix.compact();
  return ix;
}

describe("segments", () => {
  test("a base decodes to an index that searches the same, from a Buffer view at an offset too", () => {
    const ix = index();
    const bytes = encodeBase(ix.image());
    // A pooled Buffer: the bytes sit at an offset inside a larger ArrayBuffer.
    const pooled = Buffer.concat([Buffer.from("xyz"), Buffer.from(bytes)]).subarray(3);
    expect(pooled.byteOffset).toBeGreaterThan(0);
    for (const view of [bytes, pooled]) {
      const d = decodeBase(view);
      if (!d.ok) throw new Error(d.problem);
      const copy = new Bm25Index();
      copy.load(d.value);
      for (const q of ["welder night", "forklift 3", "chicago"]) expect(copy.search(q, 50)).toEqual(ix.search(q, 50));
    }
  });

  test("a fielded base keeps its fields: lengths per field and terms per field", () => {
    const ix = new Bm25Index([1, 0.25]);
    for (let i = 0; i < 50; i++) ix.upsert(`w${i}`, `welder ${i % 3}\u001fforklift ${"night ".repeat(i % 4)}welder`);
    const d = decodeBase(encodeBase(ix.image()));
    if (!d.ok) throw new Error(d.problem);
    expect(d.value.fields).toBe(2);
    const copy = new Bm25Index([1, 0.25]);
    copy.load(d.value);
    for (const q of ["welder night", "forklift 2", "night"]) expect(copy.search(q, 50)).toEqual(ix.search(q, 50));
  });

  test("a flipped byte is damage; another tokenizer version is stale", () => {
    const bytes = encodeBase(index().image());
    const flipped = bytes.slice();
    flipped[flipped.length >> 1]! ^= 1;
    expect(decodeBase(flipped)).toEqual({ ok: false, problem: "damaged" });
    expect(decodeBase(bytes.subarray(0, bytes.length - 8))).toEqual({ ok: false, problem: "damaged" });
    const stale = bytes.slice();
    const view = new DataView(stale.buffer);
    view.setUint32(8, 999, true);
    // Re-sealed with a valid checksum, so only the version is wrong.
    view.setUint32(stale.length - 4, Bun.hash.crc32(stale.subarray(0, stale.length - 4)) >>> 0, true);
    expect(decodeBase(stale)).toEqual({ ok: false, problem: "stale" });
  });

  test("a delta round-trips and a damaged one is refused", () => {
    const delta = { upserts: [["w1", "José, welder"] as [string, string]], removes: ["w2"] };
    const bytes = new TextEncoder().encode(encodeDelta(delta));
    expect(decodeDelta(bytes)).toEqual({ ok: true, value: delta });
    const bad = bytes.slice();
    bad[20]! ^= 1;
    expect(decodeDelta(bad).ok).toBe(false);
  });

  test("segment keys sort in write order and parse back", () => {
    const [ten, nine, hundred] = [segmentKey("p/", 10, "delta"), segmentKey("p/", 9, "base"), segmentKey("p/", 100, "delta")];
    expect([ten, nine, hundred].sort()).toEqual([nine, ten, hundred]);
    expect(nine).toBe("p/0000000000000009.base");
    expect(parseSegmentName("0000000000000010.delta")).toEqual({ seq: 10, kind: "delta" });
    expect(parseSegmentName("10.delta")).toBeNull();
    expect(parseSegmentName("0000000000000010.json")).toBeNull();
  });
});
