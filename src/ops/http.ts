// Turns the registry into Hono routes: the path, query, declared headers and body are read and
// validated, the handler runs with a context (request id, identity, abort signal), and the result
// leaves as JSON, another negotiated representation, or a stream. Errors go to the edge's one
// error mapping (src/http/error-envelope.ts).
import type { Context, Hono, Next } from "hono";
import { LakehouseError } from "../errors.ts";
import { readJson } from "../http/body.ts";
import { statusFor } from "../http/error-envelope.ts";
import type { AppEnv } from "../http/env.ts";
import { validate } from "../lib/validate.ts";
import type { AnyOperation, Identity, OpContext, Schema, StreamOut } from "./operation.ts";
import type { OperationRegistry } from "./registry.ts";

export function honoPath(path: string): string {
  return path.replace(/\{(\w+)\.\.\.\}/g, ":$1{.+}").replace(/\{(\w+)\}/g, ":$1");
}

/** The media type an Accept header picks among `offered` (JSON first), or null for JSON. */
export function pickRepresentation(accept: string | undefined, offered: readonly string[]): string | null {
  if (!accept) return null;
  for (const part of accept.split(",")) {
    const type = part.split(";")[0]!.trim().toLowerCase();
    if (type === "application/json") return null;
    if (offered.includes(type)) return type;
  }
  return null;
}

export interface MountOptions {
  jsonLimit: number;
  /** Whether a token is configured: callers that got past auth then hold it. */
  tokenAuth: boolean;
  /**
   * Whether a caller of a public route would be let into /v1 (holds the token, inside the
   * allowlist): its identity is then `token`. Asked only when the handler reads the identity.
   */
  admits?: (c: Context<AppEnv>) => boolean;
}

export function mountOperations(app: Hono<AppEnv>, registry: OperationRegistry, opts: MountOptions): void {
  // HEAD operations first. Hono dispatches a HEAD as a GET (and drops the body), so a HEAD
  // operation is mounted as a GET handler that takes the HEAD requests and passes the rest on.
  const ops = [...registry.list()].sort((a, b) => Number(b.method === "head") - Number(a.method === "head"));
  for (const op of ops) {
    const handler = routeHandler(op, registry, opts);
    if (op.method === "head") app.on("GET", honoPath(op.path), (c: Context<AppEnv>, next: Next) => (c.req.method === "HEAD" ? headOnly(handler, c) : next()));
    else app.on(op.method.toUpperCase(), honoPath(op.path), handler);
  }
}

/** A HEAD answer has no body, an error's neither: its status says it all (RFC 9110 §9.3.2). */
async function headOnly(handler: (c: Context<AppEnv>) => Response | Promise<Response>, c: Context<AppEnv>): Promise<Response> {
  try {
    return await handler(c);
  } catch (err) {
    if (err instanceof LakehouseError) return c.body(null, statusFor(err.code));
    throw err;
  }
}

function routeHandler(op: AnyOperation, registry: OperationRegistry, opts: MountOptions) {
  const headerMap = Object.entries(op.http?.headers ?? {}) as [string, string][];
  const offered = Object.keys(op.http?.representations ?? {});
  const limit = op.maxBodyBytes ?? opts.jsonLimit;
  const kind = identityKind(op, opts);
  const respond = (c: Context<AppEnv>, input: Record<string, unknown>, result: unknown, chosen: string | null): Response => {
    const binding = op.http;
    const status = typeof binding?.status === "function" ? binding.status(result, input) : (binding?.status ?? 200);
    const headers = binding?.responseHeaders?.(result, input);
    if (op.method === "head") return c.body(null, status as 200, headers);
    if (op.result === "stream") return sendStream(c, result as StreamOut, status, headers);
    if (chosen) return sendStream(c, binding!.representations![chosen]!(result), status, headers);
    if (status === 204 || result === undefined) return c.body(null, status === 200 ? 204 : (status as 204), headers);
    return c.json(result, status as 200, headers);
  };
  const execute = (c: Context<AppEnv>, input: Record<string, unknown>): Response | Promise<Response> => {
    // The representation is chosen once: the handler is told (an export may be encoded differently) and the answer uses it.
    const chosen = offered.length > 0 ? pickRepresentation(c.req.header("accept"), offered) : null;
    const result = registry.run(op, input, new HttpOpContext(c, kind, chosen));
    return result instanceof Promise ? result.then((r) => respond(c, input, r, chosen)) : respond(c, input, result, chosen);
  };
  // Not async: an operation without a body whose handler answers at once (health, catalog and
  // index reads) is answered without a promise or a microtask in between.
  return (c: Context<AppEnv>): Response | Promise<Response> => {
    const check = (schema: Schema, value: unknown, what: string) => validate(schema, value, what) as Record<string, unknown>;
    let input: Record<string, unknown> = op.params ? check(op.params, c.req.param(), "path") : {};
    if (op.query) input = { ...input, ...check(op.query, c.req.query(), "query string") };
    if (op.headers) {
      const given: Record<string, string> = {};
      for (const [field, header] of headerMap) {
        const value = c.req.header(header);
        if (value !== undefined) given[field] = value;
      }
      input = { ...input, ...check(op.headers, given, "headers") };
    }
    if (op.stream) {
      const declared = c.req.header("content-length");
      const raw = c.req.raw;
      input.stream = {
        // Lazy: touching Request.body turns Bun's native body into a JS stream, which `whole` avoids.
        get body() {
          return raw.body;
        },
        contentType: c.req.header("content-type"),
        length: declared === undefined ? undefined : Number(declared),
        whole: () => raw.arrayBuffer(),
      };
    }
    if (op.body) return readJson(c, op.body as Schema, limit).then((body) => execute(c, { ...input, ...(body as Record<string, unknown>) }));
    return execute(c, input);
  };
}

type Kind = Identity["kind"] | ((c: Context<AppEnv>) => Identity["kind"]);

/** Who calls a route: fixed by auth, except on a public route, decided there only if asked. */
function identityKind(op: AnyOperation, opts: MountOptions): Kind {
  if (!opts.tokenAuth) return "anonymous";
  if (!op.public) return "token";
  const admits = opts.admits;
  return admits ? (c) => (admits(c) ? "token" : "anonymous") : "anonymous";
}

/**
 * The handler's context for an HTTP request, read lazily: the client address costs a lookup and
 * the abort signal an allocation, and most handlers use neither.
 */
class HttpOpContext implements OpContext {
  constructor(
    private readonly c: Context<AppEnv>,
    private readonly kind: Kind,
    private readonly chosen: string | null,
  ) {}

  /** The media type the answer will be sent as, when not JSON (chosen from the Accept header). */
  get representation(): string | undefined {
    return this.chosen ?? undefined;
  }

  get requestId(): string {
    return this.c.get("requestId");
  }

  get identity(): Identity {
    return new HttpIdentity(this.c, typeof this.kind === "function" ? this.kind(this.c) : this.kind);
  }

  get signal(): AbortSignal {
    return this.c.req.raw.signal;
  }
}

/** The caller's identity; its address is looked up only when read. (#c: never spread or serialized.) */
class HttpIdentity implements Identity {
  readonly #c: Context<AppEnv>;
  constructor(
    c: Context<AppEnv>,
    readonly kind: Identity["kind"],
  ) {
    this.#c = c;
  }

  get address(): string | undefined {
    return this.#c.env?.ip;
  }
}

function sendStream(c: Context<AppEnv>, out: StreamOut, status: number, headers: Record<string, string> = {}): Response {
  const all: Record<string, string> = { ...headers, "Content-Type": out.contentType };
  if (out.length !== undefined) all["Content-Length"] = String(out.length);
  // Hono's body() takes what Response does; a string or bytes are sent as they are.
  return c.body(out.body as never, status as 200, all);
}

/** Methods the registry declares for a concrete path: a non-empty answer for an unmatched request means 405. */
export function allowedMethods(registry: OperationRegistry, path: string): string[] {
  const methods = new Set<string>();
  for (const op of registry.list()) if (pathMatcher(op.path).test(path)) methods.add(op.method.toUpperCase());
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}

const matchers = new Map<string, RegExp>();
function pathMatcher(path: string): RegExp {
  let re = matchers.get(path);
  if (!re) {
    const pattern = path
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith("{") ? (part.endsWith("...}") ? ".+" : "[^/]+") : part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")))
      .join("");
    re = new RegExp(`^${pattern}/?$`);
    matchers.set(path, re);
  }
  return re;
}
