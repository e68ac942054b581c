// The pathway's operations, under /v1/pathway: traces (add, list, get, update, revise, retire,
// unretire, history, forget), search, and the audit trail. Handlers map inputs onto writes.ts,
// reads.ts and search.ts; who did it comes from the request context (actorOf).
import * as v from "valibot";
import { type AnyOperation, op } from "../ops/operation.ts";
import { actorOf } from "../ops/identity.ts";
import type { Memory } from "./memory.ts";
import { auditPage, getTrace, listTraces, traceHistory, verifyAudit } from "./reads.ts";
import {
  AddBody,
  AddResult,
  AsOfQuery,
  AuditQuery,
  AuditResult,
  ForgetResult,
  HistoryResult,
  ListQuery,
  ListResult,
  ReviseBody,
  SearchBody,
  SearchResult,
  StateBody,
  TraceSchema,
  UidParam,
  UpdateBody,
  VerifyResult,
} from "./schemas.ts";
import { searchTraces } from "./search.ts";
import { type AddOne, addTraces, forgetTrace, reviseTrace, setRetired, updateTrace, type WriteDeps } from "./writes.ts";

const TAG = "pathway";
const notFound = { not_found: "No such trace (never added, or forgotten)" };
const versionConflict = {
  conflict: "expected_version is not the trace's current version (details.current_version), or the change does not apply to its state",
};
const unavailable = { unavailable: "The pathway log could not be written (disk full or failing); nothing was acknowledged" };
const embedFailed = { upstream_error: "The embedding provider failed" };

type AddOut = AddOne | { results: AddOne[] };

export function pathwayOperations(deps: WriteDeps & { memory: Memory }, maxBodyBytes: number): AnyOperation[] {
  const state = () => deps.memory.state;
  return [
    op({
      name: "pathway.add",
      method: "post",
      path: "/v1/pathway/traces",
      tag: TAG,
      summary: "Record a trace, or {traces: [...]} at once; the same memory again is replayed (replay_count + 1), not duplicated",
      body: AddBody,
      result: AddResult,
      maxBodyBytes,
      errors: {
        validation_failed:
          "A field is wrong or missing (no scope field, content over 32 KiB, data over 64 KiB, over 32 tags, an unknown field); details names it",
        conflict: "A client uid that exists with other content (or was forgotten)",
        ...unavailable,
        ...embedFailed,
      },
      http: {
        status: (out: AddOut) => (("results" in out ? out.results : [out]).some((r) => r.result === "created") ? 201 : 200),
        statuses: { 201: "Created (in a batch: at least one)", 200: "Replayed: the memory was there already" },
      },
      handler: async (input, ctx): Promise<AddOut> => {
        const batch = "traces" in input;
        const results = await addTraces(deps, batch ? input.traces : [input], batch, actorOf(ctx.identity));
        return batch ? { results } : results[0]!;
      },
    }),
    op({
      name: "pathway.list",
      method: "get",
      path: "/v1/pathway/traces",
      tag: TAG,
      summary: "Traces newest first, filtered by scope, kind, tags (all of), creation time; retired and superseded left out unless asked; as_of reads the past",
      query: ListQuery,
      result: ListResult,
      handler: (input) => listTraces(state(), input),
    }),
    op({
      name: "pathway.get",
      method: "get",
      path: "/v1/pathway/traces/{uid}",
      tag: TAG,
      summary: "One trace (retired and superseded ones too); as_of gives the version current then",
      params: UidParam,
      query: AsOfQuery,
      result: TraceSchema,
      errors: notFound,
      handler: ({ uid, as_of }) => getTrace(state(), uid, as_of),
    }),
    op({
      name: "pathway.update",
      method: "put",
      path: "/v1/pathway/traces/{uid}",
      tag: TAG,
      summary: "New content, data or tags for the same uid (version + 1); needs expected_version",
      params: UidParam,
      body: UpdateBody,
      result: TraceSchema,
      maxBodyBytes,
      errors: { ...notFound, ...versionConflict, ...unavailable, ...embedFailed },
      handler: (input, ctx) => updateTrace(deps, input, actorOf(ctx.identity)),
    }),
    op({
      name: "pathway.revise",
      method: "post",
      path: "/v1/pathway/traces/{uid}/revise",
      tag: TAG,
      summary: "A new trace that supersedes this one (which leaves search and list, and stays readable)",
      params: UidParam,
      body: ReviseBody,
      result: v.object({ trace: TraceSchema, predecessor: TraceSchema }),
      maxBodyBytes,
      errors: { ...notFound, conflict: "Already superseded, a taken uid, or expected_version is not current", ...unavailable, ...embedFailed },
      http: { status: 201 },
      handler: (input, ctx) => reviseTrace(deps, input, actorOf(ctx.identity)),
    }),
    op({
      name: "pathway.retire",
      method: "post",
      path: "/v1/pathway/traces/{uid}/retire",
      tag: TAG,
      summary: "Retire a trace: it leaves search and list, stays readable with retired_at",
      params: UidParam,
      body: StateBody,
      result: TraceSchema,
      errors: { ...notFound, ...versionConflict, ...unavailable },
      handler: ({ uid, expected_version }, ctx) => setRetired(deps, uid, expected_version, true, actorOf(ctx.identity)),
    }),
    op({
      name: "pathway.unretire",
      method: "post",
      path: "/v1/pathway/traces/{uid}/unretire",
      tag: TAG,
      summary: "Bring a retired trace back",
      params: UidParam,
      body: StateBody,
      result: TraceSchema,
      errors: { ...notFound, ...versionConflict, ...unavailable },
      handler: ({ uid, expected_version }, ctx) => setRetired(deps, uid, expected_version, false, actorOf(ctx.identity)),
    }),
    op({
      name: "pathway.history",
      method: "get",
      path: "/v1/pathway/traces/{uid}/history",
      tag: TAG,
      summary: "Every version of the trace and of its predecessors, newest first; cycle and truncated say where the walk stopped",
      params: UidParam,
      result: HistoryResult,
      errors: notFound,
      handler: ({ uid }) => traceHistory(state(), uid),
    }),
    op({
      name: "pathway.forget",
      method: "delete",
      path: "/v1/pathway/traces/{uid}",
      tag: TAG,
      summary:
        "Erase a trace (privacy): every version, from reads, search, the vector index, the SQL view and, at the next snapshot, storage; the audit trail keeps a tombstone with hashes",
      params: UidParam,
      result: ForgetResult,
      errors: { ...notFound, ...unavailable },
      handler: ({ uid }, ctx) => forgetTrace(deps, uid, actorOf(ctx.identity)),
    }),
    op({
      name: "pathway.search",
      method: "post",
      path: "/v1/pathway/search",
      tag: TAG,
      summary: "Semantic search over traces with the shared filter language; retired and superseded left out unless asked; as_of searches the past",
      body: SearchBody,
      result: SearchResult,
      errors: {
        validation_failed: "Not exactly one of query or vector, a vector of the wrong dimension, a bad filter (details names its node), or another field",
        ...embedFailed,
      },
      handler: (input) => searchTraces(deps, input),
    }),
    op({
      name: "pathway.audit",
      method: "get",
      path: "/v1/pathway/audit",
      tag: TAG,
      summary: "Audit receipts in seq order (one per mutation, hash-chained); since = the last seq seen",
      query: AuditQuery,
      result: AuditResult,
      handler: (input) => auditPage(state(), input),
    }),
    op({
      name: "pathway.audit_verify",
      method: "get",
      path: "/v1/pathway/audit/verify",
      tag: TAG,
      summary: "Walk the audit chain: ok, or the first receipt that does not hold",
      result: VerifyResult,
      handler: () => verifyAudit(state()),
    }),
  ];
}
