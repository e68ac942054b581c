// One MCP server (a session's): the curated tools and the resources, each call an in-process
// ops.call with the identity of the HTTP request that carried it (the endpoint passes it in
// authInfo.extra, src/mcp/endpoint.ts), so a tool does exactly what its route does for that caller.
//
// The SDK's low-level Server, not McpServer: McpServer wants zod schemas, and our inputs are
// valibot schemas turned into JSON Schema (src/mcp/schema.ts) and validated by ops.call itself.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  type CallToolResult,
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { LakehouseError } from "../errors.ts";
import { validate } from "../lib/validate.ts";
import type { Logger } from "../log.ts";
import type { Identity } from "../ops/operation.ts";
import type { CallContext, OperationRegistry } from "../ops/registry.ts";
import { VERSION } from "../version.ts";
import { internalError, toolError, toolResult } from "./render.ts";
import { listResources, RESOURCE_TEMPLATES, readResource } from "./resources.ts";
import { toolInputSchema } from "./schema.ts";
import { TOOLS, type ToolSpec } from "./tools.ts";

const INSTRUCTIONS =
  "A lakehouse with an agent memory. Datasets are SQL views: list_datasets, then sql_query (DuckDB, read-only). " +
  "matrix_search finds workers or candidates across corpora; record_outcome teaches it what worked. " +
  "memory_* keep what you learn across sessions; observer_review checks a claim before you act on it. " +
  "Large answers are cut, and say how to get the rest.";

/** What the endpoint tells the server about the HTTP request that carried a message. */
export interface Caller {
  identity: Identity;
  requestId: string;
}

export interface Catalog {
  tools: Tool[];
  specs: Map<string, ToolSpec>;
}

/** The tools the registry can serve: built once per process (the registry does not change after start-up). */
export function toolCatalog(ops: OperationRegistry): Catalog {
  const tools: Tool[] = [];
  const specs = new Map<string, ToolSpec>();
  const names = new Set(ops.list().map((o) => o.name));
  for (const spec of TOOLS) {
    if (!names.has(spec.op)) continue;
    const op = ops.get(spec.op);
    const description = [spec.lead, op.summary, op.description, spec.note].filter(Boolean).join(" ");
    tools.push({
      name: spec.name,
      description,
      inputSchema: toolInputSchema(op, spec.input, spec.omit),
      annotations: { readOnlyHint: spec.readOnly, destructiveHint: false, openWorldHint: false },
      _meta: { "lakehouse/operation": spec.op },
    });
    specs.set(spec.name, spec);
  }
  return { tools, specs };
}

/** The caller as the endpoint recorded it; a message that came another way is internal. */
function callerOf(extra: { authInfo?: { extra?: Record<string, unknown> }; signal: AbortSignal; requestId: string | number }): CallContext {
  const caller = extra.authInfo?.extra?.caller as Caller | undefined;
  return { identity: caller?.identity, requestId: caller?.requestId ?? `mcp-${String(extra.requestId)}`, signal: extra.signal };
}

export function createMcpServer(ops: OperationRegistry, catalog: Catalog, log: Logger): Server {
  const server = new Server({ name: "lakehouse", version: VERSION }, { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS });

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: catalog.tools }));

  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const spec = catalog.specs.get(req.params.name);
    if (!spec) throw new McpError(ErrorCode.InvalidParams, `unknown tool "${req.params.name}"; tools/list names them`);
    const ctx = callerOf(extra);
    try {
      const args: Record<string, unknown> = { ...(req.params.arguments ?? {}) };
      for (const field of spec.omit ?? []) delete args[field];
      // A tool with its own input (one item where the route takes a batch too) is held to it.
      if (spec.input) validate(spec.input, args, "arguments");
      const result = await ops.call(spec.op, spec.map ? spec.map(args) : args, ctx);
      return toolResult(spec.op, result, spec.rest);
    } catch (err) {
      if (err instanceof LakehouseError && err.code !== "internal") return toolError(err);
      log.error("mcp tool failed", { tool: spec.name, op: spec.op, request_id: ctx.requestId, error: String(err), stack: (err as Error)?.stack });
      return internalError(ctx.requestId!);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async (_req, extra) => ({ resources: await listResources(ops, callerOf(extra)) }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: RESOURCE_TEMPLATES }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => {
    const ctx = callerOf(extra);
    try {
      return await readResource(ops, req.params.uri, ctx);
    } catch (err) {
      if (err instanceof McpError) throw err;
      if (err instanceof LakehouseError && err.code !== "internal")
        throw new McpError(ErrorCode.InvalidRequest, `${err.code}: ${err.message}`, { code: err.code });
      log.error("mcp resource read failed", { uri: req.params.uri, request_id: ctx.requestId, error: String(err), stack: (err as Error)?.stack });
      throw new McpError(ErrorCode.InternalError, `unexpected failure; the server log has it under request id ${ctx.requestId}`);
    }
  });
  return server;
}
