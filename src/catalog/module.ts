// The catalog module: the journal and the catalog, rehydrated from the object store.
import type { ApiSpec } from "../http/openapi.ts";
import type { Logger } from "../log.ts";
import type { Module } from "../module.ts";
import type { ObjectStore } from "../storage/store.ts";
import { Catalog } from "./catalog.ts";
import { Journal } from "./journal.ts";
import { catalogRoutes } from "./routes.ts";

export interface CatalogModule extends Module {
  readonly catalog: Catalog;
  readonly journal: Journal;
}

export async function openCatalog(store: ObjectStore, log: Logger, api: ApiSpec, jsonLimit: number): Promise<CatalogModule> {
  const journal = await Journal.open(store, log);
  const catalog = await Catalog.open(store, journal, log);
  await catalog.repairJournal();
  return {
    name: "catalog",
    catalog,
    journal,
    router: catalogRoutes(catalog, journal, api, jsonLimit),
    health: () => catalog.health(),
    close: async () => {},
  };
}
