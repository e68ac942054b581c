// A durable local log of JSON records with group commit: one line per record,
// `<crc32 as 8 hex digits> <JSON>\n`, in segment files <dir>/<first seq>.log. The object store has
// no append and no fsync, so a module whose writes must survive kill -9 before its next snapshot
// keeps such a log on local disk (the vector module's binary log is the same idea for vectors).
//
// Group commit: `append` queues a line and resolves once it is on disk; while one write+fdatasync
// is in flight, later appends gather into the next, so N concurrent requests share one fsync
// instead of paying one each. Writes go through the thread pool (node:fs/promises), so the event
// loop keeps serving while the disk works.
//
// Reading back is forgiving, unlike a log that must stop at damage: a line whose checksum or JSON
// is wrong is skipped and reported and the next line is read (a newline never occurs inside a
// JSON.stringify'd record, so every line starts fresh), and a torn last line (a crash mid-append,
// no newline) is cut off. One bad record never takes the others with it.
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, unlinkSync } from "node:fs";
import { type FileHandle, open, readFile, truncate } from "node:fs/promises";
import { join } from "node:path";
import { fsyncPath, fsyncPathSync } from "./fsync.ts";

const SUFFIX = ".log";
const NEWLINE = 0x0a;
/** Replay parses for this long before the event loop gets a turn. */
const REPLAY_SLICE_MS = 20;
const segmentName = (firstSeq: number) => `${String(firstSeq).padStart(16, "0")}${SUFFIX}`;
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** One line of the log (or of a snapshot written in the same format). */
export function encodeLine(record: unknown): string {
  const json = JSON.stringify(record);
  return `${crcHex(json)} ${json}\n`;
}

const crcHex = (text: string) => Bun.hash.crc32(text).toString(16).padStart(8, "0");

/** Decodes one line (without its newline); null when its checksum or JSON is wrong. */
export function decodeLine(line: string): unknown | null {
  if (line.length < 10 || line[8] !== " ") return null;
  const json = line.slice(9);
  if (crcHex(json) !== line.slice(0, 8)) return null;
  try {
    return JSON.parse(json);
  } catch {
    return null;
  }
}

export interface SkippedLine {
  segment: string;
  /** Byte offset of the line in its segment. */
  offset: number;
  reason: "checksum" | "not_utf8";
}

export interface LogReplay {
  records: number;
  skipped: SkippedLine[];
  /** Bytes cut from the tail of the last segment (a torn append). */
  droppedBytes: number;
}

interface Segment {
  firstSeq: number;
  path: string;
  size: number;
}

interface Waiter {
  bytes: Uint8Array;
  resolve(): void;
  reject(err: unknown): void;
}

export interface LineLogOptions {
  /** fdatasync before acknowledging (storage.fs.fsync): off, a write survives kill -9 but not power loss. */
  fsync: boolean;
}

export class LineLog {
  private segments: Segment[] = [];
  private fh: FileHandle | null = null;
  /** The segment `fh` appends to: a rotation makes the next write open the new one. */
  private fhPath = "";
  /** The write in flight, if any (a segment is never deleted under it). */
  private inflight: Promise<void> | null = null;
  private queue: Waiter[] = [];
  private flushing: Promise<void> | null = null;
  /** Set after a failed write: the file may hold a partial line, so nothing more is appended. */
  private broken: unknown = null;
  bytesSinceRotate = 0;
  totalBytes = 0;
  /** Bytes appended but not yet on disk (queued or being written): a caller can refuse work past a bound (back-pressure). */
  queuedBytes = 0;
  /** How many flushes (write + fsync) ran, and how many records they carried: group commit at work. */
  readonly stats = { flushes: 0, records: 0 };

  constructor(
    readonly dir: string,
    private readonly opts: LineLogOptions,
  ) {}

  /**
   * Reads every record in order, giving the event loop a turn every REPLAY_SLICE_MS. Corrupt lines
   * are skipped and reported; a torn tail of the last segment is cut off.
   */
  async replay(onRecord: (rec: unknown) => void): Promise<LogReplay> {
    mkdirSync(this.dir, { recursive: true });
    this.segments = readdirSync(this.dir)
      .filter((f) => /^\d{16}\.log$/.test(f))
      .map((f) => ({ firstSeq: Number(f.slice(0, -SUFFIX.length)), path: join(this.dir, f), size: 0 }))
      .sort((a, b) => a.firstSeq - b.firstSeq);
    const report: LogReplay = { records: 0, skipped: [], droppedBytes: 0 };
    let until = performance.now() + REPLAY_SLICE_MS;
    for (const [i, seg] of this.segments.entries()) {
      const buf = new Uint8Array(await readFile(seg.path));
      let offset = 0;
      while (offset < buf.length) {
        const nl = buf.indexOf(NEWLINE, offset);
        if (nl < 0) {
          // A line with no newline can only be the last append, torn by a crash (every append
          // ends with one): never acknowledged, so it is cut. In an older segment it is damage.
          if (i === this.segments.length - 1) {
            await truncate(seg.path, offset);
            report.droppedBytes = buf.length - offset;
          } else report.skipped.push({ segment: segmentName(seg.firstSeq), offset, reason: "checksum" });
          break;
        }
        let rec: unknown | null = null;
        let reason: SkippedLine["reason"] = "checksum";
        try {
          rec = decodeLine(dec.decode(buf.subarray(offset, nl)));
        } catch {
          reason = "not_utf8";
        }
        if (rec === null) report.skipped.push({ segment: segmentName(seg.firstSeq), offset, reason });
        else {
          onRecord(rec);
          report.records++;
        }
        offset = nl + 1;
        if (performance.now() > until) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          until = performance.now() + REPLAY_SLICE_MS;
        }
      }
      seg.size = Math.min(buf.length, offset);
    }
    this.totalBytes = this.segments.reduce((sum, seg) => sum + seg.size, 0);
    this.bytesSinceRotate = this.segments.at(-1)?.size ?? 0;
    return report;
  }

  /** Queues a record; resolves once it is durable (with the others of its group). `seq` names a first segment. */
  append(seq: number, record: unknown): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.segments.length === 0) this.startSegment(seq);
    const bytes = enc.encode(encodeLine(record));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      this.queuedBytes += bytes.length;
      this.flushing ??= this.flushLoop();
    });
  }

  /** Whether a write failed (nothing more is accepted). */
  get failed(): boolean {
    return this.broken !== null;
  }

  /** Resolves when every queued record is on disk (or failed). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    try {
      // Let the requests of this turn of the event loop join the first group.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.queue.length > 0) {
        const group = this.queue;
        this.queue = [];
        try {
          this.inflight = this.write(group);
          await this.inflight;
          for (const w of group) {
            this.queuedBytes -= w.bytes.length;
            w.resolve();
          }
        } catch (err) {
          this.broken = err;
          for (const w of [...group, ...this.queue]) {
            this.queuedBytes -= w.bytes.length;
            w.reject(err);
          }
          this.queue = [];
        }
      }
    } finally {
      this.inflight = null;
      this.flushing = null;
    }
  }

  private async write(group: Waiter[]): Promise<void> {
    const size = group.reduce((n, w) => n + w.bytes.length, 0);
    const buf = new Uint8Array(size);
    let off = 0;
    for (const w of group) {
      buf.set(w.bytes, off);
      off += w.bytes.length;
    }
    const seg = this.segments.at(-1)!;
    if (this.fhPath !== seg.path) {
      await this.closeFh();
      this.fh = await open(seg.path, "a");
      this.fhPath = seg.path;
    }
    const fh = this.fh!;
    let written = 0;
    while (written < buf.length) written += (await fh.write(buf, written)).bytesWritten;
    if (this.opts.fsync) await fh.datasync();
    seg.size += size;
    this.bytesSinceRotate += size;
    this.totalBytes += size;
    this.stats.flushes++;
    this.stats.records += group.length;
  }

  /**
   * Starts a new segment for the records from `firstSeq` on (a snapshot holding everything before
   * begins), synchronously, so no record after the snapshot's point can land in an older segment.
   * Records before it still queued land in the new one: harmless, replay skips what a snapshot has.
   */
  rotate(firstSeq: number): void {
    this.bytesSinceRotate = 0;
    const last = this.segments.at(-1);
    if (last && last.firstSeq >= firstSeq) return;
    this.startSegment(firstSeq);
  }

  /** Deletes the segments whose records are all before `firstKept` (a committed snapshot covers them). */
  async dropBefore(firstKept: number): Promise<void> {
    // A write that began before the rotation may still be appending to an old segment.
    await this.inflight?.catch(() => {});
    while (this.segments.length > 1 && this.segments[1]!.firstSeq <= firstKept) {
      const seg = this.segments.shift()!;
      unlinkSync(seg.path);
      this.totalBytes -= seg.size;
    }
    await fsyncPath(this.dir);
  }

  async close(): Promise<void> {
    await this.drain();
    await this.closeFh();
  }

  /** Removes the log and every segment (tests, a dropped module). */
  async destroy(): Promise<void> {
    await this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private startSegment(firstSeq: number): void {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, segmentName(firstSeq));
    closeSync(openSync(path, "a"));
    fsyncPathSync(this.dir);
    this.segments.push({ firstSeq, path, size: 0 });
  }

  private async closeFh(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    this.fhPath = "";
    await fh?.close();
  }
}
