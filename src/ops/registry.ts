// The one list of operations. Modules register theirs when they open; the HTTP edge, the OpenAPI
// document and in-process callers (the MCP tools, the workflow steps) all read it.
import * as v from "valibot";
import { LakehouseError, NotFound, ValidationFailed } from "../errors.ts";
import { issuesToDetails, validate } from "../lib/validate.ts";
import type { AnyOperation, Identity, OpContext, Schema } from "./operation.ts";

export interface CallContext {
  requestId?: string;
  identity?: Identity;
  signal?: AbortSignal;
}

const INTERNAL: Identity = { kind: "internal" };
let internalCalls = 0;

/** The field names an object schema (possibly inside a pipe) declares. */
export function fieldsOf(schema: Schema | undefined): string[] {
  if (!schema) return [];
  const s = schema as unknown as { entries?: Record<string, unknown>; pipe?: unknown[] };
  if (s.entries) return Object.keys(s.entries);
  const first = s.pipe?.[0] as { entries?: Record<string, unknown> } | undefined;
  return first?.entries ? Object.keys(first.entries) : [];
}

/** The input parts of an operation, in the order a flat input is split into them. */
const PARTS = ["params", "query", "headers"] as const;

export class OperationRegistry {
  private readonly byName = new Map<string, AnyOperation>();
  private readonly order: AnyOperation[] = [];
  private readonly splitters = new Map<string, { part: (typeof PARTS)[number]; keys: Set<string> }[]>();

  /** With checkResults every result is validated against its schema (tests and development). */
  constructor(readonly opts: { checkResults?: boolean } = {}) {}

  register(...ops: AnyOperation[]): void {
    for (const op of ops) {
      if (this.byName.has(op.name)) throw new Error(`operation ${op.name} is declared twice`);
      const seen = new Map<string, string>();
      const parts = [...PARTS.map((p) => [p, fieldsOf(op[p])] as const), ["body", fieldsOf(op.body)] as const];
      for (const [part, keys] of parts) {
        for (const key of keys) {
          const other = seen.get(key);
          if (other) throw new Error(`operation ${op.name}: input field "${key}" is in both ${other} and ${part}`);
          seen.set(key, part);
        }
      }
      this.byName.set(op.name, op);
      this.order.push(op);
      this.splitters.set(
        op.name,
        PARTS.filter((p) => op[p]).map((p) => ({ part: p, keys: new Set(fieldsOf(op[p])) })),
      );
    }
  }

  list(): readonly AnyOperation[] {
    return this.order;
  }

  get(name: string): AnyOperation {
    const op = this.byName.get(name);
    if (!op) throw new NotFound(`no operation named "${name}"`);
    return op;
  }

  /**
   * Calls an operation in-process with a flat input (path, query, header and body fields side by
   * side, plus `stream` for raw bodies), validated by the same schemas as over HTTP.
   */
  async call<R = unknown>(name: string, input: Record<string, unknown> = {}, ctx: CallContext = {}): Promise<R> {
    const op = this.get(name);
    const parts: Record<string, Record<string, unknown>> = { body: {} };
    for (const { part } of this.splitters.get(name)!) parts[part] = {};
    let stream: unknown;
    for (const [key, value] of Object.entries(input)) {
      if (key === "stream" && op.stream) {
        stream = value;
        continue;
      }
      const target = this.splitters.get(name)!.find((s) => s.keys.has(key));
      parts[target ? target.part : "body"]![key] = value;
    }
    let merged: Record<string, unknown> = {};
    for (const part of [...PARTS, "body"] as const) {
      const schema = op[part] as Schema | undefined;
      if (schema) merged = { ...merged, ...(validate(schema, parts[part], part === "body" ? "input" : `input (${part})`) as Record<string, unknown>) };
      else if (part === "body" && Object.keys(parts.body!).length > 0) {
        const unknown = Object.keys(parts.body!);
        throw new ValidationFailed(
          "input failed validation",
          unknown.map((path) => ({ path, message: `${op.name} takes no field "${path}"` })),
        );
      }
    }
    if (op.stream) {
      // A raw-body operation without its body is a caller's mistake, not an empty upload.
      if (!stream || typeof stream !== "object" || !("body" in stream)) {
        throw new ValidationFailed("input failed validation", [{ path: "stream", message: `${op.name} needs stream: {body, contentType?, length?}` }]);
      }
      merged.stream = stream;
    }
    const context: OpContext = {
      requestId: ctx.requestId ?? `internal-${(++internalCalls).toString(36)}`,
      identity: ctx.identity ?? INTERNAL,
      signal: ctx.signal ?? new AbortController().signal,
    };
    return (await this.run(op, merged, context)) as R;
  }

  /**
   * Runs a handler on validated input; the HTTP edge and `call` both come through here. A handler
   * that answers at once is answered at once (no promise), which the edge's fast path relies on.
   */
  run(op: AnyOperation, input: Record<string, unknown>, ctx: OpContext): unknown {
    const result = op.handler(input, ctx);
    if (!this.opts.checkResults || !op.result || op.result === "stream") return result;
    return result instanceof Promise ? result.then((r) => checkResult(op, r)) : checkResult(op, result);
  }
}

function checkResult(op: AnyOperation, result: unknown): unknown {
  const checked = v.safeParse(op.result as Schema, result);
  if (!checked.success) {
    throw new LakehouseError("internal", `${op.name} returned a result that does not match its declared schema`, issuesToDetails(checked.issues));
  }
  return result;
}
