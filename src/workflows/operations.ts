// The workflow operations, under /v1/workflows: saved definitions (put, list, get, delete), runs
// (start, list, get, cancel, resume) and the modes a step can use. The run routes are registered
// before /v1/workflows/{name}, and "runs" and "modes" are not workflow names, so the two never meet.
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { actorOf } from "../ops/identity.ts";
import { type AnyOperation, op } from "../ops/operation.ts";
import type { Mode, ModeEnv } from "./modes/index.ts";
import { ModeListSchema, NameParam, PutBody, RunBody, RunIdParam, RunSchema, RunSummarySchema, RunsQuery, SavedSchema } from "./schemas.ts";
import { runSummary, runView, type WorkflowService } from "./service.ts";

const TAG = "workflows";
const invalid = {
  validation_failed:
    "The definition is invalid (duplicate step id, unknown dependency, a cycle, an unknown or unconfigured mode, a reference to a step that is not an ancestor, an input its mode rejects) or the inputs do not match; details name each step and path",
};
const runNotFound = { not_found: "No such run (or it left the kept history: workflows.keep_runs)" };
const unavailable = { unavailable: "The run log could not be written (disk full or failing); nothing was started" };

const RunResult = v.object({ ...RunSchema.entries, input_hash: v.string(), output_hash: v.optional(v.string()) });

function modeList(modes: readonly Mode[], env: ModeEnv) {
  return modes.map((m) => {
    const why = m.unavailable(env);
    const schema = m.inputSchema(env);
    const input = schema ? toJsonSchema(schema, { errorMode: "ignore" }) : {};
    const out: { name: string; summary: string; operation?: string; available: boolean; reason?: string; input: unknown } = {
      name: m.name,
      summary: m.summary,
      available: why === null,
      input,
    };
    if (m.operation) out.operation = m.operation;
    if (why) out.reason = why;
    return out;
  });
}

export function workflowOperations(svc: WorkflowService, modes: () => { list: readonly Mode[]; env: ModeEnv }): AnyOperation[] {
  return [
    op({
      name: "workflows.start_run",
      method: "post",
      path: "/v1/workflows/runs",
      tag: TAG,
      summary: "Start a run of a saved workflow (by name) or of a definition given here; answers at once with its id",
      description:
        "The definition is checked whole before anything runs (400 naming each step and path). The run is durable when answered: " +
        "it is queued (at most workflows.max_running run at once) and its state can be followed with GET /v1/workflows/runs/{id}.",
      body: RunBody,
      result: v.object({ id: v.string(), status: v.string() }),
      errors: { ...invalid, not_found: "No saved workflow of that name", ...unavailable },
      http: { status: 202, statuses: { 202: "Accepted: queued or already running" } },
      handler: async ({ workflow, inputs }, ctx) => {
        const run = await svc.start(workflow, inputs ?? {}, ctx.identity);
        return { id: run.id, status: run.status };
      },
    }),
    op({
      name: "workflows.list_runs",
      method: "get",
      path: "/v1/workflows/runs",
      tag: TAG,
      summary: "Runs, newest first, by status and workflow",
      query: RunsQuery,
      result: v.object({ runs: v.array(RunSummarySchema) }),
      handler: (q) => ({ runs: svc.list(q).map(runSummary) }),
    }),
    op({
      name: "workflows.get_run",
      method: "get",
      path: "/v1/workflows/runs/{id}",
      tag: TAG,
      summary: "A run: status, every step's state, attempts, timings, outputs (over workflows.max_output_bytes: a truncation marker) and errors",
      params: RunIdParam,
      result: RunResult,
      errors: runNotFound,
      handler: ({ id }) => runView(svc.get(id)),
    }),
    op({
      name: "workflows.cancel_run",
      method: "post",
      path: "/v1/workflows/runs/{id}/cancel",
      tag: TAG,
      summary: "Cancel a run: queued steps are skipped; running SQL is interrupted, other running steps finish and are discarded",
      params: RunIdParam,
      result: RunResult,
      errors: { ...runNotFound, conflict: "The run has finished" },
      handler: async ({ id }) => runView(await svc.cancel(id)),
    }),
    op({
      name: "workflows.resume_run",
      method: "post",
      path: "/v1/workflows/runs/{id}/resume",
      tag: TAG,
      summary: "Resume an interrupted, failed or cancelled run: only its unfinished steps run again; succeeded steps keep their outputs",
      params: RunIdParam,
      result: RunResult,
      errors: { ...runNotFound, conflict: "The run is queued, running or succeeded", ...unavailable },
      http: { status: 202, statuses: { 202: "Accepted: queued again" } },
      handler: async ({ id }) => runView(await svc.resume(id)),
    }),
    op({
      name: "workflows.list_modes",
      method: "get",
      path: "/v1/workflows/modes",
      tag: TAG,
      summary: "The modes a step can use, whether each is usable here, and the JSON Schema of its input",
      result: ModeListSchema,
      handler: () => {
        const { list, env } = modes();
        return { modes: modeList(list, env) };
      },
    }),
    op({
      name: "workflows.list",
      method: "get",
      path: "/v1/workflows",
      tag: TAG,
      summary: "Saved workflows (the newest version of each)",
      result: v.object({ workflows: v.array(SavedSchema) }),
      handler: () => ({ workflows: svc.definitions.list() }),
    }),
    op({
      name: "workflows.put",
      method: "put",
      path: "/v1/workflows/{name}",
      tag: TAG,
      summary: "Save a workflow definition (a new version); expected_version guards against overwriting another writer's change",
      params: NameParam,
      body: PutBody,
      result: SavedSchema,
      errors: { ...invalid, conflict: "expected_version is not the current version (details.current_version)", ...unavailable },
      http: {
        status: (saved: { version: number }) => (saved.version === 1 ? 201 : 200),
        statuses: { 201: "Created (version 1)", 200: "A new version" },
      },
      handler: ({ name, expected_version, ...def }, ctx) => svc.save(name, def, expected_version, ctx.identity),
    }),
    op({
      name: "workflows.get",
      method: "get",
      path: "/v1/workflows/{name}",
      tag: TAG,
      summary: "A saved workflow",
      params: NameParam,
      result: SavedSchema,
      errors: { not_found: "No such workflow" },
      handler: ({ name }) => svc.definitions.get(name),
    }),
    op({
      name: "workflows.delete",
      method: "delete",
      path: "/v1/workflows/{name}",
      tag: TAG,
      summary: "Delete a saved workflow (a tombstone version: its runs keep their copy of the definition)",
      params: NameParam,
      result: SavedSchema,
      errors: { not_found: "No such workflow" },
      handler: ({ name }, ctx) => svc.definitions.delete(name, actorOf(ctx.identity)),
    }),
  ];
}
