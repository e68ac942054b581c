// The observer's events: durable on a local log before they are acknowledged (group commit,
// src/lib/line-log.ts: one log line per request, so a batch of 1,000 costs one line and one share
// of an fsync), held in memory while they are recent (the "hot" part), then archived to the object
// store (archive.ts) and dropped from memory and the log. Acceptance is bounded: more events
// waiting for the disk than max_pending_events is a 503 with Retry-After, never an unbounded queue.
//
// Ids are assigned in acceptance order; group commit resolves requests in that order, so the hot
// list is always a prefix of the durable events, in id order.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Unavailable } from "../errors.ts";
import type { Logger } from "../log.ts";
import { LineLog } from "../lib/line-log.ts";
import type { ObjectStore } from "../storage/store.ts";
import {
  type ArchiveEntry,
  deleteArchive,
  deleteOrphans,
  ensureLocal,
  localArchivePath,
  type Manifest,
  readManifest,
  readRuns,
  runsKey,
  writeArchive,
  writeManifest,
} from "./archive.ts";
import { Counts, RateRing } from "./counts.ts";
import type { LogRecord, NewEvent, ObsEvent } from "./model.ts";

export interface EventStoreOptions {
  store: ObjectStore;
  logDir: string;
  /** The directory the SQL workers read (archive copies, hot chunks). */
  viewDir: string;
  fsync: boolean;
  maxPending: number;
  maxPendingBytes: number;
  archiveAfterEvents: number;
  archiveAfterBytes: number;
  archiveAfterMs: number;
  retentionDays: number;
  log: Logger;
  now: () => number;
}

/** What the witness hands the store at each archive, and gets back at open. */
export interface RunsSnapshotter {
  capture(): { seq: number; runs: unknown };
  load(snapshot: unknown): void;
}

/** Bytes of acceptance per event the 503 tells a client to wait for: one group commit is a few ms. */
const RETRY_AFTER_S = 1;

const isRecord = (x: unknown): x is LogRecord =>
  typeof x === "object" && x !== null && Number.isSafeInteger((x as LogRecord).seq) && Array.isArray((x as LogRecord).events);

export class EventStore {
  /** Durable events not yet archived, in id order. */
  hot: ObsEvent[] = [];
  hotCounts = new Counts();
  readonly rate = new RateRing();
  manifest: Manifest;
  seq = 0;
  pending = 0;
  /** Called with every event once it is durable (the view, the witness). Also during replay, with replay true. */
  onDurable: (events: readonly ObsEvent[], replay: boolean) => void = () => {};
  skipped = 0;
  private archiving: Promise<void> | null = null;
  private runs: RunsSnapshotter | null = null;
  private constructor(
    private readonly opts: EventStoreOptions,
    readonly log: LineLog,
    manifest: Manifest,
  ) {
    this.manifest = manifest;
  }

  static async open(opts: EventStoreOptions, runs: RunsSnapshotter, onDurable: EventStore["onDurable"]): Promise<EventStore> {
    const manifest = await readManifest(opts.store);
    const s = new EventStore(opts, new LineLog(opts.logDir, { fsync: opts.fsync }), manifest);
    s.runs = runs;
    s.onDurable = onDurable;
    await s.load();
    return s;
  }

  private async load(): Promise<void> {
    const { store, viewDir, log } = this.opts;
    const m = this.manifest;
    const orphans = await deleteOrphans(store, m);
    if (orphans > 0) log.info("observer: deleted orphan archive objects", { count: orphans });
    mkdirSync(join(viewDir, "archive"), { recursive: true });
    const names = new Set(m.archives.map((a) => `${a.name}.ndjson`));
    for (const f of readdirSync(join(viewDir, "archive"))) if (!names.has(f)) rmSync(join(viewDir, "archive", f), { force: true });
    for (const a of m.archives) await ensureLocal(store, viewDir, a);
    if (m.runs_key) {
      const snap = await readRuns(store, m.runs_key);
      if (snap !== null) this.runs?.load(snap);
    }
    this.seq = m.seq;
    const now = this.opts.now();
    const replay = await this.log.replay((rec) => {
      if (!isRecord(rec)) {
        this.skipped++;
        return;
      }
      const fresh = rec.events.filter((e) => e.id > m.seq);
      if (fresh.length === 0) return;
      for (const e of fresh) this.take(e, now);
      this.seq = Math.max(this.seq, fresh.at(-1)!.id);
      this.onDurable(fresh, true);
    });
    // A crash can interleave records of two groups across a rotation; the list must be in id order.
    this.hot.sort((a, b) => a.id - b.id);
    this.skipped += replay.skipped.length;
    for (const s of replay.skipped) log.error("observer: skipping a corrupt log record", { segment: s.segment, offset: s.offset, reason: s.reason });
  }

  private take(e: ObsEvent, now: number): void {
    this.hot.push(e);
    this.hotCounts.add(e);
    this.rate.add(Date.parse(e.ts), now);
  }

  /**
   * Assigns ids now (so a caller can act on them in this turn, as the witness does) and resolves
   * when the events are durable. Refuses (503, Retry-After) when the log cannot keep up or failed.
   */
  submit(batch: readonly NewEvent[]): { events: ObsEvent[]; durable: Promise<void> } {
    if (this.log.failed) throw new Unavailable("the observer log could not be written (disk full or failing); nothing was acknowledged");
    if (this.pending + batch.length > this.opts.maxPending || this.log.queuedBytes > this.opts.maxPendingBytes) {
      throw new Unavailable(
        `the observer is behind: ${this.pending} events are waiting for the disk; retry shortly`,
        { pending: this.pending },
        { retryAfter: RETRY_AFTER_S },
      );
    }
    const nowIso = new Date(this.opts.now()).toISOString();
    const events: ObsEvent[] = batch.map((e) => ({
      id: ++this.seq,
      ts: e.ts ? new Date(e.ts).toISOString() : nowIso,
      source: e.source,
      kind: e.kind,
      run_id: e.run_id ?? null,
      level: e.level ?? "info",
      payload: e.payload ?? null,
    }));
    this.pending += events.length;
    const durable = this.log.append(events[0]!.id, { seq: events[0]!.id, events } satisfies LogRecord).then(
      () => {
        this.pending -= events.length;
        const now = this.opts.now();
        for (const e of events) this.take(e, now);
        this.onDurable(events, false);
        this.maybeArchive();
      },
      (err) => {
        this.pending -= events.length;
        throw new Unavailable("the observer log could not be written (disk full or failing); nothing was acknowledged", undefined, { cause: err });
      },
    );
    return { events, durable };
  }

  /** Accepts and waits until durable. */
  async append(batch: readonly NewEvent[]): Promise<ObsEvent[]> {
    const { events, durable } = this.submit(batch);
    await durable;
    return events;
  }

  private maybeArchive(): void {
    if (this.archiving || this.hot.length === 0) return;
    const old = Date.parse(this.hot[0]!.ts) < this.opts.now() - this.opts.archiveAfterMs;
    // The log's bytes since the last rotation are the hot events' bytes: an archive rotates it.
    const big = this.hot.length >= this.opts.archiveAfterEvents || this.log.bytesSinceRotate >= this.opts.archiveAfterBytes;
    if (big || old) void this.archive();
  }

  /** Timer tick: archive old hot events, apply retention. */
  async tick(): Promise<void> {
    this.maybeArchive();
    await this.archiving;
    await this.applyRetention();
  }

  /** Moves every durable hot event to an archive; one archive at a time. */
  archive(): Promise<void> {
    if (this.archiving) return this.archiving.then(() => this.archive());
    this.archiving = this.runArchive()
      .catch((err) => this.opts.log.error("observer: archive failed", { error: String(err) }))
      .finally(() => {
        this.archiving = null;
      });
    return this.archiving;
  }

  /** Called after an archive was committed, with the new manifest (the view republishes). */
  onArchived: (m: Manifest) => Promise<void> = async () => {};

  private async runArchive(): Promise<void> {
    if (this.hot.length === 0) return;
    const { store, viewDir } = this.opts;
    // Captured synchronously with the rotation: everything up to `cut` is in `events`, every later
    // record goes to the new segment.
    const events = this.hot.slice();
    const cut = events.at(-1)!.id;
    const counts = this.hotCounts.toJSON();
    const runs = this.runs?.capture() ?? null;
    this.log.rotate(cut + 1);
    const t0 = performance.now();
    const entry = await writeArchive(store, viewDir, events, counts);
    let runsKeyNow = this.manifest.runs_key;
    if (runs) {
      runsKeyNow = runsKey(runs.seq);
      if (runsKeyNow !== this.manifest.runs_key) await store.put(runsKeyNow, JSON.stringify(runs), { contentType: "application/json" });
    }
    const previousRuns = this.manifest.runs_key;
    const next: Manifest = { version: 1, seq: cut, archives: [...this.manifest.archives, entry], runs_key: runsKeyNow };
    await writeManifest(store, next);
    this.manifest = next;
    // Events accepted while the archive was written stay hot.
    this.hot = this.hot.filter((e) => e.id > cut);
    this.hotCounts = new Counts();
    for (const e of this.hot) this.hotCounts.add(e);
    await this.onArchived(next);
    if (previousRuns && previousRuns !== runsKeyNow) await store.delete(previousRuns).catch(() => {});
    await this.log.dropBefore(cut + 1);
    this.opts.log.info("observer: events archived", { events: events.length, first: entry.first, last: cut, ms: Math.round(performance.now() - t0) });
  }

  /** Drops archives whose newest event is older than retention_days. */
  async applyRetention(): Promise<number> {
    const horizon = new Date(this.opts.now() - this.opts.retentionDays * 86_400_000).toISOString();
    const expired = this.manifest.archives.filter((a) => a.max_ts < horizon);
    if (expired.length === 0) return 0;
    const next: Manifest = { ...this.manifest, archives: this.manifest.archives.filter((a) => a.max_ts >= horizon) };
    await writeManifest(this.opts.store, next);
    this.manifest = next;
    await this.onArchived(next);
    for (const a of expired) {
      await deleteArchive(this.opts.store, a).catch(() => {});
      rmSync(localArchivePath(this.opts.viewDir, a.name), { force: true });
    }
    this.opts.log.info("observer: archives past retention dropped", { archives: expired.length });
    return expired.length;
  }

  /** Totals over everything retained: the archives' counts plus the hot events'. */
  totals(): Counts {
    const c = new Counts();
    for (const a of this.manifest.archives) c.merge(a.counts);
    c.merge(this.hotCounts.toJSON());
    return c;
  }

  archives(): readonly ArchiveEntry[] {
    return this.manifest.archives;
  }

  async close(): Promise<void> {
    await this.archiving;
    await this.log.close();
  }
}
