// The durable mutation journal: one immutable object per entry at _journal/<seq>.json, created with
// put-if-absent. The object store holds the truth, so sequence numbers continue after a restart
// and two processes on one bucket never hand out the same number.
import * as v from "valibot";
import { Conflict } from "../errors.ts";
import { KeyedLock } from "../lib/keyed-lock.ts";
import { listAll } from "../lib/list-all.ts";
import { readJson } from "../lib/read-json.ts";
import type { Logger } from "../log.ts";
import { LAYOUT } from "../storage/layout.ts";
import { encodeCursor, type ObjectStore } from "../storage/store.ts";

const SEQ_DIGITS = 16;
const COMMIT_ATTEMPTS = 20;

const JournalOp = v.picklist(["register", "replace", "append", "delete"]);

export const JournalEntrySchema = v.object({
  seq: v.number(),
  at: v.string(),
  op: JournalOp,
  name: v.string(),
  dataset_id: v.string(),
  version: v.number(),
  fingerprint: v.string(),
  row_count: v.number(),
});

export type JournalEntry = v.InferOutput<typeof JournalEntrySchema>;
export type JournalInput = Omit<JournalEntry, "seq" | "at">;

function journalKey(seq: number): string {
  return `${LAYOUT.journal}${String(seq).padStart(SEQ_DIGITS, "0")}.json`;
}

function parseJournalKey(key: string): number | null {
  const m = key.startsWith(LAYOUT.journal) ? /^(\d+)\.json$/.exec(key.slice(LAYOUT.journal.length)) : null;
  return m ? Number(m[1]) : null;
}

export class Journal {
  private last = 0;
  /** Appends from this process, one at a time and in order (one key: the journal). */
  private readonly appends = new KeyedLock();

  private constructor(
    private readonly store: ObjectStore,
    private readonly log: Logger,
  ) {}

  static async open(store: ObjectStore, log: Logger): Promise<Journal> {
    const j = new Journal(store, log);
    await j.refreshLast();
    return j;
  }

  get lastSeq(): number {
    return this.last;
  }

  private async refreshLast(): Promise<void> {
    const cursor = this.last > 0 ? encodeCursor(journalKey(this.last)) : undefined;
    for await (const item of listAll(this.store, LAYOUT.journal, { cursor })) {
      const seq = parseJournalKey(item.key);
      if (seq !== null && seq > this.last) this.last = seq;
    }
  }

  /** Appends an entry; entries from this process are written one at a time, in order. */
  append(input: JournalInput): Promise<JournalEntry> {
    return this.appends.run("journal", () => this.commit(input));
  }

  private async commit(input: JournalInput): Promise<JournalEntry> {
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const entry: JournalEntry = { seq: this.last + 1, at: new Date().toISOString(), ...input };
      try {
        await this.store.putIfAbsent(journalKey(entry.seq), JSON.stringify(entry));
        this.last = entry.seq;
        return entry;
      } catch (err) {
        if (!(err instanceof Conflict)) throw err;
        // Another process took this number: catch up and try the next one.
        await this.refreshLast();
      }
    }
    throw new Conflict("the journal is too busy to append to; retry");
  }

  /** Entries with seq > since, oldest first. */
  async read(since: number, limit: number): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    if (limit <= 0) return out;
    const cursor = since > 0 ? encodeCursor(journalKey(since)) : undefined;
    for await (const item of listAll(this.store, LAYOUT.journal, { cursor, limit: Math.min(1000, limit) })) {
      const entry = await this.load(item.key);
      if (entry) out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }

  private async load(key: string): Promise<JournalEntry | null> {
    try {
      const entry = await readJson(this.store, key, JournalEntrySchema);
      if (entry) return entry;
    } catch {
      // fall through: reported below
    }
    this.log.warn("skipping unreadable journal entry", { key });
    return null;
  }
}
