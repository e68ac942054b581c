// Garbage collection of data objects: anything under datasets/<name>/ that no retained version of
// <name> references is deleted — objects of versions past retention, and orphans a crash left
// between writing an object and committing the version that would have named it. It runs under
// the dataset's lock, and every write under datasets/<name>/ (an ingest's staging) happens under
// that lock too, so an in-flight ingest's object is never taken for an orphan. It never deletes
// when it cannot know what a retained version needs (an unreadable manifest in the window).
import type { VersionedStore } from "../lib/versioned-store.ts";
import { listAll } from "../lib/list-all.ts";
import type { Logger } from "../log.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { Manifest } from "./manifest.ts";
import { DATASET_NAME } from "./names.ts";
import { type Retention, versionStates } from "./retention.ts";

export interface Collected {
  name: string;
  deleted: string[];
  /** Why nothing was deleted although objects may be unreferenced. */
  held?: string;
}

export class DataCollector {
  /** Datasets with a collection queued or running, and the promise that ends it. */
  private readonly queued = new Map<string, Promise<void>>();

  constructor(
    private readonly manifests: VersionedStore<Manifest>,
    private readonly store: ObjectStore,
    private readonly retention: Retention,
    private readonly log: Logger,
  ) {}

  /** Collects `name` in the background once the current commit has released the lock; repeated requests coalesce. */
  schedule(name: string): void {
    if (this.queued.has(name)) return;
    const run = Promise.resolve()
      .then(() => this.collect(name))
      .then(
        () => {},
        (err) => this.log.warn("could not collect a dataset's unreferenced data objects", { dataset: name, error: String(err) }),
      )
      .finally(() => this.queued.delete(name));
    this.queued.set(name, run);
  }

  /** Resolves when every scheduled collection has ended. */
  async idle(): Promise<void> {
    while (this.queued.size > 0) await Promise.all(this.queued.values());
  }

  /** Deletes the unreferenced data objects of one dataset; returns what it deleted. */
  collect(name: string): Promise<Collected> {
    return this.manifests.locked(name, async () => {
      if (this.manifests.unreadable(name)) return { name, deleted: [], held: "no version of its manifest could be read" };
      const states = await versionStates(this.manifests, name, this.retention);
      if (states.some((s) => s.retained && !s.manifest)) {
        this.log.warn("a retained version of a dataset is unreadable: its data objects are all kept", { dataset: name });
        return { name, deleted: [], held: "a retained version is unreadable" };
      }
      const keep = new Set(states.flatMap((s) => s.manifest?.objects.map((o) => o.key) ?? []));
      const deleted: string[] = [];
      for await (const item of listAll(this.store, `${LAYOUT.datasets}${name}/`)) {
        if (keep.has(item.key)) continue;
        await this.store.delete(item.key);
        deleted.push(item.key);
      }
      if (deleted.length > 0) this.log.info("deleted data objects no retained version references", { dataset: name, objects: deleted.length });
      return { name, deleted };
    });
  }

  /** Collects every dataset with objects in the store (start-up): what retention let go while the server was down, and crash orphans. */
  async sweep(): Promise<Collected[]> {
    const names = new Set<string>();
    for await (const item of listAll(this.store, LAYOUT.datasets)) {
      const name = item.key.slice(LAYOUT.datasets.length).split("/")[0]!;
      if (DATASET_NAME.test(name)) names.add(name);
    }
    const out: Collected[] = [];
    for (const name of names) {
      try {
        out.push(await this.collect(name));
      } catch (err) {
        this.log.warn("could not collect a dataset's unreferenced data objects", { dataset: name, error: String(err) });
      }
    }
    return out;
  }
}
