// The read-only SQL view `observer_events` (id, ts, source, kind, run_id, level, payload as JSON
// text) over files in the observer's view directory: the local copy of every archive, listed by
// name, and the hot events as small NDJSON chunks hot/<first>-<last>.ndjson read through a glob.
// A chunk with the events made durable since the last one is written (temp name, then rename) at
// most once per view_refresh_ms, so the view is current within about a second without republishing:
// the glob picks up new chunks at query time. An empty sentinel chunk keeps the glob from matching
// nothing (DuckDB refuses an empty glob).
//
// After an archive, the view is republished over the archives plus the hot glob filtered to
// `id > cut` before the chunks the archive covers are deleted, so a query never sees an event twice
// or misses one.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { quoteLiteral } from "../lib/sql-quote.ts";
import type { SqlViewPort } from "../ports.ts";
import { eventsNdjson, localArchivePath, type Manifest } from "./archive.ts";
import type { ObsEvent } from "./model.ts";

export const VIEW_NAME = "observer_events";
const SENTINEL = "_empty.ndjson";
const COLUMNS: [string, string][] = [
  ["id", "BIGINT"],
  ["ts", "TIMESTAMPTZ"],
  ["source", "VARCHAR"],
  ["kind", "VARCHAR"],
  ["run_id", "VARCHAR"],
  ["level", "VARCHAR"],
  ["payload", "JSON"],
];
const COLS = COLUMNS.map(([n]) => n).join(", ");

const readJson = (files: string) =>
  `read_json(${files}, format = 'newline_delimited', columns = {${COLUMNS.map(([n, t]) => `${quoteLiteral(n)}: ${quoteLiteral(t)}`).join(", ")}})`;

/** The view's SELECT over the archive copies and the hot chunks after `cut`. */
export function viewSelect(dir: string, m: Manifest): string {
  const hot = `SELECT ${COLS} FROM ${readJson(quoteLiteral(join(dir, "hot", "*.ndjson")))} WHERE id > ${m.seq}`;
  if (m.archives.length === 0) return hot;
  const files = `[${m.archives.map((a) => quoteLiteral(localArchivePath(dir, a.name))).join(", ")}]`;
  return `SELECT ${COLS} FROM ${readJson(files)} UNION ALL ${hot}`;
}

export class EventView {
  private readonly dir: string;
  private readonly hotDir: string;
  private buffered: ObsEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly port: SqlViewPort,
    private readonly refreshMs: number,
    private readonly log: Logger,
  ) {
    this.dir = port.viewDir("observer");
    this.hotDir = join(this.dir, "hot");
  }

  get directory(): string {
    return this.dir;
  }

  /** Clears old chunks; the store's replay then hands every hot event to `add`. */
  prepare(): void {
    rmSync(this.hotDir, { recursive: true, force: true });
    mkdirSync(this.hotDir, { recursive: true });
    writeFileSync(join(this.hotDir, SENTINEL), "");
  }

  /** Why the view could not be published (a dataset took its name), for health; null when it is current. */
  error: string | null = null;

  async publish(m: Manifest): Promise<void> {
    if (!existsSync(join(this.hotDir, SENTINEL))) this.prepare();
    try {
      await this.port.publishView(VIEW_NAME, viewSelect(this.dir, m));
      this.error = null;
    } catch (err) {
      // Events stay durable and listable; only SQL access is missing, and health says why.
      this.error = err instanceof Error ? err.message : String(err);
      this.log.error("observer: the SQL view could not be published", { error: this.error });
      return;
    }
    // Chunks wholly at or below the cut are archived now, and the published view skips them.
    for (const f of readdirSync(this.hotDir)) {
      const m2 = /^\d{16}-(\d{16})\.ndjson$/.exec(f);
      if (m2 && Number(m2[1]) <= m.seq) rmSync(join(this.hotDir, f), { force: true });
    }
  }

  add(events: readonly ObsEvent[]): void {
    for (const e of events) this.buffered.push(e);
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.refreshMs);
  }

  /** Writes the buffered events as a new chunk now. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.buffered.length === 0) return;
    const events = this.buffered;
    this.buffered = [];
    this.running = (async () => {
      const name = `${String(events[0]!.id).padStart(16, "0")}-${String(events.at(-1)!.id).padStart(16, "0")}.ndjson`;
      const path = join(this.hotDir, name);
      await writeFile(`${path}.tmp`, eventsNdjson(events));
      await rename(`${path}.tmp`, path);
    })()
      .catch((err) => this.log.error("observer: view refresh failed", { error: String(err) }))
      .finally(() => {
        this.running = null;
      });
    await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }
}
