// The process's own operations: health (public) and this API's OpenAPI document.
import * as v from "valibot";
import { named } from "../ops/openapi.ts";
import { type AnyOperation, op } from "../ops/operation.ts";
import type { Module } from "../module.ts";
import { VERSION } from "../version.ts";

const Health = named(
  "Health",
  v.object({
    status: v.picklist(["ok", "degraded"]),
    version: v.string(),
    uptime_s: v.number(),
    modules: v.record(v.string(), v.picklist(["ok", "degraded"])),
    details: v.optional(v.record(v.string(), v.unknown())),
  }),
);

export function systemOperations(modules: () => readonly Module[], startedAt: number, document: () => Record<string, unknown>): AnyOperation[] {
  return [
    op({
      name: "system.health",
      method: "get",
      path: "/health",
      tag: "system",
      summary: "Liveness and module health (no auth)",
      public: true,
      result: Health,
      // Answered on every load-balancer probe: one pass over the modules, no intermediate arrays.
      handler: () => {
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
