// The pathway model, pure: a trace as stored (one immutable object per version), the audit
// receipt, the log record that carries both, and the hashes that tie them together.
import { canonical, sha256 } from "../lib/canonical.ts";

export const SCOPE_FIELDS = ["user_id", "agent_id", "run_id", "namespace"] as const;
export type ScopeField = (typeof SCOPE_FIELDS)[number];
export type Scope = Partial<Record<ScopeField, string>>;

/** A trace as the API answers it. */
export interface Trace extends Scope {
  uid: string;
  kind: string;
  content: string;
  data: unknown;
  tags: string[];
  version: number;
  predecessor: string | null;
  superseded_by: string | null;
  created_at: string;
  updated_at: string;
  retired_at: string | null;
  replay_count: number;
  content_hash: string;
}

/**
 * One version as stored: the trace without its replay count (a counter, not content: replays do
 * not make versions), plus `ord`, the trace's creation order (list order and cursors), and `cv`,
 * the version whose content this one carries (its vector item is `uid@cv`).
 */
export interface StoredVersion extends Omit<Trace, "replay_count"> {
  ord: number;
  cv: number;
}

export const AUDIT_OPS = ["add", "replay", "update", "revise", "supersede", "retire", "unretire", "forget"] as const;
export type AuditOp = (typeof AUDIT_OPS)[number];

/** One audit receipt; `prev` is the previous receipt's `hash`, so the trail is a hash chain. */
export interface Receipt {
  seq: number;
  op: AuditOp;
  uid: string;
  version: number;
  actor: string;
  at: string;
  before_hash: string | null;
  after_hash: string | null;
  prev: string;
  hash: string;
}

/** One durable log record: everything one request changed, applied whole or not at all. */
export interface LogRecord {
  seq: number;
  puts?: StoredVersion[];
  /** [uid, replay_count] */
  replays?: [string, number][];
  /** Forgotten uids with the vector items that held their content. */
  forgets?: { uid: string; vector_ids: string[] }[];
  receipts: Receipt[];
}

export const GENESIS = "0".repeat(64);

export { canonical, sha256 };

/** What a trace says: its content, data and tags. Equal hashes in one scope and kind are one memory (replay). */
export const contentHash = (content: string, data: unknown, tags: readonly string[]) => sha256(canonical({ content, data, tags: [...tags].sort() }));

/** The hash of one stored version, as receipts name it (before_hash / after_hash). */
export const versionHash = (v: StoredVersion) => sha256(canonical(v));

/** The hash a receipt must carry: of everything in it but the hash itself. */
export function receiptHash(r: Omit<Receipt, "hash"> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = r;
  return sha256(canonical(rest));
}

export const vectorId = (uid: string, cv: number) => `${uid}@${cv}`;

export const scopeOf = (t: Scope): Scope => {
  const s: Scope = {};
  for (const f of SCOPE_FIELDS) if (t[f] !== undefined) s[f] = t[f];
  return s;
};

/** One key per scope (all four fields, absent ones included): "the same scope" is this key equal. */
export const scopeKey = (t: Scope) => JSON.stringify(SCOPE_FIELDS.map((f) => t[f] ?? null));

export const isLive = (v: StoredVersion) => v.retired_at === null && v.superseded_by === null;

/** The API's view of a stored version. */
export function traceOf(v: StoredVersion, replayCount: number): Trace {
  const { ord: _o, cv: _c, ...rest } = v;
  return { ...rest, replay_count: replayCount };
}
