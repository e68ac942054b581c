// The OpenAPI 3.1 document, generated from the operation registry: the same valibot schemas that
// validate requests describe them here. Request and result schemas are named components (shared
// ones by `named`, the rest after their operation), every declared error status carries the
// error envelope, and every media type an operation can answer with is listed.
import { toJsonSchema, toJsonSchemaDefs } from "@valibot/to-json-schema";
import type { ErrorCode } from "../errors.ts";
import { statusFor } from "../http/error-envelope.ts";
import type { AnyOperation, Schema } from "./operation.ts";
import { fieldsOf } from "./registry.ts";

const names = new WeakMap<object, string>();

/** Names a schema: it becomes #/components/schemas/<name> wherever an operation uses it. */
export function named<S extends Schema>(name: string, schema: S): S {
  names.set(schema, name);
  return schema;
}

const ERROR_SCHEMA = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string", description: "Stable machine-readable code, e.g. validation_failed, not_found, conflict" },
        message: { type: "string", description: "For people; never holds a path of the server or a secret" },
        details: { description: "Structured detail: field issues, a schema diff, a limit" },
      },
    },
  },
};

// What the edge can answer on any route (src/http/host.ts, src/http/error-envelope.ts).
const DEFAULT_ERRORS: Partial<Record<ErrorCode, string>> = {
  bad_request: "The request has no usable Host header",
  forbidden_host:
    "The request is addressed (Host or Origin) to a name the server does not answer to: without auth.token only localhost, 127.0.0.1, [::1] and server.allowed_hosts are",
  internal: "Unexpected failure; the server log has it under the request id",
};

export interface DocumentInfo {
  title: string;
  version: string;
  description?: string;
  servers: { url: string; description?: string }[];
}

const pascal = (name: string) => name.replace(/(^|[._-])(\w)/g, (_, __, ch: string) => ch.toUpperCase());
export const operationId = (op: AnyOperation) => pascal(op.name).replace(/^\w/, (ch) => ch.toLowerCase());

export function openApiDocument(ops: readonly AnyOperation[], info: DocumentInfo): Record<string, unknown> {
  // Every schema an operation uses becomes a named definition, so generated clients get types
  // with readable names instead of inline shapes.
  const definitions: Record<string, Schema> = {};
  const refName = (schema: Schema, fallback: string): string => {
    const name = names.get(schema) ?? fallback;
    const existing = definitions[name];
    if (existing && existing !== schema) throw new Error(`two schemas are named ${name}`);
    definitions[name] = schema;
    return name;
  };
  const plan = ops.map((op) => ({
    op,
    body: op.body ? refName(op.body as Schema, `${pascal(op.name)}Request`) : undefined,
    result: op.result && op.result !== "stream" ? refName(op.result, `${pascal(op.name)}Result`) : undefined,
  }));
  const toComponents = <T>(json: T): T => JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/'));
  const convert = (schema: Schema): Record<string, unknown> => {
    const json = toJsonSchema(schema, { definitions, errorMode: "ignore", target: "draft-2020-12", typeMode: "input" }) as Record<string, unknown>;
    delete json.$schema;
    delete json.$defs;
    return toComponents(json);
  };
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

  const paths: Record<string, Record<string, unknown>> = {};
  for (const { op, body, result } of plan) {
    const operation: Record<string, unknown> = { operationId: operationId(op), summary: op.summary, tags: [op.tag] };
    if (op.description) operation.description = op.description;
    const parameters = [...parameterList(op, "params", "path", convert), ...parameterList(op, "query", "query", convert), ...headerParameters(op, convert)];
    if (parameters.length) operation.parameters = parameters;
    if (body) operation.requestBody = { required: true, content: { "application/json": { schema: ref(body) } } };
    if (op.stream) {
      operation.requestBody = {
        required: true,
        description: op.stream.description,
        content: Object.fromEntries(
          op.stream.contentTypes.map((t) => [t, { schema: { type: "string", contentMediaType: t === "*/*" ? "application/octet-stream" : t } }]),
        ),
      };
    }
    operation.responses = { ...successResponses(op, result ? ref(result) : undefined), ...errorResponses(op) };
    if (op.public) operation.security = [];
    const openapiPath = op.path.replace(/\{([^}.]+)\.\.\.\}/g, "{$1}");
    paths[openapiPath] ??= {};
    paths[openapiPath][op.method] = operation;
  }

  const schemas: Record<string, unknown> = { Error: ERROR_SCHEMA };
  // Converted together, so a definition is its own shape (not a $ref to itself) and refers to the others.
  Object.assign(schemas, toComponents(toJsonSchemaDefs(definitions, { errorMode: "ignore", target: "draft-2020-12", typeMode: "input" })));
  const tags = [...new Set(ops.map((op) => op.tag))].sort().map((name) => ({ name, description: `The ${name} module` }));
  return {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      description: info.description ?? "A lakehouse with an agent memory, in one process.",
      license: { name: "UNLICENSED", identifier: "LicenseRef-Proprietary" },
    },
    servers: info.servers,
    tags,
    paths,
    components: {
      schemas,
      responses: {},
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "auth.token from the server's config" } },
    },
    security: [{ bearer: [] }],
  };
}

function parameterList(op: AnyOperation, part: "params" | "query", where: "path" | "query", convert: (s: Schema) => Record<string, unknown>): unknown[] {
  const schema = op[part] as Schema | undefined;
  if (!schema) return [];
  const json = convert(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return fieldsOf(schema).map((name) => {
    const { description, ...rest } = json.properties?.[name] ?? {};
    const p: Record<string, unknown> = { name, in: where, required: where === "path" || (json.required?.includes(name) ?? false), schema: rest };
    if (description) p.description = description;
    return p;
  });
}

function headerParameters(op: AnyOperation, convert: (s: Schema) => Record<string, unknown>): unknown[] {
  const schema = op.headers as Schema | undefined;
  if (!schema) return [];
  const json = convert(schema) as { properties?: Record<string, Record<string, unknown>> };
  return Object.entries(op.http?.headers ?? {}).map(([field, header]) => {
    const { description, ...rest } = json.properties?.[field] ?? {};
    const p: Record<string, unknown> = {
      name: header.replace(/(^|-)(\w)/g, (_, dash: string, ch: string) => dash + ch.toUpperCase()),
      in: "header",
      required: false,
      schema: rest,
    };
    if (description) p.description = description;
    return p;
  });
}

function successResponses(op: AnyOperation, result: Record<string, unknown> | undefined): Record<string, unknown> {
  const declared = op.http?.statuses ?? { [typeof op.http?.status === "number" ? op.http.status : 200]: "" };
  const out: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(declared)) {
    const status = Number(key);
    const description = text || (status === 201 ? "Created" : status === 204 ? "Done; no content" : "Success");
    if (status === 204 || op.method === "head") {
      out[status] = { description };
      continue;
    }
    const content: Record<string, unknown> = {};
    if (op.result === "stream") for (const t of op.produces ?? ["application/octet-stream"]) content[t] = { schema: { type: "string", contentMediaType: t } };
    else content["application/json"] = { schema: result ?? {} };
    for (const t of Object.keys(op.http?.representations ?? {})) content[t] = { schema: { type: "string", contentMediaType: t } };
    out[status] = { description, content };
  }
  return out;
}

function errorResponses(op: AnyOperation): Record<string, unknown> {
  const codes: Partial<Record<ErrorCode, string>> = { ...DEFAULT_ERRORS };
  const hasInput = op.params || op.query || op.headers || op.body;
  if (hasInput) codes.validation_failed = "An input failed validation; details lists each field with its problem";
  if (op.body) {
    codes.malformed_json = "The body is not JSON, or not valid UTF-8";
    codes.unsupported_media_type = "The body is not application/json, or declares a charset other than UTF-8";
    codes.too_large = "The body is over the server's JSON cap";
  }
  if (!op.public) {
    codes.unauthorized = "Missing or wrong bearer token";
    codes.forbidden = "The client's address is not in the allowlist";
  }
  // An operation's own reason for a code the edge also answers is listed beside the edge's.
  for (const [code, when] of Object.entries(op.errors ?? {}) as [ErrorCode, string][])
    codes[code] = code in DEFAULT_ERRORS && code !== "internal" ? `${when}, or ${codes[code]!.replace(/^The/, "the")}` : when;
  const byStatus = new Map<number, string[]>();
  for (const [code, when] of Object.entries(codes) as [ErrorCode, string][]) {
    const status = statusFor(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), `${code}: ${when}`]);
  }
  const out: Record<string, unknown> = {};
  for (const [status, lines] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[status] =
      op.method === "head"
        ? { description: lines.join("; ") }
        : { description: lines.join("; "), content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  }
  return out;
}
