// The dataset catalog: the latest manifest of every dataset, rebuilt from the object store on open.
// Manifests are a versioned store (src/lib/versioned-store.ts): one immutable object per version,
// committed with put-if-absent. Every write goes through `commit`, which runs the whole protocol
// under the dataset's lock: schema and name checks, the caller's staging, the commit, the journal
// append, the catalog.committed event (the SQL views subscribe; they are told before the write
// returns, so a caller's next query sees the change) and the deletion of data objects no version references any more.
import { Conflict, NotFound, Unavailable } from "../errors.ts";
import { EventBus } from "../events.ts";
import { type Committed, VersionedStore } from "../lib/versioned-store.ts";
import type { Logger } from "../log.ts";
import type { ModuleHealth } from "../module.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { Journal } from "./journal.ts";
import { type DataObject, MAX_MANIFEST_BYTES, type Manifest, ManifestSchema, VERSION_DIGITS } from "./manifest.ts";
import { assertDatasetName, assertNotModuleView, DATASET_NAME } from "./names.ts";
import { type Collected, DataCollector } from "./gc.ts";
import { restoreMissingEntries } from "./journal-repair.ts";
import { type Retention, type VersionState, versionStates } from "./retention.ts";
import { manifestOf, withoutHistory } from "./version-record.ts";
import { diffSchemas, type Field, fingerprint } from "./schema.ts";

/** catalog.keep_versions and catalog.keep_days defaults (src/catalog/config.ts). */
export const DEFAULT_RETENTION: Retention = { keepVersions: 10, keepDays: 7 };

/** A new version: these fields and data objects. */
export interface CatalogChangePlan {
  fields: Field[];
  /** An object whose own columns differ from `fields` carries its schema's fingerprint (DataObject.fingerprint). */
  objects: DataObject[];
  /** What the versions listing and the journal record; a dataset's first version is always "register". */
  op: "replace" | "append" | "evolve" | "restore";
  /**
   * The caller checked a change of schema and accepts it (schema=evolve, a restore). Without it
   * the live schema must be kept: Conflict with the diff otherwise.
   */
  schemaChange?: boolean;
  /** Who asks: recorded in the version (src/ops/identity.ts actorOf). */
  actor?: string;
  /** The version a restore copies. */
  restoredFrom?: number;
  /** Runs once the checks passed, just before the commit: e.g. upload the data objects. */
  stage?: () => Promise<void>;
  /** Runs when stage ran but the version was then not committed: e.g. delete what stage uploaded. */
  unstage?: () => Promise<void>;
}

/** Nothing to commit; `unchanged` is handed back to the caller as is. */
export interface CatalogNoChange<T> {
  unchanged: T;
}

/** What `commit` hands back for a plan that answered { unchanged: T }. (A conditional type, so the
 * optional `unchanged` TypeScript adds to object literals of the change branch infers nothing.) */
export type UnchangedOf<P> = P extends { unchanged: infer T } ? T : never;

export type CatalogCommit<T> =
  | { changed: true; manifest: Manifest /** The version it replaced; undefined when the dataset was created. */; previous: Manifest | undefined }
  | { changed: false; unchanged: T };

export class Catalog {
  /** Why restoring the journal at start-up failed, when it did (the catalog serves regardless). */
  private repairFailure: string | null = null;

  private readonly collector: DataCollector;

  private constructor(
    private readonly manifests: VersionedStore<Manifest>,
    store: ObjectStore,
    private readonly journal: Journal,
    private readonly log: Logger,
    private readonly events: EventBus,
    private readonly retention: Retention,
  ) {
    this.collector = new DataCollector(manifests, store, retention, log);
  }

  /** Commits are published as `catalog.committed` on `events` (the SQL views subscribe). */
  static async open(
    store: ObjectStore,
    journal: Journal,
    log: Logger,
    events: EventBus = new EventBus(log),
    retention: Retention = DEFAULT_RETENTION,
  ): Promise<Catalog> {
    const manifests = await VersionedStore.open({
      store,
      prefix: LAYOUT.catalog,
      schema: ManifestSchema,
      log,
      nameOk: (name) => DATASET_NAME.test(name),
      noun: "dataset",
      what: "catalog manifest",
      versionDigits: VERSION_DIGITS,
      maxRecordBytes: MAX_MANIFEST_BYTES,
    });
    return new Catalog(manifests, store, journal, log, events, retention);
  }

  /**
   * Restores journal entries lost to a crash between a manifest commit and its journal append:
   * a latest version newer than the newest journal entry, and not among the last entries, was
   * never journaled. Returns how many entries were written.
   */
  async repairJournal(): Promise<number> {
    try {
      const restored = await restoreMissingEntries(this.manifests, this.journal, this.log);
      this.repairFailure = null;
      return restored;
    } catch (err) {
      // The manifests are the truth and they loaded: a journal that cannot be repaired (its last
      // number used, the store refusing a write) costs the journal's completeness, not the start.
      this.repairFailure = err instanceof Error ? err.message : String(err);
      this.log.error("could not restore missing journal entries; the catalog serves without them", { error: this.repairFailure });
      return 0;
    }
  }

  /** How long versions keep their data (catalog.keep_versions, catalog.keep_days). */
  get retentionPolicy(): Retention {
    return this.retention;
  }

  health(): ModuleHealth {
    const manifests = this.manifests.health();
    const journal = this.journal.health();
    const degraded = manifests.status === "degraded" || journal.skipped.count > 0 || journal.full || this.repairFailure !== null;
    if (!degraded) return { status: "ok", detail: { datasets: manifests.live } };
    const detail: Record<string, unknown> = { datasets: manifests.live };
    if (manifests.unavailable.length > 0) detail.unavailable_datasets = manifests.unavailable;
    if (manifests.skipped.count > 0) detail.skipped_manifests = manifests.skipped;
    if (journal.skipped.count > 0) detail.skipped_journal_entries = journal.skipped;
    if (journal.full) detail.journal_full = true;
    if (this.repairFailure !== null) detail.journal_repair_failed = this.repairFailure;
    return { status: "degraded", detail };
  }

  list(): Manifest[] {
    return this.manifests.records().sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): Manifest | undefined {
    return this.manifests.latest(name) ?? undefined;
  }

  /** The tombstone of a dataset whose newest version is a deletion (SQL names it in its 404). */
  deletion(name: string): Manifest | undefined {
    const head = this.manifests.head(name);
    return head?.deleted ? head : undefined;
  }

  require(name: string): Manifest {
    assertDatasetName(name);
    const m = this.get(name);
    if (m) return m;
    this.assertReadable(name);
    throw new NotFound(`dataset "${name}" not found`);
  }

  /** A dataset whose every version is unreadable is damaged, not absent: 503 until it is deleted or repaired. */
  private assertReadable(name: string): void {
    if (this.manifests.unreadable(name)) {
      throw new Unavailable(
        `dataset "${name}" is unavailable: no version of its manifest could be read at start-up (/health names them); delete it or restore them`,
        {
          dataset: name,
        },
      );
    }
  }

  /**
   * Commits the next version of `name` as `plan` decides from the live manifest, with no other
   * write of `name` in flight in this process. A change must keep the live schema (Conflict with
   * the diff otherwise) and a new dataset may not differ from another only in case; then `stage`
   * runs, the version is committed, journaled and announced, and data objects the previous version
   * had and this one does not are deleted. Conflict when another writer committed first; retry.
   */
  async commit<P extends CatalogChangePlan | CatalogNoChange<unknown>>(
    name: string,
    plan: (live: Manifest | undefined) => P | Promise<P>,
  ): Promise<CatalogCommit<UnchangedOf<P>>> {
    assertDatasetName(name);
    this.assertReadable(name);
    // Refused before anything is staged or committed: a version the journal cannot record is never written.
    this.journal.assertWritable();
    let result: CatalogCommit<UnchangedOf<P>> | undefined;
    let staged: CatalogChangePlan | undefined;
    let committed = false;
    try {
      await this.manifests.commit(
        name,
        async (live, next) => {
          const p: CatalogChangePlan | CatalogNoChange<unknown> = await plan(live ?? undefined);
          if ("unchanged" in p) {
            result = { changed: false, unchanged: p.unchanged as UnchangedOf<P> };
            return null;
          }
          if (!p.schemaChange) this.assertSameSchema(name, live, p.fields);
          if (!live) {
            assertNotModuleView(name);
            this.assertNoCaseTwin(name);
          }
          const manifest = manifestOf(name, p, live, next);
          this.manifests.assertFits(manifest);
          staged = p;
          await p.stage?.();
          return manifest;
        },
        async (c) => {
          committed = true;
          result = { changed: true, manifest: c.record, previous: c.previous ?? undefined };
          await this.published(c);
        },
      );
    } catch (err) {
      if (staged?.unstage && !committed)
        await staged.unstage().catch((e) => this.log.warn("could not undo a failed commit's staging", { dataset: name, error: String(e) }));
      throw err;
    }
    return result!;
  }

  /** Registers an empty dataset; idempotent for the same schema, 409 with a diff for another. */
  async register(name: string, fields: Field[]): Promise<{ manifest: Manifest; created: boolean }> {
    const done = await this.commit(name, (live) => {
      if (!live) return { fields, objects: [], op: "replace" };
      this.assertSameSchema(name, live, fields);
      return { unchanged: live };
    });
    return done.changed ? { manifest: done.manifest, created: true } : { manifest: done.unchanged, created: false };
  }

  /**
   * Deletes a dataset by committing a tombstone version; returns the manifest it had. Its data
   * objects stay while retention keeps the versions that name them, so `restore` can undo it.
   */
  async delete(name: string, actor?: string): Promise<Manifest> {
    assertDatasetName(name);
    this.journal.assertWritable();
    if (this.manifests.unreadable(name)) return this.deleteUnreadable(name, actor);
    const done = await this.manifests.tombstone(
      name,
      (live, next) => ({ ...withoutHistory(live), version: next.version, updated_at: next.now, deleted: true, objects: [], row_count: 0, op: "delete", actor }),
      (c) => this.published(c),
    );
    if (!done?.previous) throw new NotFound(`dataset "${name}" not found`);
    return done.previous;
  }

  /**
   * Deleting a dataset none of whose versions could be read is how an operator clears it: a
   * tombstone above its versions (which stay as history). Its data objects are unknown, so none is
   * deleted. Returns the tombstone.
   */
  private async deleteUnreadable(name: string, actor?: string): Promise<Manifest> {
    const done = await this.manifests.commit(
      name,
      (live, next) => (live ? null : { ...manifestOf(name, { fields: [], objects: [], op: "replace", actor }, null, next), deleted: true, op: "delete" }),
      (c) => this.published(c),
    );
    // null: another writer of this process made it live meanwhile; delete that instead.
    return done ? done.record : this.delete(name, actor);
  }

  /**
   * Every version of `name` newest first (at most `limit`, below `before` when given), with
   * whether its data is retained. A deleted dataset keeps its history: that is how it is restored.
   */
  async versions(name: string, opts: { before?: number; limit?: number } = {}): Promise<VersionState[]> {
    assertDatasetName(name);
    const states = await versionStates(this.manifests, name, this.retention, { all: true });
    if (states.length === 0) throw new NotFound(`dataset "${name}" not found`);
    const below = states.filter((s) => opts.before === undefined || s.version < opts.before);
    return below.slice(0, opts.limit ?? below.length);
  }

  /**
   * A version readable as data: the live one or a retained older one that is not a deletion.
   * NotFound saying why otherwise (no such version, past retention, a deletion).
   */
  async version(name: string, version: number): Promise<Manifest> {
    assertDatasetName(name);
    const live = this.manifests.latest(name);
    if (live?.version === version) return live;
    const states = await versionStates(this.manifests, name, this.retention);
    const state = states.find((s) => s.version === version);
    if (state?.manifest && !state.manifest.deleted) return state.manifest;
    if (state?.manifest?.deleted) throw new NotFound(`version ${version} of dataset "${name}" is its deletion; it has no data`, { dataset: name, version });
    if (state) throw new Unavailable(`version ${version} of dataset "${name}" cannot be read (its manifest is damaged)`, { dataset: name, version });
    const found = await this.manifests.lookup(name, version);
    if (!("problem" in found && found.problem === "missing")) {
      throw new NotFound(
        `version ${version} of dataset "${name}" is past retention (catalog.keep_versions = ${this.retention.keepVersions}, catalog.keep_days = ${this.retention.keepDays}); its data is gone`,
        { dataset: name, version, keep_versions: this.retention.keepVersions, keep_days: this.retention.keepDays },
      );
    }
    throw new NotFound(`dataset "${name}" has no version ${version}`, { dataset: name, version });
  }

  /**
   * Commits a new version equal to `version` (by default the one before the newest: the undo of
   * the last change, a delete included). Nothing is deleted; the journal records a restore.
   */
  async restore(name: string, version: number | undefined, actor?: string): Promise<{ manifest: Manifest; restored_from: number }> {
    assertDatasetName(name);
    const from = version ?? (await this.previousLive(name));
    const target = await this.version(name, from);
    const done = await this.commit(name, () => ({
      fields: target.fields,
      objects: target.objects.map((o) => (o.fingerprint ? o : { ...o, fingerprint: target.fingerprint })),
      op: "restore" as const,
      schemaChange: true,
      restoredFrom: from,
      actor,
    }));
    if (!done.changed) throw new Error("a restore always commits");
    return { manifest: done.manifest, restored_from: from };
  }

  /** The newest version below the newest one that has data: what "undo" restores. */
  private async previousLive(name: string): Promise<number> {
    const states = await versionStates(this.manifests, name, this.retention);
    if (states.length === 0) throw new NotFound(`dataset "${name}" not found`);
    const earlier = states.slice(1).find((s) => s.manifest && !s.manifest.deleted);
    if (!earlier) throw new NotFound(`dataset "${name}" has no earlier version within retention to restore`, { dataset: name });
    return earlier.version;
  }

  /** Deletes the data objects no retained version references: in the background after a commit, or now. */
  collect(name: string): Promise<Collected> {
    return this.collector.collect(name);
  }

  /** Resolves when background collections have ended (tests, shutdown). */
  collectorIdle(): Promise<void> {
    return this.collector.idle();
  }

  /** Collects every dataset: at start-up, for what retention released while down and crash orphans. */
  sweep(): Promise<Collected[]> {
    return this.collector.sweep();
  }

  /**
   * After a commit, under the dataset's lock: journal, the event (its listeners run before the
   * write returns, so the writer's next query sees the new view), then a collection of objects no
   * retained version needs, in the background once the lock is released.
   */
  private async published({ record }: Committed<Manifest>): Promise<void> {
    const { name, dataset_id, version, fingerprint, row_count } = record;
    const op = record.op ?? "replace";
    await this.journal.append({ op, name, dataset_id, version, fingerprint, row_count });
    await this.events.publish("catalog.committed", { name, dataset_id, version, fingerprint, row_count, op, deleted: record.deleted });
    this.collector.schedule(name);
  }

  /** SQL identifiers ignore case, so "People" and "people" would share one view. */
  private assertNoCaseTwin(name: string): void {
    const twin = this.list().find((m) => m.name !== name && m.name.toLowerCase() === name.toLowerCase());
    if (twin) throw new Conflict(`dataset "${twin.name}" exists; names may not differ only in case`, { dataset: twin.name });
  }

  /** Throws Conflict (with the diff in details) when `fields` do not match the live schema. */
  private assertSameSchema(name: string, live: Manifest | null | undefined, fields: readonly Field[]): void {
    if (!live || live.fingerprint === fingerprint(fields)) return;
    throw new Conflict(`dataset "${name}" has a different schema; delete it first to change its schema`, {
      dataset: name,
      expected_fingerprint: live.fingerprint,
      got_fingerprint: fingerprint(fields),
      diff: diffSchemas(live.fields, fields),
    });
  }
}
