// Views over files other modules write themselves (pathway_traces, observer_events): the owner
// writes its files into its own directory, which the SQL workers may read, and publishes the
// SELECT over them; the view is created in every worker (and replayed into new ones) like a
// dataset's. A view may not take a dataset's name, and a dataset may not be read through one.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Conflict } from "../errors.ts";
import type { SqlViewPort } from "../ports.ts";
import type { SqlEngine } from "./engine.ts";
import { quoteIdent } from "./views.ts";

/** Names a derived view may have: a SQL identifier, and no "@" (time travel's). */
const VIEW_NAME = /^[a-z][a-z0-9_]{0,62}$/;

export class DerivedViews implements SqlViewPort {
  private readonly published = new Set<string>();

  constructor(
    private readonly engine: Pick<SqlEngine, "setView" | "dropView">,
    /** A directory the SQL workers may read; each owner gets a folder below it. */
    private readonly base: string,
    /** Whether a dataset of this name exists (case-insensitive, as SQL identifiers are). */
    private readonly isDataset: (name: string) => boolean,
  ) {}

  viewDir(owner: "pathway" | "observer"): string {
    const dir = join(this.base, owner);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  async publishView(name: string, select: string): Promise<void> {
    if (!VIEW_NAME.test(name)) throw new Error(`invalid derived view name ${JSON.stringify(name)}`);
    if (this.isDataset(name)) throw new Conflict(`a dataset named "${name}" exists; the view "${name}" cannot be published`, { dataset: name });
    await this.engine.setView(name, `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS ${select}`);
    this.published.add(name);
  }

  async dropView(name: string): Promise<void> {
    if (!this.published.delete(name)) return;
    await this.engine.dropView(name, `DROP VIEW IF EXISTS ${quoteIdent(name)}`);
  }

  /** Whether `name` is a published derived view (a dataset of that name is then refused by the catalog's caller). */
  has(name: string): boolean {
    return this.published.has(name.toLowerCase());
  }
}
