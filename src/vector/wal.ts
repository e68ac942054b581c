// The write-ahead log of one index: local segment files <dir>/<first seq>.wal, appended and
// fsynced before a write is acknowledged. The ObjectStore has no append or fsync, so the log
// lives on local disk even when snapshots go to S3 (see docs/vector.md).
//
// A segment is started at each snapshot, so once a snapshot covering seq S is committed, every
// segment whose records all precede S can be deleted. On open, a torn or corrupt record at the
// tail of the last segment (a crash mid-append) is cut off; a bad record anywhere else, or one
// with whole records after it, is corruption and stops the load of this index.
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { fsyncPathSync } from "../lib/fsync.ts";
import { decodeRecord, encodeRecord, type WalRecord } from "./wal-record.ts";

const SUFFIX = ".wal";
/** Replay decodes for this long before the event loop gets a turn (openAsync). */
const REPLAY_SLICE_MS = 20;
const segmentName = (firstSeq: number) => `${String(firstSeq).padStart(16, "0")}${SUFFIX}`;

interface Segment {
  firstSeq: number;
  path: string;
  size: number;
}

export interface ReplayReport {
  records: number;
  /** Bytes cut from the tail of the last segment (a torn append). */
  droppedBytes: number;
}

export class Wal {
  private segments: Segment[] = [];
  private fd: number | null = null;
  /** Bytes appended since the last snapshot began. */
  bytesSinceSnapshot = 0;
  /** Bytes in all segments: what a restart would read. */
  totalBytes = 0;

  constructor(
    readonly dir: string,
    private readonly dim: number,
  ) {}

  /** Creates an empty log (removing any leftover from an index of the same name). */
  static create(dir: string, dim: number): Wal {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return new Wal(dir, dim);
  }

  /** Reads every record after `afterSeq` in order, cutting a torn tail from the last segment. */
  open(afterSeq: number, onRecord: (rec: WalRecord) => void): ReplayReport {
    const scan = this.scan(afterSeq);
    for (let next = scan.next(); ; next = scan.next()) {
      if (next.done) return next.value;
      onRecord(next.value);
    }
  }

  /**
   * `open` that gives the event loop a turn every REPLAY_SLICE_MS: replaying 237 MB of log (100K ×
   * 384 with metadata) takes ≈1.7 s, during which /health must keep answering "starting" and other
   * indexes keep loading. Nothing else touches this index until its replay has finished.
   */
  async openAsync(afterSeq: number, onRecord: (rec: WalRecord) => void): Promise<ReplayReport> {
    const scan = this.scan(afterSeq);
    let until = performance.now() + REPLAY_SLICE_MS;
    for (let next = scan.next(); ; next = scan.next()) {
      if (next.done) return next.value;
      onRecord(next.value);
      if (performance.now() > until) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        until = performance.now() + REPLAY_SLICE_MS;
      }
    }
  }

  private *scan(afterSeq: number): Generator<WalRecord, ReplayReport> {
    mkdirSync(this.dir, { recursive: true });
    this.segments = readdirSync(this.dir)
      .filter((f) => f.endsWith(SUFFIX))
      .map((f) => ({ firstSeq: Number(f.slice(0, -SUFFIX.length)), path: join(this.dir, f), size: 0 }))
      .sort((a, b) => a.firstSeq - b.firstSeq);
    const report: ReplayReport = { records: 0, droppedBytes: 0 };
    for (const [i, seg] of this.segments.entries()) {
      const buf = readFileSync(seg.path);
      seg.size = buf.length;
      let offset = 0;
      for (;;) {
        const res = decodeRecord(buf, offset, this.dim);
        if (!res.ok) {
          if (res.reason === "end") break;
          // A crash mid-append leaves a short frame, or a whole last frame with bad content; a bad
          // frame with records after it is damage, and cutting there would drop acknowledged writes.
          const atTail = i === this.segments.length - 1 && (res.reason === "torn" || ("end" in res && res.end === buf.length));
          if (!atTail) throw new Error(`vector log segment ${segmentName(seg.firstSeq)} is corrupt (${res.reason}) before its end`);
          const fd = openSync(seg.path, "r+");
          try {
            ftruncateSync(fd, offset);
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          report.droppedBytes = buf.length - offset;
          seg.size = offset;
          break;
        }
        offset = res.next;
        if (res.record.seq > afterSeq) {
          yield res.record;
          report.records++;
        }
      }
    }
    this.totalBytes = this.segments.reduce((sum, seg) => sum + seg.size, 0);
    this.bytesSinceSnapshot = this.totalBytes;
    return report;
  }

  /**
   * Reads the records in (afterSeq, upToSeq] without changing anything: how a graph worker that
   * died is rebuilt from the snapshot and the log while the log keeps taking appends (each append
   * is one synchronous write, and a segment is read in one synchronous call, so no half record is
   * seen). Yields to the event loop every REPLAY_SLICE_MS like openAsync.
   */
  async read(afterSeq: number, upToSeq: number, onRecord: (rec: WalRecord) => void): Promise<void> {
    let until = performance.now() + REPLAY_SLICE_MS;
    for (const seg of [...this.segments]) {
      const buf = readFileSync(seg.path);
      for (let offset = 0; ; ) {
        const res = decodeRecord(buf, offset, this.dim);
        if (!res.ok) {
          if (res.reason === "end") break;
          throw new Error(`vector log segment ${segmentName(seg.firstSeq)} is corrupt (${res.reason})`);
        }
        offset = res.next;
        if (res.record.seq > upToSeq) return;
        if (res.record.seq > afterSeq) onRecord(res.record);
        if (performance.now() > until) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          until = performance.now() + REPLAY_SLICE_MS;
        }
      }
    }
  }

  /** Appends one record and makes it durable before returning. */
  append(rec: WalRecord): void {
    const bytes = encodeRecord(rec);
    if (this.fd === null) {
      if (this.segments.length === 0) this.startSegment(rec.seq);
      this.fd = openSync(this.segments.at(-1)!.path, "a");
    }
    const before = fstatSync(this.fd).size;
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(this.fd, bytes, written);
      fdatasyncSync(this.fd);
    } catch (err) {
      // A half-written record must not stay in front of the next one (replay would call it corruption).
      ftruncateSync(this.fd, before);
      throw err;
    }
    this.bytesSinceSnapshot += bytes.length;
    this.totalBytes += bytes.length;
    this.segments.at(-1)!.size += bytes.length;
  }

  /** Starts a new segment whose first record will be `firstSeq`; called when a snapshot begins. */
  rotate(firstSeq: number): void {
    this.closeFd();
    this.bytesSinceSnapshot = 0;
    if (this.segments.at(-1)?.firstSeq === firstSeq) return;
    this.startSegment(firstSeq);
  }

  /** Deletes the segments whose records are all at or before `seq` (covered by a committed snapshot). */
  dropCovered(seq: number): void {
    while (this.segments.length > 1 && this.segments[1]!.firstSeq - 1 <= seq) {
      const seg = this.segments.shift()!;
      unlinkSync(seg.path);
      this.totalBytes -= seg.size;
    }
    fsyncPathSync(this.dir);
  }

  close(): void {
    this.closeFd();
  }

  destroy(): void {
    this.closeFd();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private startSegment(firstSeq: number): void {
    const path = join(this.dir, segmentName(firstSeq));
    closeSync(openSync(path, "a"));
    fsyncPathSync(this.dir);
    this.segments.push({ firstSeq, path, size: 0 });
  }

  private closeFd(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
