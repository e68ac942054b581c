// The OpenAPI 3.1 document is built from the same valibot schemas that validate requests: every
// route is declared once (src/http/router.ts) and lands here and in Hono together.
import { toJsonSchema } from "@valibot/to-json-schema";
import type { GenericSchema } from "valibot";

export type Method = "get" | "put" | "post" | "delete" | "head" | "patch";

export interface ResponseSpec {
  description: string;
  schema?: GenericSchema;
  contentType?: string;
}

export interface OperationSpec {
  method: Method;
  /** Full path in OpenAPI form, e.g. /v1/storage/objects/{key}. */
  path: string;
  summary: string;
  tag: string;
  description?: string;
  pathParams?: Record<string, string>;
  query?: GenericSchema;
  body?: GenericSchema;
  /** Non-JSON request bodies (uploads): content types accepted. */
  rawBody?: { contentTypes: string[]; description: string };
  responses: Record<number, ResponseSpec>;
  public?: boolean;
}

const jsonSchema = (schema: GenericSchema) =>
  toJsonSchema(schema, { errorMode: "ignore", target: "draft-2020-12", typeMode: "input" }) as Record<string, unknown>;

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
    },
  },
};

export class ApiSpec {
  private readonly ops: OperationSpec[] = [];
  private readonly matchers: { regex: RegExp; method: Method }[] = [];

  constructor(private readonly info: { title: string; version: string }) {}

  add(op: OperationSpec): void {
    this.ops.push(op);
    const pattern = op.path
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith("{") ? (part.endsWith("...}") ? ".+" : "[^/]+") : part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")))
      .join("");
    this.matchers.push({ regex: new RegExp(`^${pattern}/?$`), method: op.method });
  }

  /** Methods declared for a concrete path: a non-empty answer for an unmatched request means 405. */
  allowedMethods(path: string): string[] {
    const methods = new Set(this.matchers.filter((m) => m.regex.test(path)).map((m) => m.method.toUpperCase()));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  }

  document(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of this.ops) {
      const parameters: unknown[] = [];
      for (const name of [...op.path.matchAll(/\{([^}.]+)(\.\.\.)?\}/g)].map((m) => m[1]!)) {
        parameters.push({ name, in: "path", required: true, schema: { type: "string" }, description: op.pathParams?.[name] });
      }
      if (op.query) {
        const q = jsonSchema(op.query) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, schema] of Object.entries(q.properties ?? {})) {
          parameters.push({ name, in: "query", required: q.required?.includes(name) ?? false, schema });
        }
      }
      const responses: Record<string, unknown> = {};
      for (const [status, r] of Object.entries(op.responses)) {
        const content = r.schema ? { [r.contentType ?? "application/json"]: { schema: jsonSchema(r.schema) } } : r.contentType ? { [r.contentType]: {} } : undefined;
        responses[status] = content ? { description: r.description, content } : { description: r.description };
      }
      responses.default = { description: "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
      const operation: Record<string, unknown> = {
        summary: op.summary,
        tags: [op.tag],
        operationId: `${op.method}${op.path.replace(/[{}.]/g, "").replace(/\/(\w)/g, (_, c: string) => c.toUpperCase()).replace(/\W/g, "")}`,
        parameters,
        responses,
      };
      if (op.description) operation.description = op.description;
      if (op.public) operation.security = [];
      if (op.body) operation.requestBody = { required: true, content: { "application/json": { schema: jsonSchema(op.body) } } };
      if (op.rawBody) {
        operation.requestBody = {
          required: true,
          description: op.rawBody.description,
          content: Object.fromEntries(op.rawBody.contentTypes.map((t) => [t, { schema: { type: "string", format: "binary" } }])),
        };
      }
      const openapiPath = op.path.replace(/\{([^}.]+)\.\.\.\}/g, "{$1}");
      (paths[openapiPath] ??= {})[op.method] = operation;
    }
    return {
      openapi: "3.1.0",
      info: this.info,
      paths,
      components: {
        schemas: { Error: errorSchema },
        securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      },
      security: [{ bearer: [] }],
    };
  }
}
