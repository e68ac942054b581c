// Keeps one DuckDB view per dataset in step with the catalog, in every SQL worker: created on open,
// replaced on each commit, dropped on delete. A view that cannot be built (an object missing from
// the store, say), or whose files went missing later, is remembered as failed so health reports it
// at once, and retried on the dataset's next commit.
import type { Manifest } from "../catalog/manifest.ts";
import type { Logger } from "../log.ts";
import { LAYOUT } from "../storage/layout.ts";
import type { SqlEngine } from "./engine.ts";
import { createViewSql, dropViewSql, versionViewName } from "./views.ts";

/** Where DuckDB reads a dataset object: the store's own file (fs) or the local cache (s3). */
export type LocalPath = (key: string) => Promise<string> | string;

export class ViewSync {
  private readonly failed = new Set<string>();
  private readonly missing = new Set<string>();

  constructor(
    private readonly engine: Pick<SqlEngine, "setView" | "dropView">,
    private readonly localPath: LocalPath,
    private readonly log: Logger,
  ) {}

  /** Datasets whose view could not be built. */
  get failedCount(): number {
    return this.failed.size;
  }

  /** Whether the dataset's view could not be built (it does not exist in the workers). */
  isFailed(name: string): boolean {
    return this.failed.has(name);
  }

  /** Datasets whose files a statement found missing since their last commit. */
  get missingData(): string[] {
    return [...this.missing];
  }

  /** Creates or replaces the dataset's view; a failure is logged and counted, never thrown. */
  async apply(m: Manifest): Promise<void> {
    try {
      await this.engine.setView(m.name, await this.viewSql(m.name, m));
      this.failed.delete(m.name);
      this.missing.delete(m.name);
    } catch (err) {
      this.markFailed(m.name, String(err));
    }
  }

  /**
   * Creates the view "name@version" over an earlier version (time travel). Unlike `apply`, a
   * failure is the caller's to report: the statement that asked for it fails.
   */
  async applyVersion(m: Manifest): Promise<void> {
    const view = versionViewName(m.name, m.version);
    await this.engine.setView(view, await this.viewSql(view, m));
  }

  async dropVersion(name: string, version: number): Promise<void> {
    const view = versionViewName(name, version);
    await this.engine.dropView(view, dropViewSql(view));
  }

  private async viewSql(view: string, m: Manifest): Promise<string> {
    const paths = await Promise.all(m.objects.map((o) => this.pathFor(m, o.key)));
    // An object noted with another schema's fingerprint was written before the schema changed.
    const byName = m.objects.some((o) => o.fingerprint !== undefined && o.fingerprint !== m.fingerprint);
    return createViewSql(view, m.fields, paths, byName);
  }

  /** A view that failed outside `apply` (replayed into a new worker). */
  markFailed(name: string, error: string): void {
    this.failed.add(name);
    this.log.error("could not create the SQL view for a dataset", { dataset: name, error });
  }

  /** A statement found the dataset's files gone: health says so until the dataset is written again. */
  markMissing(name: string): void {
    if (!this.missing.has(name)) this.log.error("a dataset's data files are missing from the store", { dataset: name });
    this.missing.add(name);
  }

  async drop(name: string): Promise<void> {
    this.failed.delete(name);
    this.missing.delete(name);
    await this.engine.dropView(name, dropViewSql(name));
  }

  private pathFor(m: Manifest, key: string): Promise<string> | string {
    // A manifest naming an object outside its own folder would let a view read another dataset.
    if (!key.startsWith(`${LAYOUT.datasets}${m.name}/`)) throw new Error(`dataset "${m.name}" references an object outside its prefix`);
    return this.localPath(key);
  }
}
