// The corpora of this process: create (validated against the dataset before anything is
// written), build in the background one job per corpus, report progress, delete, and resume
// builds that a restart interrupted.
//
// A corpus that cannot be loaded (its record damaged, or its vector index unavailable) is not
// served and not dropped: it answers 503 by name, /health names it, and deleting it is how it is
// cleared, like a damaged vector index. The others load and serve as usual.
import { Conflict, NotFound, Unavailable, ValidationFailed } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { type SkippedDetail, SkipReport } from "../lib/skipped.ts";
import type { Logger } from "../log.ts";
import { type BuildDeps, lexicalWeights, readColumns, runBuild } from "./builder.ts";
import { resolveFields } from "./corpus-fields.ts";
import { CORPUS_NAME, type CorpusRecord, indexNameFor } from "./corpus-store.ts";
import { templateColumns } from "./rows.ts";
import { RESERVED_KEYS } from "./stored.ts";

export interface CorpusInput {
  name: string;
  dataset: string;
  id_column: string;
  text?: string[];
  template?: string;
  metadata?: string[];
  model?: string;
  /** Weights of text columns (fields.ts); the others are weighed by their length. */
  field_weights?: Record<string, number>;
}

export interface CorpusStatus {
  name: string;
  dataset: string;
  state: CorpusRecord["state"];
  rows_done: number;
  rows_total: number;
  rows_per_s: number;
  eta_s: number | null;
  skipped_empty: number;
  error?: string;
  model?: string;
  fields?: { column: string; weight: number }[];
  dim: number | null;
  count: number;
  pending: number;
  calibration?: { mean: number; std: number };
  /** The lexical (BM25) index: documents held (null while it loads) and its background. */
  lexical: { docs: number | null; calibration?: { mean: number; std: number }; rebuilt?: "missing" | "damaged" | "stale" };
  last_build: CorpusRecord["last_build"];
  started_at: string;
  finished_at?: string;
}

interface Job {
  done: Promise<void>;
  cancelled: boolean;
}

/** Every column the input names, with the field that names it, so an unknown one is reported where it was written. */
function namedColumns(input: CorpusInput): { column: string; path: string }[] {
  return [
    { column: input.id_column, path: "id_column" },
    ...(input.text ?? []).map((column, i) => ({ column, path: `text[${i}]` })),
    ...(input.template !== undefined ? templateColumns(input.template).map((column) => ({ column, path: "template" })) : []),
    ...(input.metadata ?? []).map((column, i) => ({ column, path: `metadata[${i}]` })),
  ];
}

export class Corpora {
  private readonly records = new Map<string, CorpusRecord>();
  private readonly jobs = new Map<string, Job>();
  /** Corpora that could not be loaded at start-up, with why: unavailable until deleted. */
  private readonly damaged = new Map<string, "record_damaged" | "index_unavailable">();
  private readonly skipped = new SkipReport();

  private constructor(
    private readonly deps: BuildDeps,
    private readonly log: Logger,
    private readonly events: EventBus,
  ) {}

  /** Loads every corpus and restarts the builds a stop interrupted (they resume from their hashes). */
  static async open(deps: BuildDeps, log: Logger, events: EventBus): Promise<Corpora> {
    const c = new Corpora(deps, log, events);
    const { records, skipped } = await deps.corpora.list();
    for (const s of skipped) {
      c.skipped.add(s.key, s.reason);
      if (s.name !== undefined) c.damaged.set(s.name, "record_damaged");
      log.error("skipping a corpus record that cannot be loaded", { key: s.key, reason: s.reason });
    }
    for (const rec of records) {
      if (c.indexUnavailable(rec.index)) {
        c.damaged.set(rec.name, "index_unavailable");
        log.error("corpus unavailable: its vector index failed to load", { corpus: rec.name, index: rec.index });
        continue;
      }
      c.records.set(rec.name, rec);
      // Loads in the background; a search or a build of the corpus waits for it.
      void deps.lexical.open(rec.name, rec.dim !== null, lexicalWeights(rec));
      if (rec.state === "building") c.start(rec);
    }
    return c;
  }

  private indexUnavailable(index: string): boolean {
    try {
      this.deps.vectors.hasIndex(index);
      return false;
    } catch (err) {
      if (err instanceof Unavailable) return true;
      throw err;
    }
  }

  /** Corpora that could not be loaded, by name, with why; and the objects passed over. */
  problems(): { unavailable: Record<string, string>; skipped: SkippedDetail } {
    return { unavailable: Object.fromEntries([...this.damaged].sort(([a], [b]) => (a < b ? -1 : 1))), skipped: this.skipped.detail() };
  }

  names(): string[] {
    return [...this.records.keys()].sort();
  }

  list(): CorpusStatus[] {
    return this.names().map((n) => this.status(n));
  }

  /** How many corpora are in each state; cheap enough for every /health call. */
  stateCounts(): Record<CorpusRecord["state"], number> {
    const counts = { building: 0, ready: 0, failed: 0 };
    for (const rec of this.records.values()) counts[rec.state]++;
    return counts;
  }

  require(name: string): CorpusRecord {
    const rec = this.records.get(name);
    if (rec) return rec;
    const why = this.damaged.get(name);
    if (why) {
      const what = why === "record_damaged" ? "its record could not be read" : "its vector index failed to load";
      throw new Unavailable(`corpus "${name}" is unavailable: ${what} at start-up (/health says which); delete it and build it again`, { corpus: name });
    }
    throw new NotFound(`corpus "${name}" not found`, { corpus: name });
  }

  status(name: string): CorpusStatus {
    const rec = this.require(name);
    const end = rec.finished_at ? Date.parse(rec.finished_at) : Date.now();
    const elapsed = (end - Date.parse(rec.started_at)) / 1000;
    const rate = elapsed > 0 ? rec.rows_done / elapsed : 0;
    const stats = this.deps.vectors.hasIndex(rec.index) ? this.deps.vectors.stats(rec.index) : { count: 0, pending: 0 };
    const out: CorpusStatus = {
      name: rec.name,
      dataset: rec.dataset,
      state: rec.state,
      rows_done: rec.rows_done,
      rows_total: rec.rows_total,
      rows_per_s: Math.round(rate * 10) / 10,
      eta_s: rec.state !== "building" ? 0 : rate > 0 ? Math.round(Math.max(0, rec.rows_total - rec.rows_done) / rate) : null,
      skipped_empty: rec.skipped_empty,
      model: rec.model,
      ...(rec.fields ? { fields: rec.fields } : {}),
      dim: rec.dim,
      count: stats.count,
      pending: stats.pending,
      lexical: { docs: this.deps.lexical.size(rec.name) },
      last_build: rec.last_build,
      started_at: rec.started_at,
    };
    if (rec.lexical_calibration) out.lexical.calibration = rec.lexical_calibration;
    const rebuilt = this.deps.lexical.rebuiltBecause(rec.name);
    if (rebuilt) out.lexical.rebuilt = rebuilt;
    if (rec.error !== undefined) out.error = rec.error;
    if (rec.calibration) out.calibration = rec.calibration;
    if (rec.finished_at) out.finished_at = rec.finished_at;
    return out;
  }

  /**
   * Creates a corpus and starts its build, or rebuilds an existing one incrementally when the
   * input names the same dataset, id column and model. Returns whether it was created.
   */
  async build(input: CorpusInput): Promise<{ created: boolean; status: CorpusStatus }> {
    if (!CORPUS_NAME.test(input.name))
      throw new ValidationFailed("invalid corpus name: 1-63 letters, digits, _ or -, starting with a letter", [{ path: "name", message: "invalid name" }]);
    if ((input.text === undefined) === (input.template === undefined)) {
      throw new ValidationFailed("give exactly one of text (columns) or template", [{ path: "text", message: "exactly one of text or template" }]);
    }
    const text = input.template !== undefined ? { template: input.template } : { columns: input.text! };
    const metadata = input.metadata ?? [];
    const reserved = metadata.find((c) => RESERVED_KEYS.includes(c));
    if (reserved !== undefined)
      throw new ValidationFailed(`metadata column "${reserved}" is reserved`, [{ path: "metadata", message: `"${reserved}" is reserved` }]);
    const info = await this.deps.rows.describe(input.dataset);
    const known = new Set(info.columns);
    const wanted = readColumns({ id_column: input.id_column, text, metadata });
    const unknown = wanted.filter((c) => !known.has(c));
    if (unknown.length > 0) {
      const details = namedColumns(input)
        .filter(({ column }) => !known.has(column))
        .map(({ column, path }) => ({ path, message: `dataset "${input.dataset}" has no column ${JSON.stringify(column)}` }));
      throw new ValidationFailed(`dataset "${input.dataset}" has no column ${unknown.map((u) => JSON.stringify(u)).join(", ")}`, details);
    }

    this.assertNotDamaged(input.name);
    if (this.jobs.has(input.name)) throw new Conflict(`corpus "${input.name}" is being built; wait for it to finish`);
    const existing = this.records.get(input.name);
    const now = new Date().toISOString();
    let rec: CorpusRecord;
    if (existing) {
      // No model named: the corpus keeps the one it was built with.
      if (existing.dataset !== input.dataset || existing.id_column !== input.id_column || (input.model !== undefined && existing.model !== input.model)) {
        throw new Conflict(`corpus "${input.name}" exists over another dataset, id column or model; delete it first`, {
          dataset: existing.dataset,
          id_column: existing.id_column,
          model: existing.model ?? null,
        });
      }
      const { fields, relayout } = await resolveFields(this.deps.rows, input, text, existing);
      // Another set of fields is another lexical index; every row's text changes with it, so the build re-indexes them all.
      if (relayout) {
        await this.deps.lexical.drop(input.name);
        // Opened empty now: the old texts it would be rebuilt from have the old fields.
        await this.deps.lexical.open(input.name, false, lexicalWeights({ fields }));
      }
      rec = { ...existing, text, fields, metadata, state: "building", started_at: now, error: undefined, finished_at: undefined };
    } else {
      // A model the provider cannot serve fails here, as a 400, not later as a failed build.
      if (input.model !== undefined) await this.deps.embed.embed([input.name], input.model);
      // Leftovers of a delete that a crash interrupted must not pass for this corpus's state.
      const index = indexNameFor(input.name);
      await this.deps.corpora.removeHashes(input.name);
      await this.deps.lexical.drop(input.name);
      if (this.deps.vectors.hasIndex(index)) await this.deps.vectors.dropIndex(index);
      const { fields } = await resolveFields(this.deps.rows, input, text);
      rec = {
        name: input.name,
        dataset: input.dataset,
        id_column: input.id_column,
        text,
        fields,
        metadata,
        // Pinned: a corpus keeps its model when the configured provider or index model changes.
        model: input.model ?? this.deps.embed.indexModel,
        index,
        dim: null,
        state: "building",
        rows_total: info.rows,
        rows_done: 0,
        skipped_empty: 0,
        dataset_version: info.version,
        created_at: now,
        started_at: now,
        last_build: { embedded: 0, metadata_updated: 0, unchanged: 0, removed: 0 },
      };
    }
    await this.deps.corpora.save(rec);
    this.records.set(rec.name, rec);
    this.start(rec);
    return { created: !existing, status: this.status(rec.name) };
  }

  private start(rec: CorpusRecord): void {
    const job: Job = { done: Promise.resolve(), cancelled: false };
    rec.started_at = new Date().toISOString();
    job.done = (async () => {
      try {
        const finished = await runBuild(this.deps, rec, () => job.cancelled);
        if (!finished) return;
        rec.state = "ready";
        rec.finished_at = new Date().toISOString();
      } catch (err) {
        rec.state = "failed";
        rec.error = err instanceof Error ? err.message : String(err);
        rec.finished_at = new Date().toISOString();
        this.log.error("corpus build failed", { corpus: rec.name, error: rec.error });
      }
      if (job.cancelled) return;
      await this.deps.corpora.save(rec).catch((err) => this.log.error("could not save corpus state", { corpus: rec.name, error: String(err) }));
      // Published once the final state is saved, so a listener that reads the corpus sees it.
      const built = { name: rec.name, dataset: rec.dataset, state: rec.state as "ready" | "failed", rows: rec.rows_done };
      await this.events.publish("matrix.corpus_built", rec.error !== undefined ? { ...built, error: rec.error } : built);
    })().finally(() => this.jobs.delete(rec.name));
    this.jobs.set(rec.name, job);
  }

  /** Resolves when the corpus's current build (if any) has ended. */
  async settled(name: string): Promise<void> {
    await this.jobs.get(name)?.done;
  }

  private assertNotDamaged(name: string): void {
    if (this.damaged.has(name)) this.require(name);
  }

  async delete(name: string): Promise<CorpusStatus> {
    if (this.damaged.has(name)) return this.deleteDamaged(name);
    const status = this.status(name);
    const rec = this.require(name);
    const job = this.jobs.get(name);
    if (job) {
      job.cancelled = true;
      await job.done;
    }
    await this.deps.corpora.removeRecord(name);
    this.records.delete(name);
    if (this.deps.vectors.hasIndex(rec.index)) await this.deps.vectors.dropIndex(rec.index);
    await this.deps.lexical.drop(name);
    await this.deps.corpora.removeHashes(name);
    return status;
  }

  /**
   * Clears a corpus that could not be loaded: its record, index and hashes go, as in any delete.
   * Its status is unknown, so what is returned is a placeholder in the failed state.
   */
  private async deleteDamaged(name: string): Promise<CorpusStatus> {
    const index = indexNameFor(name);
    await this.deps.corpora.removeRecord(name);
    if (this.indexUnavailable(index) || this.deps.vectors.hasIndex(index)) await this.deps.vectors.dropIndex(index);
    await this.deps.lexical.drop(name);
    await this.deps.corpora.removeHashes(name);
    this.damaged.delete(name);
    const now = new Date().toISOString();
    return {
      name,
      dataset: "",
      state: "failed",
      rows_done: 0,
      rows_total: 0,
      rows_per_s: 0,
      eta_s: 0,
      skipped_empty: 0,
      error: "deleted while unavailable",
      dim: null,
      count: 0,
      pending: 0,
      lexical: { docs: 0 },
      last_build: { embedded: 0, metadata_updated: 0, unchanged: 0, removed: 0 },
      started_at: now,
      finished_at: now,
    };
  }

  async close(): Promise<void> {
    for (const job of this.jobs.values()) job.cancelled = true;
    await Promise.all([...this.jobs.values()].map((j) => j.done));
  }
}
