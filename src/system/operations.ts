// The process's own operations: health (public) and this API's OpenAPI document.
import * as v from "valibot";
import type { Module } from "../module.ts";
import { named } from "../ops/openapi.ts";
import { type AnyOperation, type OpContext, op } from "../ops/operation.ts";
import { VERSION } from "../version.ts";

const State = v.picklist(["ok", "degraded"]);
const Health = named(
  "Health",
  v.pipe(
    v.object({
      status: State,
      version: v.optional(v.string()),
      uptime_s: v.optional(v.number()),
      modules: v.optional(v.record(v.string(), State)),
      details: v.optional(v.record(v.string(), v.unknown())),
    }),
    v.description(
      "`status` for everyone (what a load balancer needs); version, uptime, module states and details only for a caller who would be let into /v1 (the bearer token, from inside the allowlist), or for every caller when no token is configured (dev mode, loopback only).",
    ),
  ),
);

// The two answers an unauthenticated probe can get, built once.
const OK = { status: "ok" } as const;
const DEGRADED = { status: "degraded" } as const;

export interface SystemOptions {
  /** auth.token is set: the health detail is then for token holders only. */
  tokenAuth: boolean;
}

export function systemOperations(
  modules: () => readonly Module[],
  startedAt: number,
  document: () => Record<string, unknown>,
  opts: SystemOptions,
): AnyOperation[] {
  // Without a token the server is loopback-only and /v1 is open to every local caller: the version
  // and module states are no secret from anyone who can ask. The rebinding gate (src/http/host.ts)
  // keeps browsers' foreign pages out. In-process callers ("internal") always see it all.
  // (The identity is read only when a token is configured: reading it costs the token check.)
  const statusOnly = (ctx: OpContext) => opts.tokenAuth && ctx.identity.kind === "anonymous";
  return [
    op({
      name: "system.health",
      method: "get",
      path: "/health",
      tag: "system",
      summary: "Liveness; module health for authenticated callers (no auth needed)",
      public: true,
      result: Health,
      errors: {
        unavailable:
          'While the modules open after a start: 503 with {"status":"starting","modules":{name: "starting"|"ok"},"progress":{...},"elapsed_ms"} (status only for a caller without the token) and Retry-After; every /v1 route answers 503 unavailable with details.status "starting" meanwhile',
      },
      // Answered on every load-balancer probe: one pass over the modules, no intermediate arrays;
      // a probe without the token gets one of two prebuilt objects.
      handler: (_input, ctx) => {
        if (statusOnly(ctx)) {
          for (const m of modules()) if (m.health().status === "degraded") return DEGRADED;
          return OK;
        }
        const states: Record<string, "ok" | "degraded"> = {};
        let details: Record<string, unknown> | undefined;
        let degraded = false;
        for (const m of modules()) {
          const h = m.health();
          states[m.name] = h.status;
          if (h.status === "degraded") degraded = true;
          if (h.detail) {
            details ??= {};
            details[m.name] = h.detail;
          }
        }
        const out = {
          status: degraded ? ("degraded" as const) : ("ok" as const),
          version: VERSION,
          uptime_s: Math.round((Date.now() - startedAt) / 1000),
          modules: states,
        };
        return details ? { ...out, details } : out;
      },
    }),
    op({
      name: "system.openapi",
      method: "get",
      path: "/v1/openapi.json",
      tag: "system",
      summary: "This API's OpenAPI 3.1 document",
      result: v.pipe(v.record(v.string(), v.unknown()), v.description("An OpenAPI 3.1 document")),
      handler: () => document(),
    }),
  ];
}
