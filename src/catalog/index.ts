// The catalog module: the journal and the catalog, rehydrated from the object store; its
// operations go into the registry. Start-up also collects data objects no retained version needs
// (what retention released while the server was down, and orphans of a crash mid-ingest), in the
// background: every collection holds its dataset's lock, so it never races a commit.
import type { Module, ModuleContext } from "../module.ts";
import { Catalog } from "./catalog.ts";
import type { CatalogConfig } from "./config.ts";
import { Journal } from "./journal.ts";
import { catalogOperations } from "./operations.ts";

export type { CatalogConfig } from "./config.ts";

export interface CatalogModule extends Module {
  readonly catalog: Catalog;
  readonly journal: Journal;
  /** The start-up collection; resolves when it has ended (tests). */
  readonly swept: Promise<void>;
}

export async function open(ctx: ModuleContext<CatalogConfig>): Promise<CatalogModule> {
  const journal = await Journal.open(ctx.store, ctx.log);
  const retention = { keepVersions: ctx.config.keep_versions, keepDays: ctx.config.keep_days };
  const catalog = await Catalog.open(ctx.store, journal, ctx.log, ctx.events, retention);
  await catalog.repairJournal();
  ctx.ops.register(...catalogOperations(catalog, journal));
  const swept = catalog.sweep().then(
    (done) => {
      const objects = done.reduce((n, c) => n + c.deleted.length, 0);
      if (objects > 0)
        ctx.log.info("start-up collection deleted unreferenced data objects", { datasets: done.filter((c) => c.deleted.length).length, objects });
    },
    (err) => ctx.log.warn("the start-up collection of data objects failed; it runs again after each commit", { error: String(err) }),
  );
  return {
    name: "catalog",
    catalog,
    journal,
    swept,
    health: () => catalog.health(),
    close: async () => {
      await swept;
      await catalog.collectorIdle();
    },
  };
}
