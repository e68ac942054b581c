// The workflow module: DAGs of steps over every module, each step an operation called in-process
// (ops.call) as the identity that started the run, or one of the runner's own modes (transform,
// llm.generate, matrix.relevance). Definitions live in the versioned store under _workflows/;
// run state in a local log with group commit and snapshots under _workflows/runs/ (run-store.ts).
// It opens last, after every module whose operations its modes call.
import { join, resolve } from "node:path";
import type { Module, ModuleContext } from "../module.ts";
import type { WorkflowsConfig } from "./config.ts";
import { Definitions } from "./definitions.ts";
import { llmClient } from "./llm/client.ts";
import { type Mode, modeMap } from "./modes/index.ts";
import { observer } from "./observe.ts";
import { workflowOperations } from "./operations.ts";
import { Runner } from "./runner.ts";
import { RunStore } from "./run-store.ts";
import { WorkflowService } from "./service.ts";

export { type WorkflowsConfig, workflowsSection } from "./config.ts";

/** The module's config: its section, plus where its log lives and whether it fsyncs (app.ts: sectionFor). */
export type WorkflowsSection = WorkflowsConfig & { log_root: string; fsync: boolean };

/** Nothing typed: every other module is reached through the operation registry in ctx.ops. */
export type WorkflowsPorts = Record<string, never>;

export interface WorkflowsModule extends Module {
  readonly service: WorkflowService;
  readonly runner: Runner;
}

/** workflows.log_dir, else <storage.fs.root>/wal/workflows; fsync as storage.fs.fsync. */
export function sectionFor(cfg: WorkflowsConfig, storage: { fs: { root: string; fsync: boolean } }): WorkflowsSection {
  const log_root = cfg.log_dir ? resolve(cfg.log_dir) : join(resolve(storage.fs.root), "wal", "workflows");
  return { ...cfg, log_root, fsync: storage.fs.fsync };
}

export interface OpenOptions {
  /** Modes besides the built-in ones (tests: a step that sleeps or fails on demand). */
  extraModes?: readonly Mode[];
}

export async function open(ctx: ModuleContext<WorkflowsSection>, _ports: WorkflowsPorts = {}, opts: OpenOptions = {}): Promise<WorkflowsModule> {
  const { config, log, ops } = ctx;
  const definitions = await Definitions.open(ctx.store, log);
  const runs = await RunStore.open({
    store: ctx.store,
    logDir: config.log_root,
    fsync: config.fsync,
    compactAfterBytes: config.compact_after_bytes,
    keepRuns: config.keep_runs,
    log,
  });
  const llm = llmClient(config.llm);
  const modes = modeMap(opts.extraModes);
  const runner = new Runner({
    store: runs,
    ops,
    modes,
    llm,
    limits: { maxSteps: config.max_steps, maxRetries: config.max_retries },
    maxRunning: config.max_running,
    maxParallelSteps: config.max_parallel_steps,
    defaultTimeoutMs: config.default_timeout_ms,
    maxOutputBytes: config.max_output_bytes,
    observe: observer(ops, log),
    log,
  });
  const service = new WorkflowService(definitions, runs, runner);
  ops.register(...workflowOperations(service, () => ({ list: [...modes.values()], env: runner.env })));
  const recovered = await service.recover();
  if (recovered.interrupted > 0 || recovered.requeued > 0) log.info("workflows: runs recovered", recovered);
  return {
    name: "workflows",
    service,
    runner,
    health: () => {
      const defs = definitions.health();
      const detail: Record<string, unknown> = { workflows: defs.live, runs: runs.runs.size, log_bytes: runs.log.totalBytes };
      if (defs.status !== "ok") detail.definitions = defs;
      if (runs.skipped.length > 0) detail.skipped_records = { count: runs.skipped.length, first: runs.skipped.slice(0, 5) };
      if (runs.log.failed) detail.log_write_failed = true;
      const degraded = defs.status !== "ok" || runs.skipped.length > 0 || runs.log.failed;
      return { status: degraded ? "degraded" : "ok", detail };
    },
    close: async () => {
      await runner.close();
      await runs.close();
    },
  };
}
