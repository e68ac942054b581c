// POST/DELETE /v1/mcp: MCP's Streamable HTTP transport, in this process, behind the same host gate
// and auth as every /v1 route (src/app.ts mounts it after them, so a request that reaches here
// holds the token and passed the allowlist).
//
// The SDK's WebStandardStreamableHTTPServerTransport (Request → Response) with a transport and a
// server per session: one shared transport refuses a second client ("Server already initialized",
// measured with @hono/mcp), and the SDK's Node transport through a fetch-to-node shim killed the Bun
// process now and then ("Controller is already closed"). Answers are JSON, not SSE: every request
// gets one answer and the server never speaks first, so GET (a server-to-client stream) is 405, as
// the specification allows, and no connection stays open between calls.
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Context } from "hono";
import { ForbiddenHost } from "../errors.ts";
import type { AppEnv } from "../http/env.ts";
import { errorResponse } from "../http/error-envelope.ts";
import { hostName, LOOPBACK_NAMES, normalizeAllowedHost, originHostName } from "../http/host.ts";
import type { Logger } from "../log.ts";
import type { Identity } from "../ops/operation.ts";
import type { OperationRegistry } from "../ops/registry.ts";
import { type Caller, createMcpServer, toolCatalog } from "./server.ts";
import { MAX_SESSIONS, SESSION_IDLE_MS, Sessions } from "./sessions.ts";

export const MCP_PATH = "/v1/mcp";

export interface McpEndpointOptions {
  ops: OperationRegistry;
  log: Logger;
  /** auth.token is set: callers that got here hold it. */
  tokenAuth: boolean;
  /** server.allowed_hosts. */
  allowedHosts: readonly string[];
  /** Cap on a request body (server.max_json_bytes). */
  maxBodyBytes: number;
  maxSessions?: number;
  idleMs?: number;
}

export interface McpEndpoint {
  handle(c: Context<AppEnv>): Promise<Response>;
  readonly sessions: Sessions;
  close(): Promise<void>;
}

const rpcError = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
  Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status, headers });

/**
 * The MCP specification asks every server to refuse a foreign Origin (DNS rebinding). The host
 * gate does that only without a token or with server.allowed_hosts set; here an Origin is always
 * checked: it must name a loopback host, a host in server.allowed_hosts, or the host the request
 * was sent to (a same-origin page). No Origin (not a browser) passes.
 */
function originCheck(allowedHosts: readonly string[]) {
  const allowed = new Set<string>(LOOPBACK_NAMES);
  for (const entry of allowedHosts) {
    const name = normalizeAllowedHost(entry);
    if (name) allowed.add(name);
  }
  return (req: Request): ForbiddenHost | null => {
    const origin = req.headers.get("origin");
    if (origin === null) return null;
    const from = originHostName(origin);
    const host = req.headers.get("host");
    if (from !== null && (allowed.has(from) || (host !== null && hostName(host) === from))) return null;
    const shown = origin.length > 100 ? `${origin.slice(0, 100)}…` : origin;
    return new ForbiddenHost(
      `Origin ${JSON.stringify(shown)} is not allowed to use MCP: only loopback origins, server.allowed_hosts and the server's own host are`,
    );
  };
}

/** The caller of one HTTP request; its address is looked up only if a handler reads it. */
function callerOf(c: Context<AppEnv>, tokenAuth: boolean): Caller {
  const identity: Identity = {
    kind: tokenAuth ? "token" : "anonymous",
    get address() {
      return c.env?.ip;
    },
  };
  return { identity, requestId: c.get("requestId") };
}

export function mcpEndpoint(opts: McpEndpointOptions): McpEndpoint {
  const catalog = toolCatalog(opts.ops);
  const sessions = new Sessions({ max: opts.maxSessions ?? MAX_SESSIONS, idleMs: opts.idleMs ?? SESSION_IDLE_MS });
  const refuseOrigin = originCheck(opts.allowedHosts);

  const open = async () => {
    const server = createMcpServer(opts.ops, catalog, opts.log);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      enableJsonResponse: true,
      maxRequestBodySize: opts.maxBodyBytes,
      onsessioninitialized: (id) => sessions.add(id, { transport, server, lastSeen: Date.now() }),
      onsessionclosed: (id) => sessions.drop(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.drop(transport.sessionId);
    };
    await server.connect(transport);
    return { server, transport };
  };

  return {
    sessions,
    close: () => sessions.close(),
    async handle(c) {
      const req = c.req.raw;
      const refused = refuseOrigin(req);
      if (refused) return errorResponse(c, refused);
      if (req.method === "GET")
        return rpcError(405, -32000, "this server sends no messages of its own: there is no stream to listen to", { Allow: "POST, DELETE" });
      const authInfo = { token: "", clientId: "lakehouse", scopes: [], extra: { caller: callerOf(c, opts.tokenAuth) } };
      const id = req.headers.get("mcp-session-id");
      if (id !== null) {
        const session = sessions.get(id);
        // 404 tells a client its session is gone (closed, expired or evicted): it initializes again.
        if (!session) return rpcError(404, -32001, "session not found (closed or expired): initialize a new one");
        return session.transport.handleRequest(req, { authInfo });
      }
      if (req.method !== "POST") return rpcError(400, -32000, "Mcp-Session-Id header is required");
      // A request without a session may only initialize one; the transport refuses anything else,
      // and a transport that did not initialize is closed at once.
      const { server, transport } = await open();
      const res = await transport.handleRequest(req, { authInfo });
      if (!transport.sessionId || !sessions.get(transport.sessionId)) await server.close().catch(() => {});
      return res;
    },
  };
}
