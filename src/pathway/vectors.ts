// Trace embeddings, through the embed and vector ports, in an index the module owns. One vector
// item per content version (`uid@cv`), with the scope, kind, tags and data as metadata so the
// shared filter language runs inside the vector search; old content versions stay in the index
// until FORGET, which is what lets SEARCH answer `as_of` exactly. Which items count (live,
// current at the instant asked) is decided from the state, after the search (search.ts).
//
// The pathway log is the truth: items are written after the log line is durable, and a start-up
// re-embeds any content version the index lacks (a crash between the two writes).
import type { Logger } from "../log.ts";
import type { EmbedPort, VectorItem, VectorPort } from "../ports.ts";
import { SCOPE_FIELDS, type StoredVersion, vectorId } from "./model.ts";
import type { PathwayState } from "./state.ts";

export const INDEX_NAME = "pathway-traces";
/** Items per vector call: under the vector module's per-request cap (vector.max_batch_items, 10,000 by default). */
const CALL_ITEMS = 5000;

interface Pending {
  upserts: VectorItem[];
  removes: string[];
  waiters: { resolve(): void; reject(err: unknown): void }[];
}

export class TraceVectors {
  private pending: Pending | null = null;
  private flushing: Promise<void> | null = null;
  dim = 0;
  /** The embedding model of the index (index-model.ts); the provider's default until open() reads the pin. */
  model: string | undefined;

  constructor(
    readonly port: VectorPort,
    private readonly embedder: EmbedPort,
    private readonly log: Logger,
  ) {}

  /**
   * Reads the index's dimension when it exists. It is created on the first write, sized by the
   * vectors written: opening must not call the embedder (a remote provider that is down, or a
   * rejected key, would stop the server from starting and count a call nobody made).
   */
  async open(): Promise<void> {
    if (this.port.hasIndex(INDEX_NAME)) this.dim = this.port.stats(INDEX_NAME).dim;
  }

  /** Whether the index exists yet (no trace was ever embedded before it does). */
  get exists(): boolean {
    return this.port.hasIndex(INDEX_NAME);
  }

  private creating: Promise<void> | null = null;

  private async ensure(dim: number): Promise<void> {
    if (this.port.hasIndex(INDEX_NAME)) return;
    this.creating ??= this.port.createIndex(INDEX_NAME, dim).finally(() => {
      this.creating = null;
    });
    await this.creating;
    this.dim = dim;
  }

  async embed(texts: readonly string[]): Promise<(readonly number[])[]> {
    const out: (readonly number[])[] = [];
    const max = Math.max(1, this.embedder.maxBatch);
    for (let i = 0; i < texts.length; i += max) out.push(...(await this.embedder.embed(texts.slice(i, i + max), this.model)).vectors);
    return out;
  }

  static metadataOf(v: StoredVersion): Record<string, unknown> {
    const m: Record<string, unknown> = { uid: v.uid, kind: v.kind, tags: v.tags, data: v.data };
    for (const f of SCOPE_FIELDS) if (v[f] !== undefined) m[f] = v[f];
    return m;
  }

  /**
   * Queues item writes; the writes of one turn of the event loop go to the vector module as one
   * upsert and one remove (each of which fsyncs the vector log once).
   */
  write(upserts: readonly VectorItem[], removes: readonly string[]): Promise<void> {
    if (upserts.length === 0 && removes.length === 0) return Promise.resolve();
    if (!this.pending) {
      const p: Pending = { upserts: [], removes: [], waiters: [] };
      this.pending = p;
      // One flush at a time, in order: a remove must never overtake the upsert it follows.
      setImmediate(() => {
        const run: Promise<void> = (this.flushing ?? Promise.resolve())
          .then(() => this.flush(p))
          .finally(() => {
            if (this.flushing === run) this.flushing = null;
          });
        this.flushing = run;
      });
    }
    const p = this.pending;
    p.upserts.push(...upserts);
    p.removes.push(...removes);
    return new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
  }

  /** Resolves once every queued item write has reached the vector module (a search reads its own writes). */
  async settled(): Promise<void> {
    while (this.pending || this.flushing) {
      if (this.pending) await new Promise<void>((resolve) => this.pending!.waiters.push({ resolve, reject: () => resolve() }));
      else await this.flushing;
    }
  }

  private async flush(p: Pending): Promise<void> {
    if (this.pending === p) this.pending = null;
    try {
      // An id written twice in one group: the later write wins, as it would one by one.
      const byId = new Map(p.upserts.map((i) => [i.id, i]));
      const removes = new Set(p.removes);
      const upserts = [...byId.values()].filter((i) => !removes.has(i.id));
      if (upserts.length > 0) await this.ensure(upserts[0]!.vector.length);
      else if (!this.exists) {
        for (const w of p.waiters) w.resolve();
        return;
      }
      for (let i = 0; i < upserts.length; i += CALL_ITEMS) await this.port.upsert(INDEX_NAME, upserts.slice(i, i + CALL_ITEMS));
      const ids = [...removes];
      for (let i = 0; i < ids.length; i += CALL_ITEMS) await this.port.remove(INDEX_NAME, ids.slice(i, i + CALL_ITEMS));
      for (const w of p.waiters) w.resolve();
    } catch (err) {
      for (const w of p.waiters) w.reject(err);
    }
  }

  /**
   * Embeds every content version the index lacks and removes the items of forgotten traces the
   * index still holds: what a crash between the pathway log and the vector write leaves. Returns
   * how many items were written.
   */
  async reconcile(state: PathwayState, forgottenIds: Iterable<string>): Promise<number> {
    const missing: StoredVersion[] = [];
    const has = (id: string) => this.exists && this.port.metadata(INDEX_NAME, id) !== undefined;
    for (const chain of state.chains.values()) {
      let cv = -1;
      for (const v of chain.versions) {
        if (v.cv === cv) continue;
        cv = v.cv;
        if (!has(vectorId(v.uid, v.cv))) missing.push(v);
      }
    }
    const stale = [...forgottenIds].filter(has);
    if (stale.length > 0) await this.port.remove(INDEX_NAME, stale);
    const BATCH = 256;
    for (let i = 0; i < missing.length; i += BATCH) {
      const part = missing.slice(i, i + BATCH);
      const vecs = await this.embed(part.map((v) => v.content));
      await this.ensure(vecs[0]!.length);
      await this.port.upsert(
        INDEX_NAME,
        part.map((v, j) => ({ id: vectorId(v.uid, v.cv), vector: vecs[j]!, metadata: TraceVectors.metadataOf(v) })),
      );
    }
    if (missing.length + stale.length > 0) this.log.warn("pathway: vector index caught up with the log", { embedded: missing.length, removed: stale.length });
    return missing.length;
  }
}
