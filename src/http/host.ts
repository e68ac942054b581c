// The Host and Origin gate, in front of every route (health and 404s included).
//
// A request needs a usable Host: without one, Bun builds a relative URL from the request line
// (`GET /health/v1/x HTTP/1.0` reaches Hono as "/health/v1/x", routed as /v1/x), so the route, the
// auth decision and the access log would each read a path the client never sent. 400.
//
// DNS rebinding: a page whose name an attacker re-points at 127.0.0.1 is same-origin with a local
// server in the victim's browser. Its requests still carry the attacker's name in Host (and in
// Origin), so without a token — dev mode, where nothing else stops them — only the loopback names
// and those listed in `server.allowed_hosts` are answered; the rest get 403 `forbidden_host`. With a
// token the browser cannot present it, so the names are not checked, unless `server.allowed_hosts`
// is set: an operator who lists the names the server is reached by gets that list enforced always.
import { BadRequest, ForbiddenHost, type LakehouseError } from "../errors.ts";
import type { Gate } from "./access-log.ts";
import { parseIp } from "./cidr.ts";
import { errorResponse } from "./error-envelope.ts";

/** Always answered: what a browser on this machine calls a loopback server (any port). */
export const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"] as const;

// host = IP-literal / IPv4 / reg-name (RFC 3986 §3.2.2), then an optional port. A comma, a space
// or an "@" is never part of one: two Host headers arrive joined as "a, b", and both are refused.
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+;=%-]+)(?::\d{1,5})?$/i;
// A serialized origin (RFC 6454): scheme "://" host [":" port]. "null" is the opaque origin of a
// sandboxed frame, a file: page or a redirect chain: it names no host, so it is never local.
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/(\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+;=%-]+)(?::\d{1,5})?$/i;
// An allowed_hosts entry: a DNS name (letters, digits, "-", "_" in labels of 1-63), an IPv4 address
// or an IPv6 address with or without brackets. No port, no scheme.
const NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;

/** The entry as the gate compares it (lower case, IPv6 in brackets), or null when it is not a host name. */
export function normalizeAllowedHost(entry: string): string | null {
  const text = entry.trim().toLowerCase();
  if (NAME.test(text)) return text;
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const ip = bare.includes(":") ? parseIp(bare) : null;
  return ip?.family === 6 ? `[${bare}]` : null;
}

/** The host name of a Host header value (lower case, port dropped), or null when it is not usable. */
export function hostName(value: string): string | null {
  const m = HOST.exec(value);
  return m ? m[1]!.toLowerCase() : null;
}

/** The host name of an Origin header value, or null for "null" and for anything malformed. */
export function originHostName(value: string): string | null {
  const m = ORIGIN.exec(value);
  return m ? m[1]!.toLowerCase() : null;
}

/**
 * The Host a request was sent to: the header, or for a request built in-process (tests, scripts),
 * which has no header, the authority of its absolute URL. Bun gives a request without a Host
 * header a relative URL, so that case has no fallback and stays unusable.
 */
function requestHost(req: Request): string | null {
  const header = req.headers.get("host");
  if (header !== null) return header;
  const url = req.url;
  const start = url.indexOf("://");
  if (start <= 0 || url.charCodeAt(0) === 47) return null;
  const end = url.indexOf("/", start + 3);
  return url.slice(start + 3, end === -1 ? undefined : end);
}

/** Header values are quoted into messages: bounded, so a request cannot make the answer large. */
const quote = (value: string) => JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);

export interface HostGateOptions {
  /** auth.token is set. */
  tokenAuth: boolean;
  /** server.allowed_hosts: further names answered besides the loopback ones. */
  allowedHosts: readonly string[];
}

/** The gate requestContext runs before routing (src/http/access-log.ts). */
export function hostGate(opts: HostGateOptions): Gate {
  const allowed = new Set<string>(LOOPBACK_NAMES);
  for (const entry of opts.allowedHosts) {
    const name = normalizeAllowedHost(entry);
    if (!name) throw new Error(`invalid server.allowed_hosts entry "${entry}"`);
    allowed.add(name);
  }
  const checkNames = !opts.tokenAuth || opts.allowedHosts.length > 0;
  const hint = opts.tokenAuth
    ? "it is not in server.allowed_hosts"
    : "without auth.token the server answers only requests addressed to localhost, 127.0.0.1, [::1] or a name in server.allowed_hosts";

  /** Why a request is refused, or null. A pure function of the two header values. */
  const refusal = (host: string | null, origin: string | null): LakehouseError | null => {
    const name = host === null ? null : hostName(host);
    if (name === null) return new BadRequest(host === null ? "the request has no Host header" : `the Host header ${quote(host)} is not a usable host`);
    if (!checkNames) return null;
    if (!allowed.has(name)) return new ForbiddenHost(`Host ${quote(host!)} is not allowed: ${hint}`);
    if (origin !== null) {
      const from = originHostName(origin);
      if (from === null || !allowed.has(from)) return new ForbiddenHost(`Origin ${quote(origin)} is not allowed: ${hint}`);
    }
    return null;
  };

  // Every request of a client carries the same Host (and, from a browser, the same Origin): the
  // last accepted pair is remembered, so the usual request costs two header reads and two compares.
  let lastHost: string | null = null;
  let lastOrigin: string | null = null;
  return (c) => {
    const host = requestHost(c.req.raw);
    const origin = checkNames ? c.req.raw.headers.get("origin") : null;
    if (host !== null && host === lastHost && origin === lastOrigin) return null;
    const refused = refusal(host, origin);
    if (refused) return errorResponse(c, refused);
    lastHost = host;
    lastOrigin = origin;
    return null;
  };
}
