// Helpers for the workflow tests: a workflow module opened alone over a real fs store (with test
// modes that sleep, fail on demand or count calls), and short calls to the /v1/workflows routes of
// a whole lakehouse.
import * as v from "valibot";
import { EventBus } from "../../src/events.ts";
import { silentLogger } from "../../src/log.ts";
import type { ModuleContext } from "../../src/module.ts";
import { OperationRegistry } from "../../src/ops/registry.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { scopedStore } from "../../src/storage/layout.ts";
import { type WorkflowsConfig, workflowsSection } from "../../src/workflows/config.ts";
import * as workflows from "../../src/workflows/index.ts";
import { ownMode } from "../../src/workflows/modes/mode.ts";
import type { RunRecord } from "../../src/workflows/run-store.ts";
import { call, json, post, send, type Target } from "../support/http.ts";
import { tempDir } from "../support/tmp.ts";

export const W = "/v1/workflows";

/** Calls of the test modes, by key: what ran, with which input, as whom. */
export const calls: { mode: string; input: Record<string, unknown>; identity: unknown; at: number }[] = [];
const failures = new Map<string, number>();

/** Gates by name: a sleep step with `unless_open` naming an open gate answers at once. */
export const openGates = new Set<string>();

/** `sleep`: waits ms (stops early when its signal aborts unless ignore_signal), then answers {value, slept}. */
export const sleepMode = ownMode({
  name: "test.sleep",
  summary: "sleeps",
  input: v.strictObject({ ms: v.number(), value: v.optional(v.unknown()), ignore_signal: v.optional(v.boolean()), unless_open: v.optional(v.string()) }),
  output: v.unknown(),
  run: async (input, ctx) => {
    const t0 = performance.now();
    calls.push({ mode: "test.sleep", input, identity: ctx.call.identity, at: t0 });
    if (input.unless_open && openGates.has(input.unless_open as string)) return { value: input.value ?? null, slept: 0 };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, input.ms as number);
      if (!input.ignore_signal)
        ctx.call.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(new Error("aborted"));
        });
    });
    return { value: input.value ?? null, slept: Math.round(performance.now() - t0) };
  },
});

/** `flaky`: fails (upstream_error) its first `fail` calls for a key, then answers {ok: true, attempt}. */
export const flakyMode = ownMode({
  name: "test.flaky",
  summary: "fails then works",
  input: v.strictObject({ key: v.string(), fail: v.number(), code: v.optional(v.string()) }),
  output: v.unknown(),
  run: async (input) => {
    const key = input.key as string;
    const n = (failures.get(key) ?? 0) + 1;
    failures.set(key, n);
    calls.push({ mode: "test.flaky", input, identity: null, at: performance.now() });
    if (n <= (input.fail as number)) {
      const { StepFailed } = await import("../../src/workflows/step-error.ts");
      throw new StepFailed((input.code as string) ?? "upstream_error", `flaky failure ${n}`);
    }
    return { ok: true, attempt: n };
  },
});

export const TEST_MODES = [sleepMode, flakyMode];

export interface Harness {
  mod: workflows.WorkflowsModule;
  ops: OperationRegistry;
  root: string;
  start(workflow: unknown, inputs?: Record<string, unknown>): Promise<string>;
  /** Waits for the run to finish (any finished status) and answers its view. */
  wait(id: string): Promise<any>;
  view(id: string): Promise<any>;
  close(): Promise<void>;
}

export async function harness(overrides: Partial<WorkflowsConfig> = {}, root = tempDir("lh-wf-")): Promise<Harness> {
  const store = await FsObjectStore.open(root, { fsync: false });
  const ops = new OperationRegistry({ checkResults: true });
  const config = { ...v.parse(workflowsSection, overrides), log_root: `${root}/wal`, fsync: false };
  const ctx: ModuleContext<workflows.WorkflowsSection> = {
    config,
    store: scopedStore(store, "workflows"),
    log: silentLogger,
    ops,
    events: new EventBus(silentLogger),
  };
  const mod = await workflows.open(ctx, {}, { extraModes: TEST_MODES });
  const view = (id: string) => ops.call("workflows.get_run", { id });
  return {
    mod,
    ops,
    root,
    async start(workflow, inputs) {
      const r = await ops.call<{ id: string }>("workflows.start_run", inputs ? { workflow, inputs } : { workflow });
      return r.id;
    },
    async wait(id) {
      for (;;) {
        const run = mod.service.get(id);
        if (!["queued", "running"].includes(run.status)) return view(id);
        await Bun.sleep(5);
      }
    },
    view,
    close: () => mod.close(),
  };
}

export const stepOf = (run: { steps: { id: string }[] }, id: string): any => run.steps.find((s) => s.id === id);

/** A whole lakehouse's run, finished. */
export async function waitRun(t: Target, id: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await json(call(t, `${W}/runs/${id}`));
    if (!["queued", "running"].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} did not finish: ${JSON.stringify(run)}`);
    await Bun.sleep(10);
  }
}

export async function startRun(t: Target, body: unknown): Promise<{ status: number; body: any }> {
  const res = await post(t, `${W}/runs`, body);
  return { status: res.status, body: await res.json() };
}

export async function req(t: Target, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await send(t, method, `${W}${path}`, body);
  return { status: res.status, body: await res.json() };
}

export type { RunRecord };
