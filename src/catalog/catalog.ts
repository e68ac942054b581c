// The dataset catalog: the latest manifest of every dataset, rebuilt from the object store on open.
// Manifests are a versioned store (src/lib/versioned-store.ts): one immutable object per version,
// committed with put-if-absent. Every write goes through `commit`, which runs the whole protocol
// under the dataset's lock: schema and name checks, the caller's staging, the commit, the journal
// append, the catalog.committed event (the SQL views subscribe; they are told before the write
// returns, so a caller's next query sees the change) and the deletion of data objects no version references any more.
import { Conflict, NotFound, Unavailable } from "../errors.ts";
import { EventBus } from "../events.ts";
import { type Committed, type Next, VersionedStore } from "../lib/versioned-store.ts";
import type { Logger } from "../log.ts";
import type { ModuleHealth } from "../module.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { Journal } from "./journal.ts";
import { type DataObject, MAX_MANIFEST_BYTES, type Manifest, ManifestSchema, VERSION_DIGITS } from "./manifest.ts";
import { assertDatasetName, DATASET_NAME, datasetId } from "./names.ts";
import { diffSchemas, type Field, fingerprint } from "./schema.ts";

/** How many of the newest journal entries are compared with the manifests on open. */
const JOURNAL_REPAIR_WINDOW = 100;

/** A new version: these fields and data objects. */
export interface CatalogChangePlan {
  fields: Field[];
  objects: DataObject[];
  /** What the journal records; a dataset's first version is always journaled as "register". */
  op: "replace" | "append";
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

  private constructor(
    private readonly manifests: VersionedStore<Manifest>,
    private readonly store: ObjectStore,
    private readonly journal: Journal,
    private readonly log: Logger,
    private readonly events: EventBus,
  ) {}

  /** Commits are published as `catalog.committed` on `events` (the SQL views subscribe). */
  static async open(store: ObjectStore, journal: Journal, log: Logger, events: EventBus = new EventBus(log)): Promise<Catalog> {
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
    return new Catalog(manifests, store, journal, log, events);
  }

  /**
   * Restores journal entries lost to a crash between a manifest commit and its journal append:
   * a latest version newer than the newest journal entry, and not among the last entries, was
   * never journaled. Returns how many entries were written.
   */
  async repairJournal(): Promise<number> {
    try {
      const restored = await this.restoreJournal();
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

  private async restoreJournal(): Promise<number> {
    const tail = await this.journal.read(Math.max(0, this.journal.lastSeq - JOURNAL_REPAIR_WINDOW), JOURNAL_REPAIR_WINDOW);
    const newest = tail.at(-1)?.at ?? "";
    const seen = new Set(tail.map((e) => `${e.name}/${e.version}`));
    const missing = this.manifests
      .records({ tombstones: true })
      .filter((m) => m.updated_at > newest && !seen.has(`${m.name}/${m.version}`))
      .sort((a, b) => a.updated_at.localeCompare(b.updated_at));
    for (const m of missing) {
      const op = m.deleted ? "delete" : await this.inferOp(m);
      await this.journal.append({ op, name: m.name, dataset_id: m.dataset_id, version: m.version, fingerprint: m.fingerprint, row_count: m.row_count });
      this.log.warn("restored the journal entry of a committed catalog version", { dataset: m.name, version: m.version, op });
    }
    return missing.length;
  }

  private async inferOp(m: Manifest): Promise<"register" | "replace" | "append"> {
    if (m.version === 1) return "register";
    const prev = await this.manifests.get(m.name, m.version - 1).catch(() => null);
    if (!prev || prev.deleted) return prev ? "register" : "replace";
    const keys = m.objects.map((o) => o.key);
    return prev.objects.length > 0 && prev.objects.every((o, i) => keys[i] === o.key) && keys.length > prev.objects.length ? "append" : "replace";
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
          this.assertSameSchema(name, live, p.fields);
          if (!live) this.assertNoCaseTwin(name);
          const manifest = manifestOf(name, p.fields, p.objects, live, next);
          this.manifests.assertFits(manifest);
          staged = p;
          await p.stage?.();
          return manifest;
        },
        async (c) => {
          committed = true;
          result = { changed: true, manifest: c.record, previous: c.previous ?? undefined };
          await this.published(c, c.previous ? staged!.op : "register");
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

  /** Deletes a dataset by committing a tombstone version; returns the manifest it had. */
  async delete(name: string): Promise<Manifest> {
    assertDatasetName(name);
    this.journal.assertWritable();
    if (this.manifests.unreadable(name)) return this.deleteUnreadable(name);
    const done = await this.manifests.tombstone(
      name,
      (live, next) => ({ ...live, version: next.version, updated_at: next.now, deleted: true, objects: [], row_count: 0 }),
      (c) => this.published(c, "delete"),
    );
    if (!done?.previous) throw new NotFound(`dataset "${name}" not found`);
    return done.previous;
  }

  /**
   * Deleting a dataset none of whose versions could be read is how an operator clears it: a
   * tombstone above its versions (which stay as history). Its data objects are unknown, so none is
   * deleted. Returns the tombstone.
   */
  private async deleteUnreadable(name: string): Promise<Manifest> {
    const done = await this.manifests.commit(
      name,
      (live, next) => (live ? null : { ...manifestOf(name, [], [], null, next), deleted: true }),
      (c) => this.published(c, "delete"),
    );
    // null: another writer of this process made it live meanwhile; delete that instead.
    return done ? done.record : this.delete(name);
  }

  /**
   * After a commit, under the dataset's lock: journal, the event (its listeners run before the
   * write returns, so the writer's next query sees the new view), then the unreferenced objects.
   */
  private async published({ record, previous }: Committed<Manifest>, op: "register" | "replace" | "append" | "delete"): Promise<void> {
    const { name, dataset_id, version, fingerprint, row_count } = record;
    await this.journal.append({ op, name, dataset_id, version, fingerprint, row_count });
    await this.events.publish("catalog.committed", { name, dataset_id, version, fingerprint, row_count, op, deleted: record.deleted });
    if (previous) await this.deleteUnreferenced(previous.objects, record.objects);
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

  private async deleteUnreferenced(before: readonly DataObject[], after: readonly DataObject[]): Promise<void> {
    const keep = new Set(after.map((o) => o.key));
    for (const o of before) {
      if (keep.has(o.key)) continue;
      await this.store.delete(o.key).catch((err) => this.log.warn("could not delete a replaced data object", { key: o.key, error: String(err) }));
    }
  }
}

function manifestOf(name: string, fields: Field[], objects: DataObject[], live: Manifest | null, next: Next): Manifest {
  return {
    format: 1,
    name,
    dataset_id: datasetId(name),
    version: next.version,
    created_at: live?.created_at ?? next.now,
    updated_at: next.now,
    deleted: false,
    fields,
    fingerprint: fingerprint(fields),
    objects,
    row_count: objects.reduce((n, o) => n + o.rows, 0),
  };
}
