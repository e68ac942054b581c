// Auth for every /v1 route, applied once in app.ts: an IP allowlist (403 outside it), then a
// Bearer token (401 on mismatch). The token comparison hashes both sides first, so it takes the
// same time whatever the length or content of the guess.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { Forbidden, Unauthorized } from "../errors.ts";
import { type Cidr, cidrContains, parseCidr, parseIp } from "./cidr.ts";
import { errorResponse } from "./error-envelope.ts";
import type { AppEnv } from "./env.ts";

const digest = (s: string) => createHash("sha256").update(s).digest();

export function tokenMatches(header: string | undefined, token: string | Buffer): boolean {
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(header ?? "");
  const presented = digest(match?.[1] ?? "");
  return timingSafeEqual(presented, typeof token === "string" ? digest(token) : token) && match !== null;
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

export function authMiddleware(opts: { token: string; allowedIps: string[] }): MiddlewareHandler<AppEnv> {
  const allow = parseAllowlist(opts.allowedIps);
  const tokenDigest = opts.token ? digest(opts.token) : null;
  return async (c, next) => {
    if (!ipAllowed(allow, c.env?.ip)) return errorResponse(c, new Forbidden("client address is not in the allowlist"));
    if (tokenDigest && !tokenMatches(c.req.header("authorization"), tokenDigest)) {
      return errorResponse(c, new Unauthorized("missing or wrong bearer token"), { "WWW-Authenticate": 'Bearer realm="lakehouse"' });
    }
    await next();
  };
}
