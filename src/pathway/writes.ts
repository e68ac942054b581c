// The mutations: ADD (with replay counting, idempotent client uids and similarity dedupe),
// UPDATE, REVISE, RETIRE / UNRETIRE and FORGET. Each one embeds what it needs first (async), then
// checks and builds its log record against the state in one synchronous step and commits it, so
// no other write can slip between a check and its change; it is acknowledged once durable.
import { Conflict, NotFound, Unavailable, ValidationFailed } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { VectorItem } from "../ports.ts";
import type { Memory } from "./memory.ts";
import { contentHash, isLive, SCOPE_FIELDS, type Scope, type StoredVersion, scopeOf, type Trace, traceOf, vectorId } from "./model.ts";
import { RecordBuilder } from "./record.ts";
import type { NewTraceInput } from "./schemas.ts";
import { similarLive } from "./search.ts";
import { type Chain, replayKey } from "./state.ts";
import { TraceVectors } from "./vectors.ts";

export interface WriteDeps {
  memory: Memory;
  vectors: TraceVectors;
  now: () => string;
  log: Logger;
}

export type AddOne = { result: "created" | "replayed"; trace: Trace };

const newUid = () => Bun.randomUUIDv7();

function headOf(deps: WriteDeps, uid: string): { chain: Chain; head: StoredVersion } {
  const chain = deps.memory.state.chains.get(uid);
  if (!chain) throw new NotFound(`no trace "${uid}"`, { uid });
  return { chain, head: chain.versions.at(-1)! };
}

function checkVersion(head: StoredVersion, expected: number | undefined): void {
  if (expected !== undefined && expected !== head.version)
    throw new Conflict(`trace "${head.uid}" is at version ${head.version}, not ${expected}: it changed since you read it`, {
      uid: head.uid,
      current_version: head.version,
    });
}

const item = (v: StoredVersion, vector: readonly number[]): VectorItem => ({ id: vectorId(v.uid, v.cv), vector, metadata: TraceVectors.metadataOf(v) });

/**
 * Commits the record; its vector items are queued, not awaited: the log is the truth, and an
 * acknowledgement need not wait for the vector module's own fsync too. A search waits for queued
 * items first (vectors.settled), so it still reads
 * its own writes; an item whose record never became durable is an orphan every search drops (its
 * content version is not in the state); one lost to a crash is caught up at start (reconcile).
 */
async function commit(deps: WriteDeps, b: RecordBuilder, upserts: VectorItem[], removes: string[] = []): Promise<void> {
  void deps.vectors.write(upserts, removes).catch((err) => deps.log.error("pathway: vector write failed", { error: String(err) }));
  try {
    await deps.memory.commit(b.rec);
  } catch (err) {
    throw new Unavailable("pathway memory could not write its log; nothing more is accepted until a restart", undefined, { cause: err });
  }
}

interface Prepared {
  input: NewTraceInput;
  path: string;
  scope: Scope;
  data: unknown;
  tags: string[];
  hash: string;
  vector?: readonly number[];
  similar?: string;
}

export async function addTraces(deps: WriteDeps, items: NewTraceInput[], batch: boolean, actor: string): Promise<AddOne[]> {
  const state = deps.memory.state;
  const prepared: Prepared[] = items.map((input, i) => {
    const path = batch ? `traces[${i}]` : "";
    const scope = scopeOf(input);
    if (Object.keys(scope).length === 0) {
      const at = path ? `${path}.user_id` : "user_id";
      throw new ValidationFailed(`${at}: a trace needs a scope: at least one of ${SCOPE_FIELDS.join(", ")}`, [
        { path: at, message: "a scope field is required" },
      ]);
    }
    const data = input.data ?? null;
    const tags = input.tags ?? [];
    return { input, path, scope, data, tags, hash: contentHash(input.content, data, tags) };
  });
  const replayable = (p: Prepared) =>
    (p.input.uid !== undefined && state.chains.has(p.input.uid)) || state.replayOf({ ...p.scope, kind: p.input.kind, content_hash: p.hash }) !== undefined;
  for (let attempt = 0; ; attempt++) {
    const need = prepared.filter((p) => !p.vector && (attempt > 0 || !replayable(p) || p.input.dedupe));
    if (need.length > 0) {
      const vecs = await deps.vectors.embed(need.map((p) => p.input.content));
      need.forEach((p, i) => {
        p.vector = vecs[i];
      });
    }
    for (const p of need) if (p.input.dedupe && p.vector) p.similar = await similarLive(deps, p.vector, p.scope, p.input.dedupe.min_similarity);
    const built = buildAdd(deps, prepared, actor);
    if (built === "needs_vectors") continue;
    await commit(deps, built.b, built.upserts);
    return built.results;
  }
}

function buildAdd(deps: WriteDeps, prepared: Prepared[], actor: string): { b: RecordBuilder; upserts: VectorItem[]; results: AddOne[] } | "needs_vectors" {
  const state = deps.memory.state;
  const now = deps.now();
  const b = new RecordBuilder(state, actor, now);
  const upserts: VectorItem[] = [];
  const results: AddOne[] = [];
  const counts = new Map<string, number>();
  const heads = new Map<string, StoredVersion>();
  const batchKeys = new Map<string, string>();
  const replay = (head: StoredVersion) => {
    const count = (counts.get(head.uid) ?? state.chains.get(head.uid)?.replays ?? 0) + 1;
    counts.set(head.uid, count);
    b.replay(head, count);
    results.push({ result: "replayed", trace: traceOf(head, count) });
  };
  for (const p of prepared) {
    const { input } = p;
    const key = replayKey({ ...p.scope, kind: input.kind, content_hash: p.hash });
    if (input.uid !== undefined) {
      if (state.forgotten.has(input.uid)) throw new Conflict(`trace "${input.uid}" was forgotten; its uid cannot be used again`, { uid: input.uid });
      const head = heads.get(input.uid) ?? state.chains.get(input.uid)?.versions.at(-1);
      if (head) {
        if (head.content_hash !== p.hash || replayKey(head) !== key)
          throw new Conflict(`trace "${input.uid}" exists with other content, scope or kind`, {
            uid: input.uid,
            current_version: head.version,
            path: p.path || undefined,
          });
        replay(head);
        continue;
      }
    } else {
      const uid = batchKeys.get(key) ?? state.replayOf({ ...p.scope, kind: input.kind, content_hash: p.hash })?.uid ?? p.similar;
      const head = uid === undefined ? undefined : (heads.get(uid) ?? state.chains.get(uid)?.versions.at(-1));
      if (head && (heads.has(head.uid) || isLive(head))) {
        replay(head);
        continue;
      }
    }
    if (!p.vector) return "needs_vectors";
    const v: StoredVersion = {
      uid: input.uid ?? newUid(),
      ...p.scope,
      kind: input.kind,
      content: input.content,
      data: p.data,
      tags: p.tags,
      version: 1,
      predecessor: null,
      superseded_by: null,
      created_at: now,
      updated_at: now,
      retired_at: null,
      content_hash: p.hash,
      ord: b.nextOrd(),
      cv: 1,
    };
    b.put("add", v, null);
    heads.set(v.uid, v);
    batchKeys.set(key, v.uid);
    upserts.push(item(v, p.vector));
    results.push({ result: "created", trace: traceOf(v, 0) });
  }
  // A trace replayed later in the same batch answers with its final count everywhere.
  for (const r of results) if (counts.has(r.trace.uid)) r.trace = { ...r.trace, replay_count: counts.get(r.trace.uid)! };
  return { b, upserts, results };
}

export interface UpdateInput {
  uid: string;
  expected_version: number;
  content?: string;
  data?: unknown;
  tags?: string[];
}

export async function updateTrace(deps: WriteDeps, input: UpdateInput, actor: string): Promise<Trace> {
  if (input.content === undefined && input.data === undefined && input.tags === undefined)
    throw new ValidationFailed("an update needs at least one of content, data, tags", [{ path: "content", message: "nothing to update" }]);
  checkVersion(headOf(deps, input.uid).head, input.expected_version);
  const content = input.content ?? headOf(deps, input.uid).head.content;
  const [vector] = await deps.vectors.embed([content]);
  // Checked again: another writer may have won while this one embedded.
  const { chain, head } = headOf(deps, input.uid);
  checkVersion(head, input.expected_version);
  const now = deps.now();
  const data = input.data === undefined ? head.data : input.data;
  const tags = input.tags ?? head.tags;
  const text = input.content ?? head.content;
  const next: StoredVersion = {
    ...head,
    content: text,
    data,
    tags,
    content_hash: contentHash(text, data, tags),
    version: head.version + 1,
    cv: head.version + 1,
    updated_at: now,
  };
  const b = new RecordBuilder(deps.memory.state, actor, now);
  b.put("update", next, head);
  await commit(deps, b, [item(next, text === content ? vector! : (await deps.vectors.embed([text]))[0]!)]);
  return traceOf(next, chain.replays);
}

export interface ReviseInput {
  uid: string;
  new_uid?: string;
  expected_version?: number;
  kind?: string;
  content: string;
  data?: unknown;
  tags?: string[];
}

export async function reviseTrace(deps: WriteDeps, input: ReviseInput, actor: string): Promise<{ trace: Trace; predecessor: Trace }> {
  const state = deps.memory.state;
  const check = () => {
    const { chain, head } = headOf(deps, input.uid);
    checkVersion(head, input.expected_version);
    if (head.superseded_by !== null)
      throw new Conflict(`trace "${input.uid}" is already superseded by "${head.superseded_by}"; revise that one`, {
        uid: input.uid,
        current_version: head.version,
        superseded_by: head.superseded_by,
      });
    if (input.new_uid !== undefined && (state.chains.has(input.new_uid) || state.forgotten.has(input.new_uid)))
      throw new Conflict(`uid "${input.new_uid}" is taken`, { uid: input.new_uid });
    return { chain, head };
  };
  check();
  const [vector] = await deps.vectors.embed([input.content]);
  const { chain, head } = check();
  const now = deps.now();
  const b = new RecordBuilder(state, actor, now);
  const data = input.data === undefined ? head.data : input.data;
  const tags = input.tags ?? head.tags;
  const created: StoredVersion = {
    uid: input.new_uid ?? newUid(),
    ...scopeOf(head),
    kind: input.kind ?? head.kind,
    content: input.content,
    data,
    tags,
    version: 1,
    predecessor: head.uid,
    superseded_by: null,
    created_at: now,
    updated_at: now,
    retired_at: null,
    content_hash: contentHash(input.content, data, tags),
    ord: b.nextOrd(),
    cv: 1,
  };
  const superseded: StoredVersion = { ...head, version: head.version + 1, superseded_by: created.uid, updated_at: now };
  b.put("revise", created, null);
  b.put("supersede", superseded, head);
  await commit(deps, b, [item(created, vector!)]);
  return { trace: traceOf(created, 0), predecessor: traceOf(superseded, chain.replays) };
}

export async function setRetired(deps: WriteDeps, uid: string, expected: number, retire: boolean, actor: string): Promise<Trace> {
  const { chain, head } = headOf(deps, uid);
  checkVersion(head, expected);
  if ((head.retired_at !== null) === retire)
    throw new Conflict(`trace "${uid}" is ${retire ? "already retired" : "not retired"}`, { uid, current_version: head.version });
  const now = deps.now();
  const next: StoredVersion = { ...head, version: head.version + 1, retired_at: retire ? now : null, updated_at: now };
  const b = new RecordBuilder(deps.memory.state, actor, now);
  b.put(retire ? "retire" : "unretire", next, head);
  await commit(deps, b, []);
  return traceOf(next, chain.replays);
}

export async function forgetTrace(deps: WriteDeps, uid: string, actor: string): Promise<{ uid: string; forgotten: true; versions: number }> {
  const { chain, head } = headOf(deps, uid);
  const ids = [...new Set(chain.versions.map((v) => vectorId(v.uid, v.cv)))];
  const versions = chain.versions.length;
  const b = new RecordBuilder(deps.memory.state, actor, deps.now());
  b.forget(head, ids);
  await commit(deps, b, [], ids);
  return { uid, forgotten: true, versions };
}
