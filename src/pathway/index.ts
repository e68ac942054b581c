// The pathway module: versioned agent memory. Traces and their audit trail live in RAM, made
// durable by a local log with group commit and snapshots in the object store (memory.ts);
// embeddings go through the embed port into a vector index the module owns (vectors.ts); the
// live traces are a read-only SQL view (view.ts) when the SQL module offers views.
import { join, resolve } from "node:path";
import type { Module, ModuleContext } from "../module.ts";
import type { EmbedPort, VectorPort } from "../ports.ts";
import type { PathwayConfig } from "./config.ts";
import { Memory } from "./memory.ts";
import { pathwayOperations } from "./operations.ts";
import { type PathwayViewPort, TraceView } from "./view.ts";
import { pinnedModel } from "./index-model.ts";
import { TraceVectors } from "./vectors.ts";

export { pathwaySection, type PathwayConfig } from "./config.ts";
export type { PathwayViewPort } from "./view.ts";

/** The module's config: its section, plus where its log lives and whether it fsyncs (app.ts: sectionFor). */
export type PathwaySection = PathwayConfig & { log_root: string; fsync: boolean };

export interface PathwayPorts {
  embed: EmbedPort;
  vector: VectorPort;
  /** The SQL view `pathway_traces` follows writes when given. */
  sqlViews?: PathwayViewPort;
}

export interface PathwayModule extends Module {
  readonly memory: Memory;
  /** Resolves when the start-up catch-up of the vector index has finished (tests). */
  readonly caughtUp: Promise<void>;
  /** Writes a snapshot now and drops the log it covers (tests, benchmarks). */
  compact(): Promise<void>;
  /** Rewrites the SQL view's files now (tests). */
  refreshView(): Promise<void>;
}

/** The section app.ts passes: pathway.log_dir, else <storage.fs.root>/wal/pathway; fsync as storage.fs.fsync. */
export function sectionFor(pathway: PathwayConfig, storage: { fs: { root: string; fsync: boolean } }): PathwaySection {
  const log_root = pathway.log_dir ? resolve(pathway.log_dir) : join(resolve(storage.fs.root), "wal", "pathway");
  return { ...pathway, log_root, fsync: storage.fs.fsync };
}

/** Monotonic ISO timestamps: a later write never carries an earlier time (as_of depends on it). */
function clock(): () => string {
  let last = 0;
  return () => {
    last = Math.max(Date.now(), last);
    return new Date(last).toISOString();
  };
}

export async function open(ctx: ModuleContext<PathwaySection>, ports: PathwayPorts): Promise<PathwayModule> {
  const { config, log } = ctx;
  const vectors = new TraceVectors(ports.vector, ports.embed, log);
  await vectors.open();
  vectors.model = await pinnedModel(ctx.store, ports.embed, vectors.exists, log);
  const memory = await Memory.open({
    store: ctx.store,
    logDir: config.log_root,
    fsync: config.fsync,
    compactAfterBytes: config.compact_after_bytes,
    forgetCompactMs: config.forget_compact_ms,
    log,
  });
  const view = ports.sqlViews ? new TraceView(ports.sqlViews, memory, config, log) : null;
  if (view) await view.open();
  const caughtUp = vectors
    .reconcile(memory.state, memory.replayedForgetIds)
    .then(() => {})
    .catch((err) => log.error("pathway: vector catch-up failed", { error: String(err) }));
  ctx.ops.register(...pathwayOperations({ memory, vectors, now: clock(), log }, config.max_request_bytes));
  return {
    name: "pathway",
    memory,
    caughtUp,
    compact: () => memory.snapshot(),
    refreshView: async () => {
      await view?.refresh(true);
    },
    health: () => {
      const report = memory.loadReport;
      const detail: Record<string, unknown> = {
        traces: memory.state.size,
        receipts: memory.state.audit.length,
        log_bytes: memory.log.totalBytes,
        snapshot_seq: memory.snapshotSeq,
        model: vectors.model,
      };
      if (report.skipped.length > 0) detail.skipped_records = { count: report.skipped.length, first: report.skipped.slice(0, 5) };
      if (memory.writeFailed) detail.log_write_failed = true;
      const degraded = report.skipped.length > 0 || memory.writeFailed;
      return { status: degraded ? "degraded" : "ok", detail };
    },
    close: async () => {
      await view?.close();
      await vectors.settled();
      await memory.close();
    },
  };
}
