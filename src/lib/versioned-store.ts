// A versioned store: records keyed by (prefix, name, version), one immutable object per version at
// <prefix><name>/<version>.json. A version is committed by creating its object with put-if-absent,
// so two writers, even two processes on one bucket, can never both win it, and history is just the
// older objects. On open the newest readable version of every name is loaded; unreadable versions
// are skipped and reported, never fatal, and the next commit still goes above them so a version
// number is never reused. A version number never outgrows its key: keys whose number has more
// digits than the store writes (or is past 2^53, where numbers stop being exact) are skipped and
// reported, and a name that has used its last number is refused further commits with a clear
// error instead of writing a key that would sort, parse or collide wrongly. The catalog's manifests are one user; anything that needs durable,
// race-safe, versioned records (traces, workflow definitions, corpora, playbooks) can be another.
import * as v from "valibot";
import { Conflict, TooLarge, Unavailable } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ObjectStore } from "../storage/store.ts";
import { LRUCache } from "lru-cache";
import { KeyedLock } from "./keyed-lock.ts";
import { listAll } from "./list-all.ts";
import { readJsonChecked } from "./read-json.ts";
import { type SkippedDetail, type SkipReason, SkipReport } from "./skipped.ts";

/** What every record carries. The key's name and version are repeated in the body and checked on
 * read, so an object copied or written under the wrong key is never taken for that version. */
export interface VersionedRecord {
  name: string;
  version: number;
  /** A tombstone: the name is absent from this version on, while its version numbers keep counting. */
  deleted?: boolean;
}

export type RecordSchema = v.GenericSchema<unknown, VersionedRecord>;

export interface VersionedStoreOptions<S extends RecordSchema> {
  store: ObjectStore;
  /** The folder holding the records, ending in "/", e.g. "_catalog/". */
  prefix: string;
  /** Validates every record read and every record committed. */
  schema: S;
  log: Logger;
  /** Zero-padded width of the version in keys, so keys list in version order. Default 12. */
  versionDigits?: number;
  /** The largest record body: bigger ones are refused on commit and skipped unread on open. Default 1 MiB. */
  maxRecordBytes?: number;
  /** Which names are valid; keys with other names are ignored on open and refused on commit. */
  nameOk?: (name: string) => boolean;
  /** What a name names, for errors: `dataset "x" was changed by another writer; retry`. */
  noun?: string;
  /** What a record is, for logs: "skipping corrupt catalog manifest". */
  what?: string;
}

/** The version a commit will create, and the time to stamp it with. */
export interface Next {
  version: number;
  now: string;
}

/** Decides the next record from the live one (null: none, or a tombstone); null means no change. */
export type Plan<R> = (live: R | null, next: Next) => R | null | Promise<R | null>;

export interface Committed<R> {
  record: R;
  /** The live record it replaced; null when the name was absent or a tombstone. */
  previous: R | null;
}

/** Runs under the name's lock once a version is committed (a journal append, change listeners), so
 * side effects happen in commit order. If it throws, the caller sees the error; the commit stands. */
export type AfterCommit<R> = (committed: Committed<R>) => Promise<void>;

export interface VersionedStoreHealth {
  status: "ok" | "degraded";
  /** Names whose newest readable version is not a tombstone. */
  live: number;
  /** Objects under the prefix that were passed over: unreadable or invalid versions, keys no commit makes. */
  skipped: SkippedDetail;
  /** Names that have versions but not one readable: they answer as unavailable, not as absent. */
  unavailable: string[];
}

interface Entry<R> {
  /** Newest readable version, possibly a tombstone. */
  head: R | null;
  /** Highest version present in the store, readable or not: the next commit goes above it. */
  highest: number;
}

const KEY_TAIL = /^([^/]+)\/(\d+)\.json$/;
const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

type ParsedKey = { name: string; version: number } | { bad: SkipReason };
/** Bytes of older versions kept parsed in memory (their JSON size; parsed objects take a few times that). */
const OLDER_CACHE_BYTES = 32 * 1024 * 1024;

type ReadResult<R> = { record: R } | { problem: SkipReason | "missing" };

export class VersionedStore<R extends VersionedRecord> {
  private readonly entries = new Map<string, Entry<R>>();
  /** Names whose head is live (not a tombstone): health reads it on every /health request. */
  private live = 0;
  private readonly skipped = new SkipReport();
  /** Names with versions but none readable (kept in step by setEntry, so health stays O(1) when all is well). */
  private readonly unreadableNames = new Set<string>();
  private readonly lock = new KeyedLock();
  /**
   * Versions read before, by key: a committed version never changes, so history walks (retention,
   * a versions listing, time travel) read each one from the store once. Bounded by body bytes.
   */
  private readonly older = new LRUCache<string, R>({ maxSize: OLDER_CACHE_BYTES, sizeCalculation: (_r, key) => this.sizes.get(key) ?? 1 });
  private readonly sizes = new Map<string, number>();
  private readonly store: ObjectStore;
  private readonly prefix: string;
  private readonly schema: v.GenericSchema<unknown, R>;
  private readonly log: Logger;
  private readonly digits: number;
  /** The highest version a key can hold: all its digits, and exact as a JavaScript number. */
  readonly maxVersion: number;
  private readonly maxBytes: number;
  private readonly nameOk: (name: string) => boolean;
  private readonly noun: string;
  private readonly what: string;

  private constructor(opts: VersionedStoreOptions<v.GenericSchema<unknown, R>>) {
    if (!opts.prefix.endsWith("/")) throw new Error(`versioned store prefix must end with "/": ${opts.prefix}`);
    this.store = opts.store;
    this.prefix = opts.prefix;
    this.schema = opts.schema;
    this.log = opts.log;
    this.digits = opts.versionDigits ?? 12;
    this.maxVersion = Math.min(10 ** this.digits - 1, Number.MAX_SAFE_INTEGER);
    this.maxBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.nameOk = opts.nameOk ?? ((name) => /^[^/]+$/.test(name));
    this.noun = opts.noun ?? "record";
    this.what = opts.what ?? `${this.noun} version`;
  }

  /** Loads the newest readable version of every name under the prefix. */
  static async open<S extends RecordSchema>(opts: VersionedStoreOptions<S>): Promise<VersionedStore<v.InferOutput<S>>> {
    const vs = new VersionedStore<v.InferOutput<S>>(opts);
    const versions = new Map<string, number[]>();
    for await (const item of listAll(opts.store, opts.prefix)) {
      const parsed = vs.parseKey(item.key);
      if ("bad" in parsed) vs.skip(item.key, parsed.bad);
      else versions.set(parsed.name, [...(versions.get(parsed.name) ?? []), parsed.version]);
    }
    for (const [name, list] of versions) await vs.load(name, list);
    return vs;
  }

  key(name: string, version: number): string {
    return `${this.prefix}${name}/${String(version).padStart(this.digits, "0")}.json`;
  }

  /** A version key this store writes: a valid name and exactly `digits` digits of a number in range. */
  private parseKey(key: string): ParsedKey {
    const m = key.startsWith(this.prefix) ? KEY_TAIL.exec(key.slice(this.prefix.length)) : null;
    if (!m || !this.nameOk(m[1]!) || m[2]!.length !== this.digits) return { bad: "bad_name" };
    const version = Number(m[2]);
    return version >= 1 && version <= this.maxVersion ? { name: m[1]!, version } : { bad: "bad_name" };
  }

  /** The live record of `name`: its newest readable version unless that is a tombstone. */
  latest(name: string): R | null {
    const head = this.entries.get(name)?.head;
    return head && !head.deleted ? head : null;
  }

  /** The newest readable version of `name`, a tombstone included; null when it has none. */
  head(name: string): R | null {
    return this.entries.get(name)?.head ?? null;
  }

  /** Names with a live record, sorted. */
  names(): string[] {
    return this.records().map((r) => r.name);
  }

  /** The newest readable version of every name, sorted by name; tombstones only if asked for. */
  records(opts: { tombstones?: boolean } = {}): R[] {
    const out: R[] = [];
    for (const e of this.entries.values()) if (e.head && (opts.tombstones || !e.head.deleted)) out.push(e.head);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** One version as stored; null when it is missing or not a valid record for its key. */
  async get(name: string, version: number): Promise<R | null> {
    const head = this.entries.get(name)?.head;
    if (head?.version === version) return head;
    if (!this.nameOk(name) || !(Number.isInteger(version) && version >= 1 && version <= this.maxVersion)) return null;
    const read = await this.read(name, version);
    return "record" in read ? read.record : null;
  }

  /** One version, or why it could not be had: "missing" (no such object) or a reason it is unreadable. */
  async lookup(name: string, version: number): Promise<{ record: R } | { problem: SkipReason | "missing" }> {
    const head = this.entries.get(name)?.head;
    if (head?.version === version) return { record: head };
    if (!this.nameOk(name) || !(Number.isInteger(version) && version >= 1 && version <= this.maxVersion)) return { problem: "missing" };
    return this.read(name, version).catch(() => ({ problem: "unreadable" as const }));
  }

  /** Runs `fn` with no commit of `name` in flight in this process (commits wait for it). */
  locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.lock.run(name, fn);
  }

  /** Whether `name` has versions in the store but none readable: damaged, not absent. */
  unreadable(name: string): boolean {
    return this.unreadableNames.has(name);
  }

  /** Every version of `name` present in the store, readable or not, oldest first. */
  async versions(name: string): Promise<number[]> {
    if (!this.nameOk(name)) return [];
    const out: number[] = [];
    for await (const item of listAll(this.store, `${this.prefix}${name}/`)) {
      const parsed = this.parseKey(item.key);
      if ("bad" in parsed) this.skip(item.key, parsed.bad);
      else if (parsed.name === name) out.push(parsed.version);
    }
    return out.sort((a, b) => a - b);
  }

  health(): VersionedStoreHealth {
    if (this.skipped.count === 0) return { status: "ok", live: this.live, skipped: { count: 0, objects: [] }, unavailable: [] };
    return { status: "degraded", live: this.live, skipped: this.skipped.detail(), unavailable: [...this.unreadableNames].sort() };
  }

  /**
   * Throws TooLarge when `record` would be over the record cap: a record that could not be read
   * back must never be written. Commit checks it too; a caller with work to do before committing
   * (an upload to stage) checks first, so nothing is staged for a record that will be refused.
   */
  assertFits(record: R): void {
    this.checkSize(JSON.stringify(record));
  }

  private checkSize(body: string): void {
    const bytes = Buffer.byteLength(body);
    if (bytes > this.maxBytes)
      throw new TooLarge(`the ${this.what} would take ${bytes} bytes, over the ${this.maxBytes}-byte cap for one`, { limit_bytes: this.maxBytes });
  }

  /**
   * Commits the next version of `name` as `plan` decides, with no other commit of `name` in flight
   * in this process. Returns null when the plan changed nothing. When another writer created that
   * version first, reloads `name` (so a retry plans from the winner's record) and throws Conflict.
   */
  commit(name: string, plan: Plan<R>, after?: AfterCommit<R>): Promise<Committed<R> | null> {
    if (!this.nameOk(name) || name.includes("/")) return Promise.reject(new Error(`invalid ${this.noun} name for a versioned store: ${name}`));
    return this.lock.run(name, async () => {
      const entry = this.entries.get(name);
      const live = entry?.head && !entry.head.deleted ? entry.head : null;
      const next: Next = { version: (entry?.highest ?? 0) + 1, now: new Date().toISOString() };
      if (next.version > this.maxVersion) {
        // Only a stray object at the last number gets here (no store makes 10^12 commits of one
        // name): refuse, rather than write a key longer than the others that would sort and parse wrong.
        throw new Unavailable(
          `${this.noun} "${name}" has used the last version number its keys can hold (${this.maxVersion}); remove the stray version object /health names from the store`,
          { [this.noun]: name, max_version: this.maxVersion },
        );
      }
      const record = await plan(live, next);
      if (record === null) return null;
      this.assertCommittable(record, name, next.version);
      const body = JSON.stringify(record);
      this.checkSize(body);
      try {
        await this.store.putIfAbsent(this.key(name, next.version), body);
      } catch (err) {
        if (!(err instanceof Conflict)) throw err;
        await this.reload(name);
        throw new Conflict(`${this.noun} "${name}" was changed by another writer; retry`, { [this.noun]: name, version: next.version }, { cause: err });
      }
      this.setEntry(name, { head: record, highest: next.version });
      const committed = { record, previous: live };
      if (after) await after(committed);
      return committed;
    });
  }

  /** Commits a tombstone over the live record, built by `mark`; null when nothing is live. */
  tombstone(name: string, mark: (live: R, next: Next) => R, after?: AfterCommit<R>): Promise<Committed<R> | null> {
    return this.commit(name, (live, next) => (live ? { ...mark(live, next), deleted: true } : null), after);
  }

  /** A record that would not read back as this version is a bug in the caller: refuse to store it. */
  private assertCommittable(record: R, name: string, version: number): void {
    const problem =
      record.name !== name || record.version !== version
        ? `names ${record.name}@${record.version}, expected ${name}@${version}`
        : !v.safeParse(this.schema, record).success
          ? "does not match the record schema"
          : null;
    if (problem) throw new Error(`refusing to commit a ${this.what} that ${problem}`);
  }

  /** Re-reads `name` from the store: after losing a race, the winner's version becomes live here. */
  private async reload(name: string): Promise<void> {
    await this.load(name, await this.versions(name));
  }

  private async load(name: string, versions: number[]): Promise<void> {
    const newestFirst = [...versions].sort((a, b) => b - a);
    let head: R | null = null;
    for (const version of newestFirst) {
      const key = this.key(name, version);
      // An object that cannot be read at all is skipped like an invalid one: one bad version must
      // not keep the whole store from opening.
      let error: string | undefined;
      const read = await this.read(name, version).catch((err): ReadResult<R> => {
        error = String(err);
        return { problem: "unreadable" };
      });
      if ("record" in read) {
        head = read.record;
        break;
      }
      // Listed a moment ago and gone now: deleted meanwhile, nothing to report.
      if (read.problem === "missing") continue;
      this.skip(key, read.problem);
      this.log.error(`skipping corrupt ${this.what}`, error === undefined ? { key, reason: read.problem } : { key, reason: read.problem, error });
    }
    this.setEntry(name, { head, highest: newestFirst[0] ?? 0 });
  }

  private setEntry(name: string, entry: Entry<R>): void {
    const isLive = (e: Entry<R> | undefined) => (e?.head && !e.head.deleted ? 1 : 0);
    this.live += isLive(entry) - isLive(this.entries.get(name));
    this.entries.set(name, entry);
    if (entry.head === null && entry.highest > 0) this.unreadableNames.add(name);
    else this.unreadableNames.delete(name);
  }

  private async read(name: string, version: number): Promise<ReadResult<R>> {
    const key = this.key(name, version);
    const cached = this.older.get(key);
    if (cached) return { record: cached };
    const read = await readJsonChecked(this.store, key, this.schema, { maxBytes: this.maxBytes });
    if (!read.ok) return { problem: read.problem };
    if (read.value.name !== name || read.value.version !== version) return { problem: "mismatched" };
    if (read.bytes <= OLDER_CACHE_BYTES / 4) {
      this.sizes.set(key, read.bytes);
      this.older.set(key, read.value);
      this.sizes.delete(key);
    }
    return { record: read.value };
  }

  private skip(key: string, reason: SkipReason): void {
    if (reason === "bad_name" && !this.skipped.has(key)) this.log.warn(`skipping an object that is not a ${this.what}`, { key });
    this.skipped.add(key, reason);
  }
}
