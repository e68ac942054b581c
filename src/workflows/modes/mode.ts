// What a mode is: a name, the schema of its input (and output), and how a step of it runs. Most
// modes adapt one existing operation (`adapter`): its own schemas are the mode's, so a definition
// is checked by exactly the validation the operation applies over HTTP, and the step runs through
// `ops.call` as the identity that started the run. `transform` and `llm.generate` are the runner's own.
import * as v from "valibot";
import type { AnyOperation, Schema } from "../../ops/operation.ts";
import type { CallContext, OperationRegistry } from "../../ops/registry.ts";
import { fieldsOf } from "../../ops/registry.ts";
import { type FieldIssue, issuesToDetails, validate } from "../../lib/validate.ts";
import type { LlmClient } from "../llm/client.ts";

/** What a step's run gets besides its resolved input. */
export interface StepContext {
  ops: OperationRegistry;
  /** The identity that started the run, a request id naming run/step/attempt, and the step's abort signal. */
  call: Required<Pick<CallContext, "identity" | "requestId" | "signal">>;
  llm: LlmClient | null;
}

/** What validation may ask about the server (which operations exist, whether a provider is configured). */
export interface ModeEnv {
  ops: OperationRegistry;
  llm: LlmClient | null;
}

export interface Mode {
  name: string;
  summary: string;
  /** The operation this mode calls, when it adapts one. */
  operation?: string;
  /** Null when usable; otherwise why not and how to make it usable (validation answers 400 with it). */
  unavailable(env: ModeEnv): string | null;
  /** The input's schema, for the modes list (JSON Schema is made from it). */
  inputSchema(env: ModeEnv): Schema | undefined;
  outputSchema(env: ModeEnv): Schema | undefined;
  /** Field problems of a step input; references have been left in place, so callers drop issues under them. */
  check(input: Record<string, unknown>, env: ModeEnv): FieldIssue[];
  run(input: Record<string, unknown>, ctx: StepContext): Promise<unknown>;
}

/** Validates a flat input the way OperationRegistry.call splits and validates it, collecting every issue. */
export function checkOperationInput(op: AnyOperation, input: Record<string, unknown>): FieldIssue[] {
  const parts = { params: {}, query: {}, headers: {}, body: {} } as Record<"params" | "query" | "headers" | "body", Record<string, unknown>>;
  const owner = new Map<string, "params" | "query" | "headers">();
  for (const part of ["params", "query", "headers"] as const) for (const key of fieldsOf(op[part])) owner.set(key, part);
  for (const [key, value] of Object.entries(input)) parts[owner.get(key) ?? "body"][key] = value;
  const issues: FieldIssue[] = [];
  for (const part of ["params", "query", "headers", "body"] as const) {
    const schema = op[part] as Schema | undefined;
    if (!schema) {
      for (const key of Object.keys(parts[part])) issues.push({ path: key, message: `${op.name} takes no field "${key}"` });
      continue;
    }
    const checked = v.safeParse(schema, parts[part]);
    if (!checked.success) issues.push(...issuesToDetails(checked.issues));
  }
  return issues;
}

/** The whole input schema of an operation (path, query and body fields side by side), for the modes list. */
export function operationInputSchema(op: AnyOperation): Schema | undefined {
  const schemas = (["params", "query", "body"] as const).map((p) => op[p] as Schema | undefined).filter((s): s is Schema => s !== undefined);
  if (schemas.length <= 1) return schemas[0];
  return v.intersect(schemas as [Schema, Schema, ...Schema[]]);
}

export interface AdapterSpec {
  name: string;
  operation: string;
  summary: string;
  /** Defaults added to the step input before validation and the call (e.g. sql's shape "objects"). */
  defaults?: Record<string, unknown>;
}

/** A mode that is one operation: its schemas, its validation, called in-process. */
export function adapter(spec: AdapterSpec): Mode {
  const withDefaults = (input: Record<string, unknown>) => (spec.defaults ? { ...spec.defaults, ...input } : input);
  const find = (env: ModeEnv): AnyOperation | null => env.ops.list().find((o) => o.name === spec.operation) ?? null;
  return {
    name: spec.name,
    summary: spec.summary,
    operation: spec.operation,
    unavailable: (env) => (find(env) ? null : `mode ${spec.name} calls the operation ${spec.operation}, which this server does not have`),
    inputSchema: (env) => {
      const op = find(env);
      return op ? operationInputSchema(op) : undefined;
    },
    outputSchema: (env) => {
      const result = find(env)?.result;
      return result && result !== "stream" ? result : undefined;
    },
    check: (input, env) => {
      const op = find(env);
      return op ? checkOperationInput(op, withDefaults(input)) : [];
    },
    run: (input, ctx) => ctx.ops.call(spec.operation, withDefaults(input), ctx.call),
  };
}

/** A mode of the runner's own, declared by its schemas and a function. */
export function ownMode(spec: {
  name: string;
  summary: string;
  input: Schema;
  output: Schema;
  unavailable?: (env: ModeEnv) => string | null;
  /** Checks past the schema (a filter that does not parse), on an input the schema accepted. */
  check?: (input: Record<string, unknown>) => FieldIssue[];
  run: (input: Record<string, unknown>, ctx: StepContext) => Promise<unknown>;
}): Mode {
  return {
    name: spec.name,
    summary: spec.summary,
    unavailable: spec.unavailable ?? (() => null),
    inputSchema: () => spec.input,
    outputSchema: () => spec.output,
    check: (input) => {
      const checked = v.safeParse(spec.input, input);
      if (!checked.success) return issuesToDetails(checked.issues);
      return spec.check ? spec.check(checked.output as Record<string, unknown>) : [];
    },
    run: (input, ctx) => spec.run(validate(spec.input, input, `${spec.name} input`) as Record<string, unknown>, ctx),
  };
}
