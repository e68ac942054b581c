import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wal } from "../../src/vector/wal.ts";
import { decodeRecord, encodeRecord, type WalRecord } from "../../src/vector/wal-record.ts";
import { tempDir } from "../support/tmp.ts";

const DIM = 4;
const upsert = (seq: number, ids: string[]): WalRecord => ({
  seq,
  kind: "upsert",
  items: ids.map((id, i) => ({ id, label: seq * 10 + i, ...(i === 0 ? { metadata: { n: seq } } : {}) })),
  vectors: Float32Array.from({ length: ids.length * DIM }, (_, i) => seq + i / 8),
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function walDir(): string {
  const d = tempDir("lh-wal-");
  dirs.push(d);
  return join(d, "idx");
}

function replay(dir: string, after = 0): { records: WalRecord[]; dropped: number; wal: Wal } {
  const wal = new Wal(dir, DIM);
  const records: WalRecord[] = [];
  const report = wal.open(after, (r) => records.push(r));
  return { records, dropped: report.droppedBytes, wal };
}

describe("wal records", () => {
  test("round-trip upserts (metadata kept, set or cleared) and deletes", () => {
    const recs: WalRecord[] = [upsert(1, ["a", "b"]), { seq: 2, kind: "delete", ids: ["a"], labels: [10] }];
    const bytes = Buffer.concat(recs.map(encodeRecord));
    let offset = 0;
    for (const want of recs) {
      const got = decodeRecord(bytes, offset, DIM);
      if (!got.ok) throw new Error(got.reason);
      expect(got.record).toEqual(want);
      offset = got.next;
    }
    expect(decodeRecord(bytes, offset, DIM)).toEqual({ ok: false, reason: "end" });
  });

  test("a truncated record is torn and a flipped byte fails the checksum", () => {
    const bytes = encodeRecord(upsert(1, ["a"]));
    for (const cut of [3, 8, 20, bytes.length - 1]) expect(decodeRecord(bytes.subarray(0, cut), 0, DIM)).toEqual({ ok: false, reason: "torn" });
    const flipped = Uint8Array.from(bytes);
    flipped[bytes.length - 2]! ^= 0x40;
    expect(decodeRecord(flipped, 0, DIM)).toEqual({ ok: false, reason: "checksum", end: bytes.length });
  });
});

describe("wal segments", () => {
  /** Records a and b in one segment, c in the next. */
  function twoSegments(): string {
    const dir = walDir();
    const wal = Wal.create(dir, DIM);
    wal.append(upsert(1, ["a"]));
    wal.append(upsert(2, ["b"]));
    wal.rotate(3);
    wal.append(upsert(3, ["c"]));
    wal.close();
    return dir;
  }

  test("replays records after a sequence, in order, across segments", () => {
    const dir = twoSegments();
    expect(replay(dir).records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(replay(dir, 2).records.map((r) => r.seq)).toEqual([3]);
  });

  test("a torn tail is cut off, nothing before it is lost, and later appends survive", () => {
    const dir = walDir();
    const wal = Wal.create(dir, DIM);
    for (let s = 1; s <= 3; s++) wal.append(upsert(s, [`i${s}`]));
    wal.close();
    const [segment] = readdirSync(dir);
    const path = join(dir, segment!);
    const goodSize = statSync(path).size;
    const next = encodeRecord(upsert(4, ["torn"]));
    appendFileSync(path, next.subarray(0, next.length - 5));

    const first = replay(dir);
    expect(first.records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(first.dropped).toBe(next.length - 5);
    expect(statSync(path).size).toBe(goodSize);
    first.wal.append(upsert(4, ["after"]));
    first.wal.close();
    const second = replay(dir);
    expect(second.records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(second.dropped).toBe(0);
  });

  test("corruption before the last segment's tail is refused, not skipped", () => {
    const dir = twoSegments();
    const first = join(dir, readdirSync(dir).sort()[0]!);
    const bytes = readFileSync(first);
    bytes[12]! ^= 0xff;
    writeFileSync(first, bytes);
    expect(() => replay(dir)).toThrow("corrupt");
  });

  /** One segment of three records with one byte flipped at `at(segment length)`. */
  function damagedSegment(at: (length: number) => number): { dir: string; file: string; length: number } {
    const dir = walDir();
    const wal = Wal.create(dir, DIM);
    for (let seq = 1; seq <= 3; seq++) wal.append(upsert(seq, [`r${seq}`]));
    wal.close();
    const file = join(dir, readdirSync(dir)[0]!);
    const bytes = readFileSync(file);
    bytes[at(bytes.length)]! ^= 0xff;
    writeFileSync(file, bytes);
    return { dir, file, length: bytes.length };
  }

  test("a damaged record with whole records after it is refused, even in the last segment", () => {
    const { dir, file, length } = damagedSegment(() => encodeRecord(upsert(1, ["r1"])).length + 12);
    expect(() => replay(dir)).toThrow("corrupt");
    expect(statSync(file).size).toBe(length);
  });

  test("a whole last record with bad content (pages persisted out of order) is cut as a torn tail", () => {
    const { dir } = damagedSegment((length) => length - 3);
    const { records, dropped } = replay(dir);
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect(dropped).toBe(encodeRecord(upsert(3, ["r3"])).length);
  });

  test("segments covered by a snapshot are dropped, the rest kept", () => {
    const dir = walDir();
    const wal = Wal.create(dir, DIM);
    wal.append(upsert(1, ["a"]));
    wal.rotate(2);
    wal.append(upsert(2, ["b"]));
    wal.append(upsert(3, ["c"]));
    wal.rotate(4);
    wal.append(upsert(4, ["d"]));
    wal.dropCovered(2);
    expect(replay(dir).records.map((r) => r.seq)).toEqual([2, 3, 4]);
    wal.dropCovered(3);
    expect(replay(dir).records.map((r) => r.seq)).toEqual([4]);
    wal.close();
  });
});
