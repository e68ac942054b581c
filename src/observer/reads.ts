// Reading events: newest first with filters and a cursor (the last id seen), from the hot events
// in memory and then the archives, newest first; and the stats, from running counts.
import type { ObjectStore } from "../storage/store.ts";
import { type ArchiveEntry, readArchive } from "./archive.ts";
import type { EventStore } from "./event-store.ts";
import type { ObsEvent } from "./model.ts";

export interface ListInput {
  source?: string;
  kind?: string;
  run_id?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

/** Archives read for one page at most: a sparse filter over a long history answers in parts (next_cursor). */
const MAX_ARCHIVES_PER_PAGE = 8;
export const DEFAULT_LIMIT = 100;

export class EventReader {
  /** The last archive read, decoded: paging through one archive reads it once. */
  private cached: { name: string; events: ObsEvent[] } | null = null;

  constructor(
    private readonly events: EventStore,
    private readonly store: ObjectStore,
    private readonly viewDir: string,
  ) {}

  async list(input: ListInput): Promise<{ events: ObsEvent[]; next_cursor: string | null }> {
    const limit = input.limit ?? DEFAULT_LIMIT;
    const before = input.cursor === undefined ? Number.POSITIVE_INFINITY : Number(input.cursor);
    const since = input.since ? new Date(input.since).toISOString() : undefined;
    const until = input.until ? new Date(input.until).toISOString() : undefined;
    const match = (e: ObsEvent) =>
      e.id < before &&
      (input.source === undefined || e.source === input.source) &&
      (input.kind === undefined || e.kind === input.kind) &&
      (input.run_id === undefined || e.run_id === input.run_id) &&
      (since === undefined || e.ts >= since) &&
      (until === undefined || e.ts < until);
    const out: ObsEvent[] = [];
    const hot = this.events.hot;
    for (let i = hot.length - 1; i >= 0 && out.length < limit; i--) {
      const e = hot[i]!;
      if (match(e)) out.push(e);
    }
    if (out.length === limit) return { events: out, next_cursor: String(out.at(-1)!.id) };
    const archives = this.events.archives();
    let scanned = 0;
    for (let a = archives.length - 1; a >= 0; a--) {
      const entry = archives[a]!;
      if (entry.first >= before) continue;
      if ((since !== undefined && entry.max_ts < since) || (until !== undefined && entry.min_ts >= until)) continue;
      if (input.source !== undefined && !entry.counts.by_source[input.source]) continue;
      if (input.kind !== undefined && !entry.counts.by_kind[input.kind]) continue;
      if (scanned === MAX_ARCHIVES_PER_PAGE) return { events: out, next_cursor: String(entry.last + 1) };
      scanned++;
      const events = await this.read(entry);
      for (let i = events.length - 1; i >= 0 && out.length < limit; i--) if (match(events[i]!)) out.push(events[i]!);
      if (out.length === limit) return { events: out, next_cursor: String(out.at(-1)!.id) };
    }
    return { events: out, next_cursor: null };
  }

  private async read(entry: ArchiveEntry): Promise<ObsEvent[]> {
    if (this.cached?.name !== entry.name) this.cached = { name: entry.name, events: await readArchive(this.store, this.viewDir, entry) };
    return this.cached.events;
  }

  /** Every retained event matching `keep`, oldest first (distillation). */
  async *all(keep: (e: ObsEvent) => boolean): AsyncGenerator<ObsEvent> {
    for (const entry of this.events.archives()) for (const e of await readArchive(this.store, this.viewDir, entry)) if (keep(e)) yield e;
    for (const e of this.events.hot.slice()) if (keep(e)) yield e;
  }

  stats(now: number) {
    const t = this.events.totals().toJSON();
    const lastMinute = this.events.rate.sum(60, now);
    const lastHour = this.events.rate.sum(3600, now);
    return {
      total: t.total,
      by_source: t.by_source,
      by_kind: t.by_kind,
      errors: { total: Object.values(t.errors_by_source).reduce((a, b) => a + b, 0), by_source: t.errors_by_source },
      last_seen: t.last_seen,
      per_minute: { last_minute: lastMinute, last_hour: Math.round((lastHour / 60) * 100) / 100 },
      hot_events: this.events.hot.length,
      archives: this.events.archives().length,
      pending: this.events.pending,
    };
  }
}
