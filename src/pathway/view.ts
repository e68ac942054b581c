// The read-only SQL view `pathway_traces`: the current version of every trace not forgotten, over
// two NDJSON files in the directory the SQL module lets its workers read. A base file holds every
// trace as of its generation; a delta file holds the traces changed since (and a marker per
// forgotten uid), rewritten at most once per view_refresh_ms after writes. The view reads the base
// minus the uids in the delta, plus the delta. The base is rewritten (a new generation, the view
// republished over it, the old file deleted) when the delta grows past view_delta_max_rows and
// after every FORGET, so forgotten content leaves the files within a refresh.
//
// Files are written under a temporary name and renamed; a large base is written a chunk at a time
// with a turn for the event loop in between.
import { rename, rm, writeFile, open as openFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { quoteLiteral } from "../lib/sql-quote.ts";
import type { PathwayConfig } from "./config.ts";
import type { Memory } from "./memory.ts";
import { SCOPE_FIELDS, type StoredVersion } from "./model.ts";

/** What the SQL module offers for a view over files (src/ports.ts SqlViewPort). */
export interface PathwayViewPort {
  viewDir(owner: "pathway"): string;
  publishView(name: string, select: string): Promise<void>;
  dropView(name: string): Promise<void>;
}

export const VIEW_NAME = "pathway_traces";
const CHUNK_ROWS = 2000;

const COLUMNS: [string, string][] = [
  ["uid", "VARCHAR"],
  ...SCOPE_FIELDS.map((f): [string, string] => [f, "VARCHAR"]),
  ["kind", "VARCHAR"],
  ["content", "VARCHAR"],
  ["data", "JSON"],
  ["tags", "VARCHAR[]"],
  ["version", "BIGINT"],
  ["created_at", "TIMESTAMPTZ"],
  ["updated_at", "TIMESTAMPTZ"],
  ["retired_at", "TIMESTAMPTZ"],
  ["predecessor", "VARCHAR"],
  ["superseded_by", "VARCHAR"],
  ["replay_count", "BIGINT"],
];

function rowOf(v: StoredVersion, replays: number): string {
  const row: Record<string, unknown> = {};
  for (const [name] of COLUMNS) row[name] = name === "replay_count" ? replays : ((v as unknown as Record<string, unknown>)[name] ?? null);
  return `${JSON.stringify(row)}\n`;
}

const readJson = (path: string, extra: [string, string][] = []) =>
  `read_json(${quoteLiteral(path)}, format = 'newline_delimited', columns = {${[...COLUMNS, ...extra]
    .map(([n, t]) => `${quoteLiteral(n)}: ${quoteLiteral(t)}`)
    .join(", ")}})`;

/** The view's SELECT over one base and one delta file. */
export function viewSelect(base: string, delta: string): string {
  const cols = COLUMNS.map(([n]) => n).join(", ");
  return (
    `SELECT ${cols} FROM ${readJson(base)} WHERE uid NOT IN (SELECT uid FROM ${readJson(delta, [["_deleted", "BOOLEAN"]])}) ` +
    `UNION ALL SELECT ${cols} FROM ${readJson(delta, [["_deleted", "BOOLEAN"]])} WHERE NOT _deleted`
  );
}

export class TraceView {
  private readonly dir: string;
  private generation = 0;
  private readonly changed = new Set<string>();
  private forgets = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly port: PathwayViewPort,
    private readonly memory: Memory,
    private readonly config: PathwayConfig,
    private readonly log: Logger,
  ) {
    this.dir = port.viewDir("pathway");
  }

  async open(): Promise<void> {
    await this.rewriteBase();
    this.memory.onDurable = (rec) => {
      for (const v of rec.puts ?? []) this.changed.add(v.uid);
      for (const [uid] of rec.replays ?? []) this.changed.add(uid);
      for (const f of rec.forgets ?? []) {
        this.changed.add(f.uid);
        this.forgets = true;
      }
      this.schedule();
    };
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh(false);
    }, this.config.view_refresh_ms);
  }

  /** Brings the files up to date: the delta, or a new base when asked, after a FORGET, or when the delta is large. */
  async refresh(full: boolean): Promise<void> {
    while (this.running) await this.running;
    this.running = (async () => {
      if (full || this.forgets || this.changed.size > this.config.view_delta_max_rows) await this.rewriteBase();
      else await this.writeDelta();
    })()
      .catch((err) => this.log.error("pathway: view refresh failed", { error: String(err) }))
      .finally(() => {
        this.running = null;
      });
    await this.running;
  }

  private async writeDelta(): Promise<void> {
    const { state } = this.memory;
    let text = "";
    for (const uid of this.changed) {
      const chain = state.chains.get(uid);
      const head = chain?.versions.at(-1);
      text += head ? rowOf(head, chain!.replays).replace(/}\n$/, ',"_deleted":false}\n') : `${JSON.stringify({ uid, _deleted: true })}\n`;
    }
    const path = join(this.dir, `delta-${this.generation}.ndjson`);
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path);
  }

  private async rewriteBase(): Promise<void> {
    const { state } = this.memory;
    const gen = this.generation + 1;
    const base = join(this.dir, `base-${gen}.ndjson`);
    const delta = join(this.dir, `delta-${gen}.ndjson`);
    // Everything changed from here on goes to the new delta.
    this.changed.clear();
    this.forgets = false;
    const fh = await openFile(`${base}.tmp`, "w");
    try {
      let text = "";
      let n = 0;
      for (const chain of state.oldestFirst()) {
        text += rowOf(chain.versions.at(-1)!, chain.replays);
        if (++n % CHUNK_ROWS === 0) {
          await fh.write(text);
          text = "";
        }
      }
      await fh.write(text);
    } finally {
      await fh.close();
    }
    await rename(`${base}.tmp`, base);
    await writeFile(delta, "");
    await this.port.publishView(VIEW_NAME, viewSelect(base, delta));
    const old = this.generation;
    this.generation = gen;
    if (old > 0) {
      await rm(join(this.dir, `base-${old}.ndjson`), { force: true });
      await rm(join(this.dir, `delta-${old}.ndjson`), { force: true });
    }
    // Changes made while the base was written are in the new delta.
    if (this.changed.size > 0) await this.writeDelta();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
