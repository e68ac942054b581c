// The workflow module's request and result schemas: definitions, runs and their steps. They
// validate every route (and ops.call) and feed the OpenAPI document. A step's `input` is checked
// here only as a JSON object; its own mode's schema checks it in definition.ts, where the step's
// id and the field can be named.
import * as v from "valibot";
import { queryInt } from "../http/body.ts";
import { named } from "../ops/openapi.ts";

export const MAX_LIST = 1000;
const Id = v.pipe(v.string(), v.regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "1-64 of [A-Za-z0-9_-], starting with a letter"));
/** Names a saved workflow. "runs" and "modes" are paths of their own under /v1/workflows. */
export const WorkflowName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "1-64 of [A-Za-z0-9_-], starting with a letter"),
  v.check((s) => s !== "runs" && s !== "modes", '"runs" and "modes" are reserved'),
);
const InputType = v.picklist(["string", "number", "integer", "boolean", "object", "array", "any"]);

const Json = v.pipe(v.unknown(), v.metadata({ type: "object" }));

export const StepSchema = named(
  "WorkflowStep",
  v.strictObject({
    id: v.pipe(Id, v.description("unique in the workflow; other steps name it in needs and references")),
    mode: v.pipe(v.string(), v.minLength(1), v.description("what the step does: GET /v1/workflows/modes lists them with their input schemas")),
    input: v.optional(
      v.pipe(
        v.record(v.string(), v.unknown()),
        v.description("the mode's input; strings may hold references: {{inputs.x}}, {{steps.<id>.output.path[0].field}}"),
      ),
      {},
    ),
    needs: v.optional(v.pipe(v.array(Id), v.maxLength(1000), v.description("steps that must finish first"))),
    when: v.optional(
      v.pipe(
        v.union([v.string(), v.record(v.string(), v.unknown())]),
        v.description(
          'filter-language condition over {inputs, steps: {<id>: {output, status}}}, e.g. "steps.review.output.verdict = accept"; false skips the step',
        ),
      ),
    ),
    timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3_600_000))),
    retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
    retry_backoff_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(600_000))),
  }),
);
export type StepDef = v.InferOutput<typeof StepSchema>;

const definitionEntries = {
  inputs: v.optional(v.pipe(v.record(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an input name")), InputType), v.description("input name → type"))),
  steps: v.pipe(v.array(StepSchema), v.minLength(1, "a workflow has at least one step")),
};

export const DefinitionSchema = named("WorkflowDefinition", v.strictObject({ name: v.optional(WorkflowName), ...definitionEntries }));
export type Definition = v.InferOutput<typeof DefinitionSchema>;

export const PutBody = v.strictObject({
  ...definitionEntries,
  expected_version: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.description("the version this replaces; 0: the name must be new. 409 when it is not current")),
  ),
});

export const NameParam = v.object({ name: WorkflowName });

export const SavedSchema = named(
  "Workflow",
  v.object({
    name: v.string(),
    version: v.number(),
    updated_at: v.string(),
    actor: v.string(),
    deleted: v.optional(v.pipe(v.boolean(), v.description("true on the tombstone a delete answers"))),
    inputs: v.optional(v.record(v.string(), v.string())),
    steps: v.array(v.record(v.string(), v.unknown())),
  }),
);

export const RunBody = v.strictObject({
  workflow: v.union([WorkflowName, DefinitionSchema]),
  inputs: v.optional(v.pipe(v.record(v.string(), v.unknown()), v.description("values for the definition's inputs"))),
});

const RunStatus = v.picklist(["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]);
const StepStatus = v.picklist(["pending", "running", "succeeded", "failed", "skipped"]);
const ErrorSchema = v.object({ code: v.string(), message: v.string(), details: v.optional(v.unknown()) });

export const StepStateSchema = v.object({
  id: v.string(),
  mode: v.string(),
  status: StepStatus,
  attempts: v.number(),
  started_at: v.optional(v.string()),
  finished_at: v.optional(v.string()),
  ms: v.optional(v.number()),
  output: v.optional(Json),
  output_bytes: v.optional(v.number()),
  error: v.optional(ErrorSchema),
  skipped: v.optional(v.pipe(v.string(), v.description("why the step did not run"))),
});

export const RunSchema = named(
  "WorkflowRun",
  v.object({
    id: v.string(),
    workflow: v.nullable(v.pipe(v.string(), v.description("the saved workflow's name; null for an inline definition"))),
    workflow_version: v.nullable(v.number()),
    status: RunStatus,
    actor: v.string(),
    inputs: v.record(v.string(), v.unknown()),
    created_at: v.string(),
    started_at: v.optional(v.string()),
    finished_at: v.optional(v.string()),
    ms: v.optional(v.number()),
    resumes: v.number(),
    error: v.optional(ErrorSchema),
    steps: v.array(StepStateSchema),
  }),
);

export const RunSummarySchema = v.object({
  id: v.string(),
  workflow: v.nullable(v.string()),
  status: RunStatus,
  created_at: v.string(),
  finished_at: v.optional(v.string()),
  steps: v.object({ total: v.number(), succeeded: v.number(), failed: v.number(), skipped: v.number() }),
});

export const RunsQuery = v.object({
  status: v.optional(RunStatus),
  workflow: v.optional(WorkflowName),
  limit: v.optional(queryInt(1, MAX_LIST)),
});

export const RunIdParam = v.object({ id: v.pipe(v.string(), v.regex(/^r[0-9a-z]{8,40}$/, "a run id")) });

export const ModeListSchema = v.object({
  modes: v.array(
    v.object({
      name: v.string(),
      summary: v.string(),
      operation: v.optional(v.pipe(v.string(), v.description("the operation the mode calls (its schemas are the mode's)"))),
      available: v.boolean(),
      reason: v.optional(v.string()),
      input: v.pipe(v.unknown(), v.metadata({ type: "object" }), v.description("JSON Schema of the step input")),
    }),
  ),
});
