// The durable mutation journal: one immutable object per entry at _journal/<seq>.json, created with
// put-if-absent. The object store holds the truth, so sequence numbers continue after a restart
// and two processes on one bucket never hand out the same number.
//
// Whatever else lies under _journal/ must not stop it. Sequence numbers have 16 digits and stay
// exact JavaScript numbers, so the highest is 2^53 - 1: a key with another number of digits or a
// number past that is not an entry (it is skipped, reported, and never read). The next number goes
// above the newest *valid* entry, stepping over damaged objects at or above it, so a stray object
// cannot make every append collide (a restored 9999999999999999.json once did: the next number
// overflowed the name, start-up repair collided with it forever and the process exited). When the
// last number is used, appends are refused with a clear error; the catalog checks that before it
// commits, so no dataset version is written that its journal could not record.
import * as v from "valibot";
import { Conflict, Unavailable } from "../errors.ts";
import { KeyedLock } from "../lib/keyed-lock.ts";
import { listAll } from "../lib/list-all.ts";
import { readJsonChecked } from "../lib/read-json.ts";
import { type SkippedDetail, type SkipReason, SkipReport } from "../lib/skipped.ts";
import type { Logger } from "../log.ts";
import { LAYOUT } from "../storage/layout.ts";
import { encodeCursor, type ObjectStore } from "../storage/store.ts";
import { VERSION_OPS } from "./manifest.ts";

const SEQ_DIGITS = 16;
/** 16 digits hold up to 10^16 - 1, but numbers are exact only up to 2^53 - 1 (9007199254740991). */
export const MAX_SEQ = Math.min(10 ** SEQ_DIGITS - 1, Number.MAX_SAFE_INTEGER);
const COMMIT_ATTEMPTS = 20;
/** An entry is ≈300 bytes (a 63-character name, a 64-character fingerprint); anything near this is not one. */
const MAX_ENTRY_BYTES = 64 * 1024;

const JournalOp = v.picklist(VERSION_OPS);

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

export function journalKey(seq: number): string {
  return `${LAYOUT.journal}${String(seq).padStart(SEQ_DIGITS, "0")}.json`;
}

/** The entry number of a key this journal writes; null for any other key. */
function parseJournalKey(key: string): number | null {
  const m = key.startsWith(LAYOUT.journal) ? /^(\d+)\.json$/.exec(key.slice(LAYOUT.journal.length)) : null;
  if (!m || m[1]!.length !== SEQ_DIGITS) return null;
  const seq = Number(m[1]);
  return seq >= 1 && seq <= MAX_SEQ ? seq : null;
}

export interface JournalHealth {
  skipped: SkippedDetail;
  /** Set when the last sequence number is used: appends (and so catalog writes) are refused. */
  full: boolean;
}

export class Journal {
  private last = 0;
  /** Damaged entries just above `last`: the next append steps over them instead of colliding. */
  private readonly taken = new Set<number>();
  private readonly skipped = new SkipReport();
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

  health(): JournalHealth {
    return { skipped: this.skipped.detail(), full: this.nextSeq() > MAX_SEQ };
  }

  /** Throws when no entry can be appended any more; the catalog asks before it commits a version. */
  assertWritable(): void {
    if (this.nextSeq() > MAX_SEQ) {
      throw new Unavailable(
        `the catalog journal has used its last sequence number (${MAX_SEQ}); catalog writes are refused until the stray entry /health names is removed from the store`,
        { max_seq: MAX_SEQ },
      );
    }
  }

  private nextSeq(): number {
    let seq = this.last + 1;
    while (this.taken.has(seq)) seq++;
    return seq;
  }

  /**
   * Moves `last` to the newest valid entry above it. Only the keys above the current `last` are
   * read, newest first, until a valid one: damaged ones among them are reported and remembered
   * as taken, so an append never collides with them.
   */
  private async refreshLast(): Promise<void> {
    const cursor = this.last > 0 ? encodeCursor(journalKey(this.last)) : undefined;
    const above: number[] = [];
    for await (const item of listAll(this.store, LAYOUT.journal, { cursor })) {
      const seq = parseJournalKey(item.key);
      if (seq === null) this.skip(item.key, "bad_name");
      else if (seq > this.last) above.push(seq);
    }
    above.sort((a, b) => b - a);
    for (const seq of above) {
      const problem = await this.check(seq);
      if (problem === null) {
        this.last = seq;
        break;
      }
      this.taken.add(seq);
      this.skip(journalKey(seq), problem);
    }
    for (const seq of this.taken) if (seq <= this.last) this.taken.delete(seq);
  }

  /** null when the entry at `seq` is valid (or could not be read: then it may be real, and counts). */
  private async check(seq: number): Promise<Exclude<SkipReason, "unreadable" | "bad_name"> | null> {
    try {
      const read = await readJsonChecked(this.store, journalKey(seq), JournalEntrySchema, { maxBytes: MAX_ENTRY_BYTES });
      if (read.ok) return read.value.seq === seq ? null : "mismatched";
      return read.problem === "missing" ? null : read.problem;
    } catch {
      return null;
    }
  }

  /** Appends an entry; entries from this process are written one at a time, in order. */
  append(input: JournalInput): Promise<JournalEntry> {
    return this.appends.run("journal", () => this.commit(input));
  }

  private async commit(input: JournalInput): Promise<JournalEntry> {
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      this.assertWritable();
      const entry: JournalEntry = { seq: this.nextSeq(), at: new Date().toISOString(), ...input };
      try {
        await this.store.putIfAbsent(journalKey(entry.seq), JSON.stringify(entry));
        this.last = entry.seq;
        this.taken.clear();
        return entry;
      } catch (err) {
        if (!(err instanceof Conflict)) throw err;
        // Another process took this number (or something else lies there): never try it again,
        // catch up and go above it.
        this.taken.add(entry.seq);
        await this.refreshLast();
      }
    }
    throw new Conflict("the journal is too busy to append to; retry");
  }

  /** Entries with seq > since, oldest first. */
  async read(since: number, limit: number): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    if (limit <= 0) return out;
    const cursor = since > 0 ? encodeCursor(journalKey(Math.min(since, MAX_SEQ))) : undefined;
    for await (const item of listAll(this.store, LAYOUT.journal, { cursor, limit: Math.min(1000, limit) })) {
      const seq = parseJournalKey(item.key);
      if (seq === null) continue;
      const entry = await this.load(item.key, seq);
      if (entry) out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }

  private async load(key: string, seq: number): Promise<JournalEntry | null> {
    let reason: SkipReason;
    try {
      const read = await readJsonChecked(this.store, key, JournalEntrySchema, { maxBytes: MAX_ENTRY_BYTES });
      if (read.ok) {
        if (read.value.seq === seq) return read.value;
        reason = "mismatched";
      } else if (read.problem === "missing") return null;
      else reason = read.problem;
    } catch {
      reason = "unreadable";
    }
    if (!this.skipped.has(key)) this.log.warn("skipping unreadable journal entry", { key, reason });
    this.skipped.add(key, reason);
    return null;
  }

  private skip(key: string, reason: SkipReason): void {
    if (!this.skipped.has(key)) this.log.warn("skipping an object that is not a journal entry", { key, reason });
    this.skipped.add(key, reason);
  }
}
