// The dataset catalog: the latest manifest of every dataset, rebuilt from the object store on open.
// Writes commit a new immutable manifest version with put-if-absent, then tell listeners (the SQL
// views) before returning, so a caller's next query sees the change.
import { Conflict, NotFound } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ModuleHealth } from "../module.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { Journal } from "./journal.ts";
import { CATALOG_PREFIX, type DataObject, decodeManifest, encodeManifest, type Manifest, manifestKey, parseManifestKey } from "./manifest.ts";
import { assertDatasetName, datasetId } from "./names.ts";
import { diffSchemas, type Field, fingerprint } from "./schema.ts";

/** How many of the newest journal entries are compared with the manifests on open. */
const JOURNAL_REPAIR_WINDOW = 100;

export interface CatalogChange {
  name: string;
  /** The new live manifest, or null when the dataset was deleted. */
  dataset: Manifest | null;
}

export type ChangeListener = (change: CatalogChange) => Promise<void>;

interface Entry {
  /** Latest readable manifest (possibly a tombstone). */
  manifest: Manifest | null;
  /** Highest version number present in the store, readable or not: the next commit goes above it. */
  highest: number;
}

export class Catalog {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners: ChangeListener[] = [];
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly corrupt = new Set<string>();

  private constructor(
    private readonly store: ObjectStore,
    private readonly journal: Journal,
    private readonly log: Logger,
  ) {}

  static async open(store: ObjectStore, journal: Journal, log: Logger): Promise<Catalog> {
    const catalog = new Catalog(store, journal, log);
    const versions = new Map<string, number[]>();
    let cursor: string | undefined;
    do {
      const page = await store.list(CATALOG_PREFIX, { cursor });
      for (const item of page.items) {
        const parsed = parseManifestKey(item.key);
        if (!parsed) continue;
        versions.set(parsed.name, [...(versions.get(parsed.name) ?? []), parsed.version]);
      }
      cursor = page.cursor;
    } while (cursor);
    for (const [name, list] of versions) await catalog.loadEntry(name, list);
    return catalog;
  }

  private async loadEntry(name: string, versions: number[]): Promise<void> {
    const sorted = [...versions].sort((a, b) => b - a);
    let manifest: Manifest | null = null;
    for (const version of sorted) {
      const key = manifestKey(name, version);
      const bytes = await this.store.getBytes(key).catch(() => null);
      manifest = bytes ? decodeManifest(bytes, { name, version }) : null;
      if (manifest) break;
      this.corrupt.add(key);
      this.log.error("skipping corrupt catalog manifest", { key });
    }
    this.entries.set(name, { manifest, highest: sorted[0] ?? 0 });
  }

  /**
   * Restores journal entries lost to a crash between a manifest commit and its journal append:
   * a latest version newer than the newest journal entry, and not among the last entries, was
   * never journaled. Returns how many entries were written.
   */
  async repairJournal(): Promise<number> {
    const tail = await this.journal.read(Math.max(0, this.journal.lastSeq - JOURNAL_REPAIR_WINDOW), JOURNAL_REPAIR_WINDOW);
    const newest = tail.at(-1)?.at ?? "";
    const seen = new Set(tail.map((e) => `${e.name}/${e.version}`));
    const missing = [...this.entries.values()]
      .map((e) => e.manifest)
      .filter((m): m is Manifest => m !== null && m.updated_at > newest && !seen.has(`${m.name}/${m.version}`))
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
    const bytes = await this.store.getBytes(manifestKey(m.name, m.version - 1)).catch(() => null);
    const prev = bytes ? decodeManifest(bytes, { name: m.name, version: m.version - 1 }) : null;
    if (!prev || prev.deleted) return prev ? "register" : "replace";
    const keys = m.objects.map((o) => o.key);
    return prev.objects.length > 0 && prev.objects.every((o, i) => keys[i] === o.key) && keys.length > prev.objects.length ? "append" : "replace";
  }

  private async reload(name: string): Promise<void> {
    const page = await this.store.list(`${CATALOG_PREFIX}${name}/`);
    const versions = page.items.map((i) => parseManifestKey(i.key)?.version).filter((x): x is number => x !== undefined);
    await this.loadEntry(name, versions);
  }

  health(): ModuleHealth {
    let datasets = 0;
    for (const e of this.entries.values()) if (e.manifest && !e.manifest.deleted) datasets++;
    if (this.corrupt.size > 0) return { status: "degraded", detail: { datasets, corrupt_manifests: this.corrupt.size } };
    return { status: "ok", detail: { datasets } };
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  list(): Manifest[] {
    return [...this.entries.values()]
      .map((e) => e.manifest)
      .filter((m): m is Manifest => m !== null && !m.deleted)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): Manifest | undefined {
    const m = this.entries.get(name)?.manifest;
    return m && !m.deleted ? m : undefined;
  }

  require(name: string): Manifest {
    assertDatasetName(name);
    const m = this.get(name);
    if (!m) throw new NotFound(`dataset "${name}" not found`);
    return m;
  }

  /** Runs `fn` with no other mutation of `name` in flight in this process. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.catch(() => {});
    this.locks.set(name, settled);
    void settled.then(() => {
      if (this.locks.get(name) === settled) this.locks.delete(name);
    });
    return run;
  }

  /** SQL identifiers ignore case, so "People" and "people" would share one view. */
  private assertNoCaseTwin(name: string): void {
    const twin = this.list().find((m) => m.name !== name && m.name.toLowerCase() === name.toLowerCase());
    if (twin) throw new Conflict(`dataset "${twin.name}" exists; names may not differ only in case`, { dataset: twin.name });
  }

  /** Throws Conflict (with the diff in details) when `fields` do not match the live schema. */
  assertSameSchema(name: string, fields: readonly Field[]): void {
    const live = this.get(name);
    if (!live || live.fingerprint === fingerprint(fields)) return;
    throw new Conflict(`dataset "${name}" has a different schema; delete it first to change its schema`, {
      dataset: name,
      expected_fingerprint: live.fingerprint,
      got_fingerprint: fingerprint(fields),
      diff: diffSchemas(live.fields, fields),
    });
  }

  /** Registers an empty dataset; idempotent for the same schema, 409 with a diff for another. */
  register(name: string, fields: Field[]): Promise<{ manifest: Manifest; created: boolean }> {
    assertDatasetName(name);
    return this.withLock(name, async () => {
      const live = this.get(name);
      this.assertSameSchema(name, fields);
      if (live) return { manifest: live, created: false };
      return { manifest: await this.commitLocked(name, fields, []), created: true };
    });
  }

  /**
   * Commits a new version with these fields and data objects; call inside withLock. Objects the
   * previous version had and this one does not are deleted afterwards.
   */
  async commitLocked(name: string, fields: Field[], objects: DataObject[], op?: "replace" | "append"): Promise<Manifest> {
    const entry = this.entries.get(name);
    const previous = entry?.manifest && !entry.manifest.deleted ? entry.manifest : null;
    if (!previous) this.assertNoCaseTwin(name);
    const now = new Date().toISOString();
    const manifest: Manifest = {
      format: 1,
      name,
      dataset_id: datasetId(name),
      version: (entry?.highest ?? 0) + 1,
      created_at: previous?.created_at ?? now,
      updated_at: now,
      deleted: false,
      fields,
      fingerprint: fingerprint(fields),
      objects,
      row_count: objects.reduce((n, o) => n + o.rows, 0),
    };
    await this.put(manifest);
    await this.journal.append({
      op: previous ? (op ?? "replace") : "register",
      name,
      dataset_id: manifest.dataset_id,
      version: manifest.version,
      fingerprint: manifest.fingerprint,
      row_count: manifest.row_count,
    });
    await this.notify({ name, dataset: manifest });
    if (previous) await this.deleteUnreferenced(previous.objects, objects);
    return manifest;
  }

  delete(name: string): Promise<Manifest> {
    assertDatasetName(name);
    return this.withLock(name, async () => {
      const live = this.require(name);
      const entry = this.entries.get(name)!;
      const tombstone: Manifest = {
        ...live,
        version: entry.highest + 1,
        updated_at: new Date().toISOString(),
        deleted: true,
        objects: [],
        row_count: 0,
      };
      await this.put(tombstone);
      await this.journal.append({ op: "delete", name, dataset_id: live.dataset_id, version: tombstone.version, fingerprint: live.fingerprint, row_count: 0 });
      await this.notify({ name, dataset: null });
      await this.deleteUnreferenced(live.objects, []);
      return live;
    });
  }

  private async put(manifest: Manifest): Promise<void> {
    const key = manifestKey(manifest.name, manifest.version);
    try {
      await this.store.putIfAbsent(key, encodeManifest(manifest));
    } catch (err) {
      if (err instanceof Conflict) {
        await this.reload(manifest.name);
        throw new Conflict(`dataset "${manifest.name}" was changed by another writer; retry`, { dataset: manifest.name, version: manifest.version });
      }
      throw err;
    }
    this.entries.set(manifest.name, { manifest, highest: manifest.version });
  }

  private async notify(change: CatalogChange): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(change);
      } catch (err) {
        this.log.error("catalog listener failed", { dataset: change.name, error: String(err) });
      }
    }
  }

  private async deleteUnreferenced(before: readonly DataObject[], after: readonly DataObject[]): Promise<void> {
    const keep = new Set(after.map((o) => o.key));
    for (const o of before) {
      if (keep.has(o.key)) continue;
      await this.store.delete(o.key).catch((err) => this.log.warn("could not delete a replaced data object", { key: o.key, error: String(err) }));
    }
  }
}
