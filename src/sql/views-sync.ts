// Keeps one DuckDB view per dataset in step with the catalog: created on open, replaced on each
// commit, dropped on delete. A view that cannot be built (an object missing from the store, say) is
// remembered as failed so health reports it, and retried on the dataset's next commit.
import type { Manifest } from "../catalog/manifest.ts";
import type { Logger } from "../log.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { SqlEngine } from "./engine.ts";
import { createViewSql, dropViewSql } from "./views.ts";

/** Where DuckDB reads a dataset object: the store's own file (fs) or the local cache (s3). */
export type LocalPath = (key: string) => Promise<string> | string;

export class ViewSync {
  private readonly failed = new Set<string>();

  constructor(
    private readonly engine: SqlEngine,
    private readonly localPath: LocalPath,
    private readonly log: Logger,
  ) {}

  /** Datasets whose view could not be built. */
  get failedCount(): number {
    return this.failed.size;
  }

  /** Creates or replaces the dataset's view; a failure is logged and counted, never thrown. */
  async apply(m: Manifest): Promise<void> {
    try {
      const paths = await Promise.all(m.objects.map((o) => this.pathFor(m, o.key)));
      await this.engine.ddl(createViewSql(m.name, m.fields, paths));
      this.failed.delete(m.name);
    } catch (err) {
      this.failed.add(m.name);
      this.log.error("could not create the SQL view for a dataset", { dataset: m.name, error: String(err) });
    }
  }

  async drop(name: string): Promise<void> {
    this.failed.delete(name);
    await this.engine.ddl(dropViewSql(name));
  }

  private pathFor(m: Manifest, key: string): Promise<string> | string {
    // A manifest naming an object outside its own folder would let a view read another dataset.
    if (!key.startsWith(`${LAYOUT.datasets}${m.name}/`)) throw new Error(`dataset "${m.name}" references an object outside its prefix`);
    return this.localPath(key);
  }
}
