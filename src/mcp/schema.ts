// A tool's input JSON Schema, made from the same valibot schemas that validate the operation over
// HTTP (as src/ops/openapi.ts makes the OpenAPI document): the operation's path, query, header and
// body fields side by side in one object, which is the flat input ops.call takes.
import { toJsonSchema } from "@valibot/to-json-schema";
import type { AnyOperation, Schema } from "../ops/operation.ts";

export type JsonSchemaObject = {
  type: "object";
  properties: Record<string, object>;
  required?: string[];
  additionalProperties?: boolean;
  $defs?: Record<string, unknown>;
  [key: string]: unknown;
};

function convert(schema: Schema): Record<string, unknown> {
  // draft 2020-12 is what MCP assumes of a schema without $schema; "input" describes what a
  // caller sends (before transforms and defaults).
  const json = toJsonSchema(schema, { errorMode: "ignore", target: "draft-2020-12", typeMode: "input" }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** The JSON Schema of a tool's arguments: `input` if given, else every input part of the operation. */
export function toolInputSchema(op: AnyOperation, input?: Schema, omit: readonly string[] = []): JsonSchemaObject {
  const parts = input ? [input] : ([op.params, op.query, op.headers, op.body].filter(Boolean) as Schema[]);
  const out: JsonSchemaObject = { type: "object", properties: {} };
  const required: string[] = [];
  let closed = parts.length > 0;
  for (const part of parts) {
    const json = convert(part);
    if (json.type !== "object") throw new Error(`${op.name}: a tool input must be an object schema, got ${JSON.stringify(json).slice(0, 80)}`);
    Object.assign(out.properties, (json.properties as Record<string, object> | undefined) ?? {});
    required.push(...((json.required as string[] | undefined) ?? []));
    // Closed when every part is: the operation refuses unknown fields, so the schema says so.
    if (json.additionalProperties !== false) closed = false;
    if (json.$defs) out.$defs = { ...out.$defs, ...(json.$defs as Record<string, unknown>) };
    if (typeof json.description === "string") out.description = json.description;
  }
  for (const name of omit) delete out.properties[name];
  const kept = required.filter((name) => !omit.includes(name));
  if (kept.length > 0) out.required = [...new Set(kept)];
  if (closed) out.additionalProperties = false;
  return out;
}
