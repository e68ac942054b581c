// The reads: GET (optionally as_of), LIST (filters, cursor, as_of), HISTORY (the backward walk
// with cycle and gap detection), the audit trail and its verification. All from the state in RAM.
import { NotFound } from "../errors.ts";
import { GENESIS, type Receipt, receiptHash, type StoredVersion, SCOPE_FIELDS, type Scope, type Trace, traceOf, versionHash } from "./model.ts";
import { MAX_LIST_LIMIT } from "./schemas.ts";
import { type PathwayState, versionAt } from "./state.ts";

const atMsOf = (asOf: string | undefined) => (asOf === undefined ? undefined : Date.parse(asOf));

export function getTrace(state: PathwayState, uid: string, asOf?: string): Trace {
  const chain = state.chains.get(uid);
  const v = chain && versionAt(chain, atMsOf(asOf));
  if (!chain || !v) throw new NotFound(asOf ? `no trace "${uid}" at ${asOf}` : `no trace "${uid}"`, { uid });
  return traceOf(v, chain.replays);
}

export interface ListInput extends Scope {
  kind?: string;
  tags?: string;
  since?: string;
  until?: string;
  include_retired?: boolean;
  include_superseded?: boolean;
  as_of?: string;
  cursor?: string;
  limit?: number;
}

export function listTraces(state: PathwayState, input: ListInput): { traces: Trace[]; next_cursor?: string } {
  const limit = input.limit ?? 100;
  const atMs = atMsOf(input.as_of);
  const tags = input.tags ? input.tags.split(",").filter((t) => t !== "") : [];
  const since = input.since === undefined ? undefined : Date.parse(input.since);
  const until = input.until === undefined ? undefined : Date.parse(input.until);
  const out: Trace[] = [];
  let last = 0;
  const matches = (v: StoredVersion) => {
    for (const f of SCOPE_FIELDS) if (input[f] !== undefined && v[f] !== input[f]) return false;
    if (input.kind !== undefined && v.kind !== input.kind) return false;
    if (!input.include_retired && v.retired_at !== null) return false;
    if (!input.include_superseded && v.superseded_by !== null) return false;
    for (const t of tags) if (!v.tags.includes(t)) return false;
    if (since !== undefined && Date.parse(v.created_at) < since) return false;
    if (until !== undefined && Date.parse(v.created_at) >= until) return false;
    return true;
  };
  for (const chain of state.newestFirst(input.cursor === undefined ? undefined : Number(input.cursor))) {
    const v = versionAt(chain, atMs);
    if (!v || !matches(v)) continue;
    if (out.length === Math.min(limit, MAX_LIST_LIMIT)) return { traces: out, next_cursor: String(last) };
    out.push(traceOf(v, chain.replays));
    last = chain.ord;
  }
  return { traces: out };
}

/** Versions walked at most: a chain longer than this answers truncated. */
const MAX_HISTORY = 10_000;

export function traceHistory(state: PathwayState, uid: string): { uid: string; versions: Trace[]; cycle: boolean; truncated: boolean } {
  if (!state.chains.has(uid)) throw new NotFound(`no trace "${uid}"`, { uid });
  const versions: Trace[] = [];
  const seen = new Set<string>();
  let at: string | null = uid;
  while (at !== null) {
    if (seen.has(at)) return { uid, versions, cycle: true, truncated: false };
    seen.add(at);
    const chain = state.chains.get(at);
    if (!chain) return { uid, versions, cycle: false, truncated: true };
    for (let i = chain.versions.length - 1; i >= 0; i--) {
      if (versions.length === MAX_HISTORY) return { uid, versions, cycle: false, truncated: true };
      versions.push(traceOf(chain.versions[i]!, chain.replays));
    }
    at = chain.versions[0]!.predecessor;
  }
  return { uid, versions, cycle: false, truncated: false };
}

export function auditPage(state: PathwayState, input: { uid?: string; since?: number; limit?: number }): { receipts: Receipt[]; next_since?: number } {
  const limit = input.limit ?? 100;
  const since = input.since ?? 0;
  // Receipts are in seq order: start at the first after `since`.
  let lo = 0;
  let hi = state.audit.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (state.audit[mid]!.seq <= since) lo = mid + 1;
    else hi = mid;
  }
  const out: Receipt[] = [];
  for (let i = lo; i < state.audit.length; i++) {
    const r = state.audit[i]!;
    if (input.uid !== undefined && r.uid !== input.uid) continue;
    if (out.length === limit) return { receipts: out, next_since: out.at(-1)!.seq };
    out.push(r);
  }
  return { receipts: out };
}

/**
 * Walks the chain: each receipt's hash must be the hash of its content, its prev the hash of the
 * receipt before, its seq the next number. Also counts live traces whose stored state is not the
 * one their last receipt names (a trace record edited behind the trail's back).
 */
export function verifyAudit(state: PathwayState): { ok: boolean; receipts: number; first_broken_seq?: number; mismatched_traces: number } {
  let prev = GENESIS;
  let expectSeq = state.audit[0]?.seq ?? 1;
  let broken: number | undefined;
  const lastAfter = new Map<string, string | null>();
  for (const r of state.audit) {
    if (broken === undefined && (r.seq !== expectSeq || r.prev !== prev || receiptHash(r) !== r.hash)) broken = r.seq;
    prev = r.hash;
    expectSeq = r.seq + 1;
    lastAfter.set(r.uid, r.after_hash);
  }
  if (broken === undefined && (state.audit[0]?.seq ?? 1) !== 1) broken = state.audit[0]!.seq;
  let mismatched = 0;
  for (const chain of state.chains.values()) {
    const head = chain.versions.at(-1)!;
    if (lastAfter.get(chain.uid) !== versionHash(head)) mismatched++;
  }
  const ok = broken === undefined && mismatched === 0;
  return { ok, receipts: state.audit.length, ...(broken === undefined ? {} : { first_broken_seq: broken }), mismatched_traces: mismatched };
}
