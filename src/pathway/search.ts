// SEARCH: the query embedded, the vector index searched with the caller's filter (the shared
// language) and the scope and kind folded into it, then each hit checked against the state: it
// counts only if its content version is the one the trace held at the instant asked (now, or
// `as_of`) and the trace was live then (unless retired or superseded ones were asked for). Hits
// that do not count are why the search over-fetches, and fetches again with a larger k when too
// few counted.
import { ValidationFailed } from "../errors.ts";
import { type FilterInput, parseFilter } from "../filter/parse.ts";
import { filterFromText } from "../filter/text.ts";
import type { Memory } from "./memory.ts";
import { SCOPE_FIELDS, type Scope, type StoredVersion, type Trace, traceOf } from "./model.ts";
import { versionAt } from "./state.ts";
import { INDEX_NAME, type TraceVectors } from "./vectors.ts";

interface SearchDeps {
  memory: Memory;
  vectors: TraceVectors;
}

export interface Accept {
  atMs?: number;
  includeRetired?: boolean;
  includeSuperseded?: boolean;
}

export interface Found {
  score: number;
  version: StoredVersion;
}

/** First fetch: k plus room for hits that will not count. */
const overfetch = (k: number) => k * 2 + 8;
const GROWTH = 4;

export interface FoundTraces {
  found: Found[];
  /**
   * Items of the vector index not yet in its graph that the (last) vector search scored exactly:
   * large right after many writes or a restart, 0 once indexing has caught up.
   */
  pendingScanned: number;
}

/** The best `k` hits that count, best first. */
export async function findTraces(
  deps: SearchDeps,
  vector: readonly number[],
  k: number,
  filter: FilterInput | undefined,
  accept: Accept,
): Promise<FoundTraces> {
  await deps.vectors.settled();
  const { state } = deps.memory;
  const port = deps.vectors.port;
  // No trace was ever embedded: nothing to find.
  if (!deps.vectors.exists) return { found: [], pendingScanned: 0 };
  const total = port.stats(INDEX_NAME).count;
  let fetch = Math.min(overfetch(k), Math.max(total, 1));
  for (;;) {
    const { hits, pending_scanned: pendingScanned } = await port.searchCounted(INDEX_NAME, vector, fetch, filter);
    const out: Found[] = [];
    for (const h of hits) {
      const at = h.id.lastIndexOf("@");
      const chain = state.chains.get(h.id.slice(0, at));
      if (!chain) continue;
      const v = versionAt(chain, accept.atMs);
      if (!v || v.cv !== Number(h.id.slice(at + 1))) continue;
      if (!accept.includeRetired && v.retired_at !== null) continue;
      if (!accept.includeSuperseded && v.superseded_by !== null) continue;
      out.push({ score: h.score, version: v });
      if (out.length === k) return { found: out, pendingScanned };
    }
    if (hits.length < fetch || fetch >= total) return { found: out, pendingScanned };
    fetch = Math.min(fetch * GROWTH, total);
  }
}

/** The exact scope as a filter: each field equal, or absent when the scope has none. */
export function scopeFilter(scope: Scope): Record<string, unknown> {
  const f: Record<string, unknown> = {};
  for (const field of SCOPE_FIELDS) f[field] = scope[field] ?? { $exists: false };
  return f;
}

/** The live trace in exactly this scope most similar to `vector`, if at least `min` similar. */
export async function similarLive(deps: SearchDeps, vector: readonly number[], scope: Scope, min: number): Promise<string | undefined> {
  const [best] = (await findTraces(deps, vector, 1, scopeFilter(scope), {})).found;
  return best && best.score >= min ? best.version.uid : undefined;
}

export interface SearchInput extends Scope {
  query?: string;
  vector?: number[];
  k: number;
  filter?: FilterInput;
  kind?: string;
  include_retired?: boolean;
  include_superseded?: boolean;
  as_of?: string;
}

export async function searchTraces(deps: SearchDeps, input: SearchInput): Promise<{ hits: { score: number; trace: Trace }[]; pending_scanned: number }> {
  if ((input.query === undefined) === (input.vector === undefined))
    throw new ValidationFailed("give exactly one of query or vector", [{ path: "query", message: "exactly one of query or vector" }]);
  const parts: Record<string, unknown>[] = [];
  if (input.filter !== undefined) {
    parseFilter(input.filter); // a bad filter is a 400 naming its node before anything runs
    parts.push(typeof input.filter === "string" ? filterFromText(input.filter) : input.filter);
  }
  const exact: Record<string, unknown> = {};
  for (const f of SCOPE_FIELDS) if (input[f] !== undefined) exact[f] = input[f];
  if (input.kind !== undefined) exact.kind = input.kind;
  if (Object.keys(exact).length > 0) parts.push(exact);
  const filter = parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : { $and: parts };
  let vector = input.vector;
  if (vector && deps.vectors.dim > 0 && vector.length !== deps.vectors.dim)
    throw new ValidationFailed(`vector: expected ${deps.vectors.dim} numbers`, [{ path: "vector", message: `expected ${deps.vectors.dim} numbers` }]);
  vector ??= [...(await deps.vectors.embed([input.query!]))[0]!];
  const { found, pendingScanned } = await findTraces(deps, vector, input.k, filter, {
    atMs: input.as_of === undefined ? undefined : Date.parse(input.as_of),
    includeRetired: input.include_retired,
    includeSuperseded: input.include_superseded,
  });
  return {
    hits: found.map((f) => ({ score: f.score, trace: traceOf(f.version, deps.memory.state.chains.get(f.version.uid)?.replays ?? 0) })),
    pending_scanned: pendingScanned,
  };
}
