// The catalog module: the journal and the catalog, rehydrated from the object store; its
// operations go into the registry.
import type { Module, ModuleContext } from "../module.ts";
import { Catalog } from "./catalog.ts";
import { Journal } from "./journal.ts";
import { catalogOperations } from "./operations.ts";

export interface CatalogModule extends Module {
  readonly catalog: Catalog;
  readonly journal: Journal;
}

export async function open(ctx: ModuleContext<unknown>): Promise<CatalogModule> {
  const journal = await Journal.open(ctx.store, ctx.log);
  const catalog = await Catalog.open(ctx.store, journal, ctx.log, ctx.events);
  await catalog.repairJournal();
  ctx.ops.register(...catalogOperations(catalog, journal));
  return {
    name: "catalog",
    catalog,
    journal,
    health: () => catalog.health(),
    close: async () => {},
  };
}
