// The durable memory: the state in RAM (state.ts), the local log that makes each change durable
// before it is acknowledged (group commit, src/lib/line-log.ts), and snapshots in the object
// store that let old log segments go (snapshot.ts). A write is applied to the state at once, in
// the same turn of the event loop as its checks (so two writers of one trace can never both pass
// an expected_version check), and acknowledged once its log line is on disk.
//
// Start-up: the snapshot the manifest names, then every log record after its sequence. Corrupt
// lines (snapshot or log) are skipped, counted and logged; /health says degraded while any are.
import type { Logger } from "../log.ts";
import { LineLog } from "../lib/line-log.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { LogRecord, Receipt } from "./model.ts";
import { type Capture, type Manifest, readManifest, readSnapshot, writeSnapshot } from "./snapshot.ts";
import { PathwayState } from "./state.ts";

export interface MemoryOptions {
  store: ObjectStore;
  logDir: string;
  fsync: boolean;
  /** Log bytes since the last snapshot that start a new one. */
  compactAfterBytes: number;
  /** After a FORGET, a snapshot follows this soon, so the content leaves the log and the store. */
  forgetCompactMs: number;
  log: Logger;
}

export interface LoadReport {
  snapshotLines: number;
  logRecords: number;
  /** Corrupt records passed over: where and why (segment and offset, never a path). */
  skipped: { where: string; offset: number; reason: string }[];
  droppedBytes: number;
}

const isRecord = (x: unknown): x is LogRecord =>
  typeof x === "object" && x !== null && Number.isSafeInteger((x as LogRecord).seq) && Array.isArray((x as LogRecord).receipts);

export class Memory {
  readonly state = new PathwayState();
  private manifest: Manifest | null = null;
  private snapshotting: Promise<void> | null = null;
  private forgetTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** Called with every record once it is durable (the SQL view follows writes through it). */
  onDurable: (rec: LogRecord) => void = () => {};
  loadReport: LoadReport = { snapshotLines: 0, logRecords: 0, skipped: [], droppedBytes: 0 };
  /** Vector items of traces forgotten in the replayed log: the index may still hold them (a crash before the removal). */
  readonly replayedForgetIds: string[] = [];

  private constructor(
    private readonly opts: MemoryOptions,
    readonly log: LineLog,
  ) {}

  static async open(opts: MemoryOptions): Promise<Memory> {
    const m = new Memory(opts, new LineLog(opts.logDir, { fsync: opts.fsync }));
    await m.load();
    return m;
  }

  private async load(): Promise<void> {
    const { state } = this;
    const report = this.loadReport;
    this.manifest = await readManifest(this.opts.store);
    if (this.manifest) {
      const forgotten: string[] = [];
      const read = await readSnapshot(this.opts.store, this.manifest, (line) => {
        if (line.k === "c") state.loadChain({ uid: line.uid, ord: line.ord, replays: line.replays, versions: line.versions });
        else {
          const { k: _k, ...receipt } = line;
          state.audit.push(receipt as Receipt);
          if (receipt.op === "forget") forgotten.push(receipt.uid);
        }
      });
      for (const uid of forgotten) state.forgotten.add(uid);
      state.seq = this.manifest.seq;
      report.snapshotLines = read.lines;
      for (const offset of read.skipped) report.skipped.push({ where: this.manifest.key, offset, reason: "corrupt" });
    }
    const afterSeq = state.seq;
    const replay = await this.log.replay((rec) => {
      if (!isRecord(rec)) {
        report.skipped.push({ where: "log", offset: -1, reason: "not_a_record" });
        return;
      }
      if (rec.seq <= afterSeq) return;
      state.apply(rec);
      for (const f of rec.forgets ?? []) this.replayedForgetIds.push(...f.vector_ids);
      report.logRecords++;
    });
    // The audit trail is read in seq order; a snapshot and a log can interleave after a crash.
    state.audit.sort((a, b) => a.seq - b.seq);
    report.droppedBytes = replay.droppedBytes;
    for (const s of replay.skipped) report.skipped.push({ where: s.segment, offset: s.offset, reason: s.reason });
    for (const s of report.skipped) this.opts.log.error("pathway: skipping a corrupt record", s);
  }

  /** Applies `rec` now and resolves once it is durable. A failed log write fails this and every later write. */
  async commit(rec: LogRecord): Promise<void> {
    this.state.apply(rec);
    await this.log.append(rec.seq, rec);
    this.onDurable(rec);
    if (rec.forgets?.length) this.scheduleForgetCompaction();
    if (this.log.bytesSinceRotate > this.opts.compactAfterBytes) void this.snapshot();
  }

  private scheduleForgetCompaction(): void {
    if (this.forgetTimer || this.closed) return;
    this.forgetTimer = setTimeout(() => {
      this.forgetTimer = null;
      void this.snapshot();
    }, this.opts.forgetCompactMs);
  }

  /** Writes a snapshot of the current state and drops the log segments it covers; one at a time. */
  snapshot(): Promise<void> {
    if (this.snapshotting) return this.snapshotting.then(() => this.snapshot());
    this.snapshotting = this.runSnapshot()
      .catch((err) => this.opts.log.error("pathway snapshot failed", { error: String(err) }))
      .finally(() => {
        this.snapshotting = null;
      });
    return this.snapshotting;
  }

  private async runSnapshot(): Promise<void> {
    const { state } = this;
    // Captured in one synchronous step with the log's rotation: every record up to `seq` is in
    // the capture, every later one goes to the new segment.
    const cap: Capture = { seq: state.seq, chains: [], receipts: state.audit.slice() };
    for (const chain of state.oldestFirst()) cap.chains.push({ chain, versions: chain.versions.slice(), replays: chain.replays });
    this.log.rotate(cap.seq + 1);
    const t0 = performance.now();
    this.manifest = await writeSnapshot(this.opts.store, cap, this.manifest);
    await this.log.dropBefore(cap.seq + 1);
    this.opts.log.info("pathway snapshot written", { seq: cap.seq, traces: cap.chains.length, ms: Math.round(performance.now() - t0) });
  }

  get writeFailed(): boolean {
    return this.log.failed;
  }

  get snapshotSeq(): number {
    return this.manifest?.seq ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.forgetTimer) clearTimeout(this.forgetTimer);
    await this.log.drain();
    // A graceful stop leaves a snapshot, so the next start reads no log.
    if (this.state.seq > this.snapshotSeq) await this.snapshot();
    await this.snapshotting;
    await this.log.close();
  }
}
