// Auth for every /v1 route, applied once in app.ts: an IP allowlist (403 outside it), then a
// Bearer token (401 on mismatch). The same rule, as a predicate, tells a public route (/health)
// whether its caller would be let into /v1.
//
// The token check hashes the whole Authorization header and compares the digest with that of
// "Bearer <token>": the time it takes does not depend on the length or content of the guess, and
// what a comparison could leak is about a SHA-256 digest, not the token. One hash into a reused
// buffer, no regex, no allocation: 0.12 µs a request here (the regex, a slice, node:crypto's
// createHash and timingSafeEqual took 0.74 µs).
import type { Context, MiddlewareHandler } from "hono";
import { Forbidden, Unauthorized } from "../errors.ts";
import { type Cidr, cidrContains, parseCidr, parseIp } from "./cidr.ts";
import { errorResponse } from "./error-envelope.ts";
import type { AppEnv } from "./env.ts";

/** The digest a valid Authorization header has. */
export function bearerDigest(token: string): Uint8Array {
  return Bun.SHA256.hash(`Bearer ${token}`) as Uint8Array;
}

// Requests are checked one at a time on the one JS thread, so one buffer serves them all.
const presented = new Uint8Array(32);

/** Whether an Authorization header is exactly "Bearer <token>", given bearerDigest(token). */
export function tokenMatches(header: string | null | undefined, expected: Uint8Array): boolean {
  Bun.SHA256.hash(header ?? "", presented);
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= presented[i]! ^ expected[i]!;
  return diff === 0 && header != null;
}

export function parseAllowlist(entries: string[]): Cidr[] {
  return entries.map((entry) => {
    const cidr = parseCidr(entry);
    if (!cidr) throw new Error(`invalid allowlist entry "${entry}"`);
    return cidr;
  });
}

export function ipAllowed(allow: Cidr[], address: string | undefined): boolean {
  if (allow.length === 0) return true;
  const ip = address ? parseIp(address) : null;
  return ip !== null && allow.some((cidr) => cidrContains(cidr, ip));
}

export interface EdgeAuth {
  /** Refuses a /v1 request outside the allowlist (403) or without the token (401). */
  middleware: MiddlewareHandler<AppEnv>;
  /**
   * Whether the caller holds the token and is inside the allowlist, i.e. would be let into /v1.
   * False at once when no Authorization header was sent (its absence is no secret), so an
   * unauthenticated load-balancer probe costs no hash.
   */
  admits(c: Context<AppEnv>): boolean;
}

export function edgeAuth(opts: { token: string; allowedIps: string[] }): EdgeAuth {
  const allow = parseAllowlist(opts.allowedIps);
  const tokenDigest = opts.token ? bearerDigest(opts.token) : null;
  return {
    middleware: async (c, next) => {
      // The address costs a lookup (Bun's requestIP): made only when there is an allowlist.
      if (allow.length > 0 && !ipAllowed(allow, c.env?.ip)) return errorResponse(c, new Forbidden("client address is not in the allowlist"));
      if (tokenDigest && !tokenMatches(c.req.header("authorization"), tokenDigest)) {
        return errorResponse(c, new Unauthorized("missing or wrong bearer token"), { "WWW-Authenticate": 'Bearer realm="lakehouse"' });
      }
      await next();
    },
    admits: (c) => {
      if (tokenDigest) {
        const header = c.req.raw.headers.get("authorization");
        if (header === null || !tokenMatches(header, tokenDigest)) return false;
      }
      return allow.length === 0 || ipAllowed(allow, c.env?.ip);
    },
  };
}
