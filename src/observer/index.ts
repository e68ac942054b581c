// The observer module: durable events (event-store.ts, archive.ts) readable newest first and as
// the SQL view observer_events (view.ts); fail-safe reviews of claims against truth rules and SQL
// evidence (review.ts); the iteration witness (witness.ts); the distillation export behind a
// contamination firewall (distill.ts). Other modules' bus events become observer events (bus.ts).
import { join, resolve } from "node:path";
import type { Module, ModuleContext } from "../module.ts";
import type { DatasetWriterPort, EmbedPort, SqlViewPort } from "../ports.ts";
import { subscribeBus } from "./bus.ts";
import type { ObserverConfig } from "./config.ts";
import { EventStore } from "./event-store.ts";
import type { ReviewSql } from "./evidence.ts";
import { observerOperations } from "./operations.ts";
import { EventReader } from "./reads.ts";
import { RegexRunner } from "./regex.ts";
import type { ReviewDeps } from "./review.ts";
import { EventView } from "./view.ts";
import { Witness } from "./witness.ts";

export { type ObserverConfig, observerSection } from "./config.ts";

/** The module's config: its section, plus where its log lives and whether it fsyncs (app.ts: sectionFor). */
export type ObserverSection = ObserverConfig & { log_root: string; fsync: boolean };

export interface ObserverPorts {
  /** The SQL port; a `timeoutMs` option is honoured when the provider passes it on (review_sql_timeout_ms). */
  sql: ReviewSql;
  sqlViews: SqlViewPort;
  embed: EmbedPort;
  writer: DatasetWriterPort;
}

export interface ObserverOptions {
  /** The clock (tests: stall detection without waiting). */
  now?: () => number;
  /** Wraps the review's dependencies (tests: a verdict store that fails). */
  reviewDeps?: (deps: ReviewDeps) => ReviewDeps;
}

export interface ObserverModule extends Module {
  readonly events: EventStore;
  readonly witness: Witness;
  readonly reader: EventReader;
  /** Writes the view's pending events now (tests). */
  refreshView(): Promise<void>;
  /** Archives every hot event now (tests, benchmarks). */
  archive(): Promise<void>;
  /** One timer tick now: archive what is old, apply retention, flag stalled runs (tests). */
  tick(): Promise<void>;
}

/** observer.log_dir, else <storage.fs.root>/wal/observer; fsync as storage.fs.fsync. */
export function sectionFor(observer: ObserverConfig, storage: { fs: { root: string; fsync: boolean } }): ObserverSection {
  const log_root = observer.log_dir ? resolve(observer.log_dir) : join(resolve(storage.fs.root), "wal", "observer");
  return { ...observer, log_root, fsync: storage.fs.fsync };
}

/** How often archiving, retention and stall checks run. */
const TICK_MS = 30_000;

export async function open(ctx: ModuleContext<ObserverSection>, ports: ObserverPorts, opts: ObserverOptions = {}): Promise<ObserverModule> {
  const { config, log } = ctx;
  const now = opts.now ?? Date.now;
  const view = new EventView(ports.sqlViews, config.view_refresh_ms, log);
  view.prepare();
  const witness = new Witness(config, now);
  const events = await EventStore.open(
    {
      store: ctx.store,
      logDir: config.log_root,
      viewDir: view.directory,
      fsync: config.fsync,
      maxPending: config.max_pending_events,
      maxPendingBytes: config.max_pending_bytes,
      archiveAfterEvents: config.archive_after_events,
      archiveAfterBytes: config.archive_after_bytes,
      archiveAfterMs: config.archive_after_ms,
      retentionDays: config.retention_days,
      log,
      now,
    },
    witness,
    (evs, replay) => {
      view.add(evs);
      if (replay) witness.replay(evs);
    },
  );
  witness.attach((batch) => events.submit(batch));
  events.onArchived = (m) => view.publish(m);
  await view.flush();
  await view.publish(events.manifest);
  await events.applyRetention();

  const regex = new RegexRunner();
  const baseReview: ReviewDeps = {
    sql: ports.sql,
    regex,
    limits: { timeoutMs: config.review_sql_timeout_ms, maxRows: config.review_max_rows },
    record: async (ev) => (await events.append([ev]))[0]!.id,
  };
  const reviewDeps = opts.reviewDeps ? opts.reviewDeps(baseReview) : baseReview;
  const reader = new EventReader(events, ctx.store, view.directory);
  ctx.ops.register(
    ...observerOperations({
      events,
      reader,
      witness,
      review: reviewDeps,
      distill: { reader, sql: ports.sql, embed: ports.embed, writer: ports.writer },
      now,
      maxBodyBytes: config.max_request_bytes,
    }),
  );
  const bus = subscribeBus(ctx.events, events, log);
  const tick = async () => {
    await events.tick();
    await witness.sweep();
  };
  const timer = setInterval(
    () => {
      tick().catch((err) => log.error("observer: tick failed", { error: String(err) }));
    },
    Math.min(TICK_MS, config.stall_seconds * 250),
  );
  timer.unref?.();

  return {
    name: "observer",
    events,
    witness,
    reader,
    refreshView: () => view.flush(),
    archive: () => events.archive(),
    tick,
    health: () => {
      const detail: Record<string, unknown> = {
        hot_events: events.hot.length,
        archives: events.manifest.archives.length,
        pending: events.pending,
        runs: witness.size,
        log_bytes: events.log.totalBytes,
      };
      if (events.skipped > 0) detail.skipped_records = events.skipped;
      if (bus.dropped() > 0) detail.dropped_bus_events = bus.dropped();
      if (events.log.failed) detail.log_write_failed = true;
      if (view.error) detail.view_error = view.error;
      return { status: events.skipped > 0 || events.log.failed || view.error ? "degraded" : "ok", detail };
    },
    close: async () => {
      clearInterval(timer);
      bus.unsubscribe();
      regex.close();
      await view.close();
      await events.close();
    },
  };
}
