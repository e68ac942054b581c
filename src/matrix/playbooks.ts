// Playbook memory: what worked and what did not for past queries. Each playbook is one object in
// the store (written before the request is acknowledged, so it survives kill -9) holding the
// embedding of its query, so a restart does not have to embed them again.
import { randomBytes } from "node:crypto";
import * as v from "valibot";
import { NotFound, TooLarge } from "../errors.ts";
import { listAll } from "../lib/list-all.ts";
import { readJsonChecked } from "../lib/read-json.ts";
import { type SkippedDetail, type SkipReason, SkipReport } from "../lib/skipped.ts";
import type { Logger } from "../log.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import { unit } from "./calibration.ts";
import { itemKey, type PlaybookSignal } from "./playbook-boost.ts";
import type { EmbedPort } from "../ports.ts";

const PREFIX = LAYOUT.matrixPlaybooks;
const WRITE_CONCURRENCY = 16;
/**
 * A playbook is its query and note (at most 10,000 characters each, ≤ 60 KB as JSON) and one
 * embedding (16,384 dimensions at most, ≈400 KB as JSON): 1 MiB is no playbook. Refused on write
 * too, so what was acknowledged always loads.
 */
const MAX_PLAYBOOK_BYTES = 1024 * 1024;

const PlaybookSchema = v.object({
  id: v.string(),
  query: v.string(),
  corpus: v.string(),
  item_id: v.string(),
  outcome: v.picklist(["success", "failure"]),
  rating: v.optional(v.pipe(v.number(), v.finite())),
  note: v.optional(v.string()),
  // A real time and finite numbers: JSON reads 1e400 as Infinity, and either would make every
  // boost this playbook takes part in NaN.
  created_at: v.pipe(v.string(), v.isoTimestamp()),
  model: v.string(),
  vector: v.array(v.pipe(v.number(), v.finite())),
});

export type Playbook = v.InferOutput<typeof PlaybookSchema>;

/** A playbook as the API shows it: without its query embedding, which is internal and large. */
export const PublicPlaybookSchema = v.omit(PlaybookSchema, ["vector"]);
export type PublicPlaybook = v.InferOutput<typeof PublicPlaybookSchema>;

export function publicPlaybook({ vector: _vector, ...rest }: Playbook): PublicPlaybook {
  return rest;
}

export interface PlaybookInput {
  query: string;
  corpus: string;
  id: string;
  outcome: "success" | "failure";
  rating?: number;
  note?: string;
}

/** Time-ordered ids: listing the prefix lists playbooks oldest first. */
function newId(now: number): string {
  return `${now.toString(36).padStart(9, "0")}${randomBytes(6).toString("hex")}`;
}

export class Playbooks {
  private readonly items = new Map<string, Playbook>();
  /** Per model: playbooks by the item they are about; dropped on every change. */
  readonly #byItem = new Map<string, Map<string, PlaybookSignal[]>>();
  readonly #successes = new Map<string, Successes>();
  private readonly skipped = new SkipReport();

  private constructor(
    private readonly store: ObjectStore,
    private readonly embed: EmbedPort,
  ) {}

  static async open(store: ObjectStore, embed: EmbedPort, log: Logger): Promise<Playbooks> {
    const p = new Playbooks(store, embed);
    for await (const item of listAll(store, PREFIX)) {
      // One bad playbook (or a failed read of it) costs that playbook, never the module's start-up.
      let reason: SkipReason | null = null;
      const id = /^([0-9a-z]+)\.json$/.exec(item.key.slice(PREFIX.length))?.[1];
      if (id === undefined) reason = "bad_name";
      else {
        try {
          const read = await readJsonChecked(store, item.key, PlaybookSchema, { maxBytes: MAX_PLAYBOOK_BYTES });
          // A playbook copied under another id would be deleted by the wrong key.
          if (read.ok) {
            if (read.value.id === id) p.items.set(id, read.value);
            else reason = "mismatched";
          } else if (read.problem === "missing") continue;
          else reason = read.problem;
        } catch {
          reason = "unreadable";
        }
      }
      if (reason !== null) {
        p.skipped.add(item.key, reason);
        log.error("skipping an unreadable playbook", { key: item.key, reason });
      }
    }
    return p;
  }

  /** Playbook objects passed over at start-up. */
  skippedObjects(): SkippedDetail {
    return this.skipped.detail();
  }

  get size(): number {
    return this.items.size;
  }

  list(): Playbook[] {
    return [...this.items.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /**
   * Playbooks about any of the given items (itemKey(corpus, id)) whose query was embedded by
   * `model`, the only ones comparable with a query vector of that model. A search only needs the
   * playbooks of its candidates, so it never scores the whole memory.
   */
  signalsFor(model: string, keys: Iterable<string>): PlaybookSignal[] {
    let byItem = this.#byItem.get(model);
    if (!byItem) {
      byItem = new Map();
      for (const p of this.list()) {
        if (p.model !== model) continue;
        const key = itemKey(p.corpus, p.item_id);
        const list = byItem.get(key) ?? [];
        list.push({
          id: p.id,
          corpus: p.corpus,
          item_id: p.item_id,
          outcome: p.outcome,
          rating: p.rating,
          created_ms: Date.parse(p.created_at),
          vector: p.vector,
        });
        byItem.set(key, list);
      }
      this.#byItem.set(model, byItem);
    }
    const out: PlaybookSignal[] = [];
    for (const key of new Set(keys)) out.push(...(byItem.get(key) ?? []));
    return out;
  }

  /** Successful playbooks of `model` whose query is at least `minSimilarity` from the unit vector `query`, most similar first. */
  successesSimilarTo(model: string, query: readonly number[], minSimilarity: number): Playbook[] {
    // Keyed by length too: only vectors as long as the query compare with it.
    const key = `${model}\u0000${query.length}`;
    let successes = this.#successes.get(key);
    if (!successes) {
      successes = packSuccesses(
        this.list().filter((p) => p.model === model && p.outcome === "success"),
        query.length,
      );
      this.#successes.set(key, successes);
    }
    const { list, dim, vectors } = successes;
    const q = Float64Array.from(query);
    const sims = new Float64Array(list.length);
    const passing: number[] = [];
    for (let i = 0, at = 0; i < list.length; i++, at += dim) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += q[j]! * vectors[at + j]!;
      sims[i] = s;
      if (s >= minSimilarity) passing.push(i);
    }
    return passing.sort((a, b) => sims[b]! - sims[a]! || a - b).map((i) => list[i]!);
  }

  /** Stores all or none: on a failed write the ones already written are deleted before the error surfaces. */
  async add(inputs: readonly PlaybookInput[]): Promise<Playbook[]> {
    let model = this.embed.defaultModel;
    const vectors: (readonly number[])[] = [];
    for (let i = 0; i < inputs.length; i += this.embed.maxBatch) {
      const out = await this.embed.embed(inputs.slice(i, i + this.embed.maxBatch).map((x) => x.query));
      model = out.model;
      vectors.push(...out.vectors);
    }
    const now = Date.now();
    const made: Playbook[] = inputs.map((i, j) => {
      const p: Playbook = {
        id: newId(now),
        query: i.query,
        corpus: i.corpus,
        item_id: i.id,
        outcome: i.outcome,
        created_at: new Date(now).toISOString(),
        model,
        vector: unit(vectors[j]!),
      };
      if (i.rating !== undefined) p.rating = i.rating;
      if (i.note !== undefined) p.note = i.note;
      return p;
    });
    const bodies = new Map(made.map((p) => [p.id, JSON.stringify(p)]));
    for (const body of bodies.values()) {
      const bytes = Buffer.byteLength(body);
      if (bytes > MAX_PLAYBOOK_BYTES)
        throw new TooLarge(`a playbook would take ${bytes} bytes, over the ${MAX_PLAYBOOK_BYTES}-byte cap`, { limit_bytes: MAX_PLAYBOOK_BYTES });
    }
    const written: string[] = [];
    try {
      for (let i = 0; i < made.length; i += WRITE_CONCURRENCY) {
        await Promise.all(
          made.slice(i, i + WRITE_CONCURRENCY).map(async (p) => {
            await this.store.put(`${PREFIX}${p.id}.json`, bodies.get(p.id)!, { contentType: "application/json" });
            written.push(p.id);
          }),
        );
      }
    } catch (err) {
      await Promise.all(written.map((id) => this.store.delete(`${PREFIX}${id}.json`).catch(() => false)));
      throw err;
    }
    for (const p of made) this.items.set(p.id, p);
    this.#byItem.clear();
    this.#successes.clear();
    return made;
  }

  async delete(id: string): Promise<Playbook> {
    const p = this.items.get(id);
    if (!p) throw new NotFound(`playbook "${id}" not found`);
    await this.store.delete(`${PREFIX}${id}.json`);
    this.items.delete(id);
    this.#byItem.clear();
    this.#successes.clear();
    return p;
  }
}

/**
 * A model's successful playbooks of one vector length, their vectors packed in one typed array.
 * Every search with playbooks compares its query with all of them: with 750 vectors of 384
 * numbers, dot() over the plain arrays took 1.5 ms per search (profiled, the matrix benchmark);
 * the packed loop ≈0.3 ms.
 */
interface Successes {
  list: Playbook[];
  dim: number;
  vectors: Float64Array;
}

function packSuccesses(all: readonly Playbook[], dim: number): Successes {
  const list = all.filter((p) => p.vector.length === dim);
  const vectors = new Float64Array(list.length * dim);
  for (const [i, p] of list.entries()) vectors.set(p.vector, i * dim);
  return { list, dim, vectors };
}
