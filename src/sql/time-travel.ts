// Time travel: `select count(*) from "workers@3"` reads version 3 of workers. Before a statement
// runs, every quoted "name@version" in it is resolved through the catalog (the live version or a
// retained earlier one) and a view of that name is created in the workers on first use. A version
// the catalog refuses (past retention, a deletion, never existed) fails the statement with the
// catalog's own words, and a view made earlier for a version since released is dropped, so no
// statement reads a file the collector has deleted.
import type { Catalog } from "../catalog/catalog.ts";
import type { ViewSync } from "./views-sync.ts";
import { versionViewName } from "./views.ts";

/** A quoted identifier "name@version"; dataset names are letters, digits and _ (src/catalog/names.ts). */
const VERSION_REF = /"([A-Za-z][A-Za-z0-9_]{0,62})@([1-9]\d{0,15})"/g;

export type VersionCatalog = Pick<Catalog, "version">;

export class VersionViews {
  /** Version views created in the workers. */
  private readonly made = new Set<string>();

  constructor(
    private readonly catalog: VersionCatalog,
    private readonly views: Pick<ViewSync, "applyVersion" | "dropVersion">,
  ) {}

  /** The versions `sql` names, as [name, version] pairs (each once). */
  static refs(sql: string): [string, number][] {
    if (!sql.includes("@")) return [];
    const seen = new Map<string, [string, number]>();
    for (const m of sql.matchAll(VERSION_REF)) seen.set(`${m[1]}@${m[2]}`, [m[1]!, Number(m[2])]);
    return [...seen.values()];
  }

  /** Makes sure every version `sql` names has its view; throws the catalog's error for one it cannot have. */
  async prepare(sql: string): Promise<void> {
    for (const [name, version] of VersionViews.refs(sql)) {
      const view = versionViewName(name, version);
      let manifest: Awaited<ReturnType<VersionCatalog["version"]>>;
      try {
        manifest = await this.catalog.version(name, version);
      } catch (err) {
        if (this.made.delete(view)) await this.views.dropVersion(name, version);
        throw err;
      }
      if (this.made.has(view)) continue;
      await this.views.applyVersion(manifest);
      this.made.add(view);
    }
  }
}
