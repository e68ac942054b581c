// Every corpus's lexical index in this process: loaded from its segments at start-up (in the
// background: a search waits for its corpus's index, a build too), updated by builds in memory,
// made durable at the build's checkpoints (a delta segment written before the row hashes that
// name those rows, so a row the hashes call done is always in the stored index) and sealed into
// one base segment when a build ends. segments.ts has the storage layout and why.
//
// When a corpus has no segments (built before lexical indexes existed) or one cannot be used
// (damaged, or written by another tokenizer version), its index is rebuilt from the texts the
// vector index stores with every item, and sealed; the corpus is searchable meanwhile by vector.
import { listAll } from "../../lib/list-all.ts";
import { readCapped } from "../../lib/read-json.ts";
import type { Logger } from "../../log.ts";
import { LAYOUT } from "../../storage/layout.ts";
import type { ObjectStore } from "../../storage/store.ts";
import { Bm25Index } from "./bm25.ts";
import { type Delta, decodeBase, decodeDelta, encodeBase, encodeDelta, parseSegmentName, segmentKey } from "./segments.ts";

/** Where segments live; belongs in LAYOUT (src/storage/layout.ts) next to the matrix's other prefixes. */
export const LEXICAL_PREFIX = LAYOUT.matrixLexical;
const prefixOf = (corpus: string) => `${LEXICAL_PREFIX}${corpus}/`;
/** A base for 100K résumés is 34 MB; 2 GiB would be tens of millions of documents, more than a corpus can hold. */
const MAX_SEGMENT_BYTES = 2 * 1024 * 1024 * 1024;

/** Texts of a corpus's documents, for a rebuild: ids, then each id's stored text (undefined when gone). */
export interface TextSource {
  ids(corpus: string): Promise<string[]>;
  text(corpus: string, id: string): string | undefined;
}

interface Entry {
  index: Bm25Index;
  /** Highest segment sequence written (0: none). */
  seq: number;
  pending: Map<string, string | null>;
  loaded: Promise<void>;
  ready: boolean;
  /** Why the stored segments were not used, if they were not. */
  rebuilt?: "missing" | "damaged" | "stale";
  /** Why loading failed (the index is then empty until the corpus is built again). */
  failed?: string;
}

export class LexicalIndexes {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: ObjectStore,
    private readonly texts: TextSource,
    private readonly log: Logger,
  ) {}

  /**
   * Starts loading a corpus's index (once); `hasContent` says whether a missing index must be
   * rebuilt from texts; `weights` has one weight per field of a fielded corpus (../fields.ts). An
   * index already open takes new weights (they only weigh scores); another number of fields
   * needs a drop() first.
   */
  open(corpus: string, hasContent: boolean, weights: readonly number[] = [1]): Promise<void> {
    const existing = this.entries.get(corpus);
    if (existing) {
      if (existing.index.fields !== weights.length) throw new Error(`lexical index of corpus "${corpus}" is open with another number of fields`);
      existing.index.weights = [...weights];
      return existing.loaded;
    }
    const entry: Entry = { index: new Bm25Index(weights), seq: 0, pending: new Map(), loaded: Promise.resolve(), ready: false };
    // Never rejects: an index that cannot be loaded (the store unreachable, the texts' source
    // failing) stays empty, so its corpus is searched by vector alone, and is named in /health.
    entry.loaded = this.load(corpus, entry, hasContent)
      .catch((err) => {
        entry.index = new Bm25Index(entry.index.weights);
        entry.failed = err instanceof Error ? err.message : String(err);
        this.log.error("lexical index failed to load; its corpus is searched by vector only", { corpus, error: entry.failed });
      })
      .finally(() => {
        entry.ready = true;
      });
    this.entries.set(corpus, entry);
    return entry.loaded;
  }

  /** The corpus's index once loaded; undefined for a corpus with none. */
  async get(corpus: string): Promise<Bm25Index | undefined> {
    const e = this.entries.get(corpus);
    if (!e) return undefined;
    await e.loaded;
    return e.index;
  }

  /** Documents in the corpus's index; null while it loads, 0 for a corpus with none. */
  size(corpus: string): number | null {
    const e = this.entries.get(corpus);
    if (!e) return 0;
    return e.ready ? e.index.size : null;
  }

  /** Why the index was rebuilt at load, if it was (tests, /health). */
  rebuiltBecause(corpus: string): Entry["rebuilt"] {
    return this.entries.get(corpus)?.rebuilt;
  }

  /** Corpora whose index could not be loaded, with why. */
  failures(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, e] of this.entries) if (e.failed !== undefined) out[name] = e.failed;
    return out;
  }

  private async load(corpus: string, e: Entry, hasContent: boolean): Promise<void> {
    const segments: { key: string; seq: number; kind: "base" | "delta" }[] = [];
    for await (const item of listAll(this.store, prefixOf(corpus))) {
      const s = parseSegmentName(item.key.slice(prefixOf(corpus).length));
      if (s) segments.push({ key: item.key, ...s });
    }
    segments.sort((a, b) => a.seq - b.seq);
    e.seq = segments.at(-1)?.seq ?? 0;
    const baseAt = segments.findLastIndex((s) => s.kind === "base");
    let problem: Entry["rebuilt"];
    if (segments.length === 0) problem = hasContent ? "missing" : undefined;
    for (const s of baseAt < 0 ? segments : segments.slice(baseAt)) {
      if (problem) break;
      const bytes = await readCapped(this.store, s.key, MAX_SEGMENT_BYTES);
      if (typeof bytes === "string") problem = "damaged";
      else if (s.kind === "base") {
        const img = decodeBase(bytes);
        // Another number of fields: written before the corpus's text columns changed.
        if (img.ok && (img.value.fields ?? 1) !== e.index.fields) problem = "stale";
        else if (img.ok) e.index.load(img.value);
        else problem = img.problem;
      } else {
        const d = decodeDelta(bytes);
        if (d.ok) applyDelta(e.index, d.value);
        else problem = d.problem;
      }
    }
    // Left by a crash between writing a base and deleting what it replaced.
    if (!problem && baseAt > 0) for (const s of segments.slice(0, baseAt)) await this.store.delete(s.key);
    if (!problem) return;
    e.rebuilt = problem;
    this.log.warn("rebuilding a lexical index from the vector index's texts", { corpus, reason: problem });
    e.index = new Bm25Index(e.index.weights);
    for (const id of await this.texts.ids(corpus)) {
      const text = this.texts.text(corpus, id);
      if (text !== undefined) e.index.upsert(id, text);
    }
    await this.writeBase(corpus, e);
  }

  /** Adds or replaces documents (in memory; durable at the next checkpoint). */
  upsert(corpus: string, docs: readonly { id: string; text: string }[]): void {
    const e = this.entry(corpus);
    for (const d of docs) {
      e.index.upsert(d.id, d.text);
      e.pending.set(d.id, d.text);
    }
  }

  remove(corpus: string, ids: readonly string[]): void {
    const e = this.entry(corpus);
    for (const id of ids) {
      e.index.remove(id);
      e.pending.set(id, null);
    }
  }

  has(corpus: string, id: string): boolean {
    return this.entries.get(corpus)?.index.has(id) ?? false;
  }

  /** Writes what changed since the last segment as a delta; nothing when nothing changed. */
  async checkpoint(corpus: string): Promise<void> {
    const e = this.entry(corpus);
    await e.loaded;
    if (e.pending.size === 0) return;
    const delta: Delta = { upserts: [], removes: [] };
    for (const [id, text] of e.pending) {
      if (text === null) delta.removes.push(id);
      else delta.upserts.push([id, text]);
    }
    const snapshot = new Map(e.pending);
    const seq = e.seq + 1;
    await this.store.put(segmentKey(prefixOf(corpus), seq, "delta"), encodeDelta(delta), { contentType: "application/json" });
    e.seq = seq;
    e.failed = undefined;
    clearWritten(e.pending, snapshot);
  }

  /** Compacts the index and stores it as one base segment, deleting the segments it replaces. */
  async seal(corpus: string): Promise<void> {
    const e = this.entry(corpus);
    await e.loaded;
    e.index.compact();
    await this.writeBase(corpus, e);
  }

  private async writeBase(corpus: string, e: Entry): Promise<void> {
    const seq = e.seq + 1;
    const snapshot = new Map(e.pending);
    const key = segmentKey(prefixOf(corpus), seq, "base");
    await this.store.put(key, encodeBase(e.index.image()), { contentType: "application/octet-stream" });
    e.seq = seq;
    e.failed = undefined;
    clearWritten(e.pending, snapshot);
    for await (const item of listAll(this.store, prefixOf(corpus))) {
      const s = parseSegmentName(item.key.slice(prefixOf(corpus).length));
      if (s && s.seq < seq) await this.store.delete(item.key);
    }
  }

  /** Forgets the corpus's index and deletes its segments (a corpus deleted, or created over leftovers). */
  async drop(corpus: string): Promise<void> {
    const e = this.entries.get(corpus);
    this.entries.delete(corpus);
    await e?.loaded.catch(() => {});
    for await (const item of listAll(this.store, prefixOf(corpus))) await this.store.delete(item.key);
  }

  /** Waits for loads still running (a rebuild from texts writes its base at the end). */
  async close(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.loaded));
  }

  private entry(corpus: string): Entry {
    const e = this.entries.get(corpus);
    // A build opens its corpus's index (and waits for it) before its first write.
    if (!e) throw new Error(`lexical index of corpus "${corpus}" is not open`);
    return e;
  }
}

/** Clears what a segment wrote, but not a change made while it was being written. */
function clearWritten(pending: Map<string, string | null>, written: ReadonlyMap<string, string | null>): void {
  for (const [id, text] of written) if (pending.get(id) === text) pending.delete(id);
}

function applyDelta(index: Bm25Index, d: Delta): void {
  for (const [id, text] of d.upserts) index.upsert(id, text);
  for (const id of d.removes) index.remove(id);
}
