// A versioned store: records keyed by (prefix, name, version), one immutable object per version at
// <prefix><name>/<version>.json. A version is committed by creating its object with put-if-absent,
// so two writers, even two processes on one bucket, can never both win it, and history is just the
// older objects. On open the newest readable version of every name is loaded; unreadable versions
// are skipped and reported, never fatal, and the next commit still goes above them so a version
// number is never reused. The catalog's manifests are one user; anything that needs durable,
// race-safe, versioned records (traces, workflow definitions, corpora, playbooks) can be another.
import * as v from "valibot";
import { Conflict } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ObjectStore } from "../storage/store.ts";
import { KeyedLock } from "./keyed-lock.ts";
import { listAll } from "./list-all.ts";
import { readJson } from "./read-json.ts";

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
  /** Version objects that could not be read or were not valid for their key. */
  corrupt: number;
}

interface Entry<R> {
  /** Newest readable version, possibly a tombstone. */
  head: R | null;
  /** Highest version present in the store, readable or not: the next commit goes above it. */
  highest: number;
}

const KEY_TAIL = /^([^/]+)\/(\d+)\.json$/;

export class VersionedStore<R extends VersionedRecord> {
  private readonly entries = new Map<string, Entry<R>>();
  /** Names whose head is live (not a tombstone): health reads it on every /health request. */
  private live = 0;
  private readonly corrupt = new Set<string>();
  private readonly lock = new KeyedLock();
  private readonly store: ObjectStore;
  private readonly prefix: string;
  private readonly schema: v.GenericSchema<unknown, R>;
  private readonly log: Logger;
  private readonly digits: number;
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
      if (parsed) versions.set(parsed.name, [...(versions.get(parsed.name) ?? []), parsed.version]);
    }
    for (const [name, list] of versions) await vs.load(name, list);
    return vs;
  }

  key(name: string, version: number): string {
    return `${this.prefix}${name}/${String(version).padStart(this.digits, "0")}.json`;
  }

  private parseKey(key: string): { name: string; version: number } | null {
    const m = key.startsWith(this.prefix) ? KEY_TAIL.exec(key.slice(this.prefix.length)) : null;
    return m && this.nameOk(m[1]!) ? { name: m[1]!, version: Number(m[2]) } : null;
  }

  /** The live record of `name`: its newest readable version unless that is a tombstone. */
  latest(name: string): R | null {
    const head = this.entries.get(name)?.head;
    return head && !head.deleted ? head : null;
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
    return this.read(name, version);
  }

  /** Every version of `name` present in the store, readable or not, oldest first. */
  async versions(name: string): Promise<number[]> {
    if (!this.nameOk(name)) return [];
    const out: number[] = [];
    for await (const item of listAll(this.store, `${this.prefix}${name}/`)) {
      const parsed = this.parseKey(item.key);
      if (parsed?.name === name) out.push(parsed.version);
    }
    return out.sort((a, b) => a - b);
  }

  health(): VersionedStoreHealth {
    return { status: this.corrupt.size > 0 ? "degraded" : "ok", live: this.live, corrupt: this.corrupt.size };
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
      const record = await plan(live, next);
      if (record === null) return null;
      this.assertCommittable(record, name, next.version);
      try {
        await this.store.putIfAbsent(this.key(name, next.version), JSON.stringify(record));
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
      head = await this.read(name, version).catch((err) => {
        error = String(err);
        return null;
      });
      if (head) break;
      this.corrupt.add(key);
      this.log.error(`skipping corrupt ${this.what}`, error === undefined ? { key } : { key, error });
    }
    this.setEntry(name, { head, highest: newestFirst[0] ?? 0 });
  }

  private setEntry(name: string, entry: Entry<R>): void {
    const isLive = (e: Entry<R> | undefined) => (e?.head && !e.head.deleted ? 1 : 0);
    this.live += isLive(entry) - isLive(this.entries.get(name));
    this.entries.set(name, entry);
  }

  private async read(name: string, version: number): Promise<R | null> {
    const record = await readJson(this.store, this.key(name, version), this.schema);
    return record && record.name === name && record.version === version ? record : null;
  }
}
