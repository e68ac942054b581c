import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { Conflict } from "../../src/errors.ts";
import { type Next, type Plan, VersionedStore } from "../../src/lib/versioned-store.ts";
import { type Logger, memoryLogger, silentLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import type { ObjectStore } from "../../src/storage/store.ts";
import { tempDir } from "../support/tmp.ts";

const NoteSchema = v.object({
  name: v.string(),
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  deleted: v.optional(v.boolean(), false),
  text: v.string(),
  /** How many versions since the name was last absent: proves each plan saw its predecessor. */
  count: v.number(),
  at: v.string(),
});
type Note = v.InferOutput<typeof NoteSchema>;

const PREFIX = "_notes/";

function open(store: ObjectStore, log: Logger = silentLogger) {
  return VersionedStore.open({ store, prefix: PREFIX, schema: NoteSchema, log, noun: "note", what: "note version", nameOk: (n) => /^[a-z]+$/.test(n) });
}

/** The note a plan writes as `next` of `name`. */
const noteOf = (name: string, text: string, live: Note | null, next: Next): Note => ({
  name,
  version: next.version,
  deleted: false,
  text,
  count: (live?.count ?? 0) + 1,
  at: next.now,
});

/** A plan that writes `text` as the next version of `name`. */
const write =
  (name: string, text: string): Plan<Note> =>
  (live, next) =>
    noteOf(name, text, live, next);

const key = (name: string, version: number) => `${PREFIX}${name}/${String(version).padStart(12, "0")}.json`;

async function keys(store: ObjectStore): Promise<string[]> {
  return (await store.list(PREFIX)).items.map((i) => i.key);
}

/** The same store, listing `size` keys per page, so anything that reads only one page shows. */
function paged(store: ObjectStore, size: number): ObjectStore {
  return {
    backend: store.backend,
    put: (k, b, o) => store.put(k, b, o),
    putIfAbsent: (k, b) => store.putIfAbsent(k, b),
    get: (k, r) => store.get(k, r),
    getBytes: (k) => store.getBytes(k),
    head: (k) => store.head(k),
    list: (p, o) => store.list(p, { ...o, limit: size }),
    delete: (k) => store.delete(k),
    close: () => store.close(),
  };
}

describe("versioned store", () => {
  test("commits numbered versions; history lists them and old versions stay readable", async () => {
    const store = await FsObjectStore.open(tempDir());
    const notes = await open(store);
    const first = await notes.commit("a", write("a", "one"));
    const second = await notes.commit("a", write("a", "two"));
    await notes.commit("a", write("a", "three"));
    expect(first).toEqual({ record: expect.objectContaining({ version: 1, text: "one", count: 1 }), previous: null });
    expect(second!.previous).toEqual(first!.record);
    expect(notes.latest("a")).toMatchObject({ version: 3, text: "three", count: 3 });
    expect(await keys(store)).toEqual([key("a", 1), key("a", 2), key("a", 3)]);
    expect(await notes.versions("a")).toEqual([1, 2, 3]);
    expect(await notes.get("a", 1)).toMatchObject({ version: 1, text: "one" });
    expect(await notes.get("a", 2)).toMatchObject({ version: 2, text: "two", count: 2 });
    expect(await notes.get("a", 4)).toBeNull();

    // A plan that returns null changes nothing.
    expect(await notes.commit("a", () => null)).toBeNull();
    expect(await notes.versions("a")).toEqual([1, 2, 3]);

    const reopened = await open(store);
    expect(reopened.latest("a")).toEqual(notes.latest("a"));
    expect(reopened.names()).toEqual(["a"]);
    expect((await reopened.commit("a", write("a", "four")))!.record.version).toBe(4);
    expect(reopened.health()).toEqual({ status: "ok", live: 1, skipped: { count: 0, objects: [] }, unavailable: [] });
  });

  test("a tombstone hides the name, keeps its history, and versions keep counting", async () => {
    const store = await FsObjectStore.open(tempDir());
    const notes = await open(store);
    await notes.commit("a", write("a", "one"));
    await notes.commit("b", write("b", "bee"));
    const gone = await notes.tombstone("a", (live, next) => ({ ...live, version: next.version, at: next.now }));
    expect(gone!.record).toMatchObject({ name: "a", version: 2, deleted: true });
    expect(gone!.previous).toMatchObject({ version: 1, text: "one" });
    expect(notes.latest("a")).toBeNull();
    expect(notes.names()).toEqual(["b"]);
    expect(notes.records({ tombstones: true }).map((r) => [r.name, r.version, r.deleted])).toEqual([
      ["a", 2, true],
      ["b", 1, false],
    ]);
    // Nothing live: no second tombstone.
    expect(await notes.tombstone("a", (live) => live)).toBeNull();
    expect(await notes.versions("a")).toEqual([1, 2]);

    const reopened = await open(store);
    expect(reopened.latest("a")).toBeNull();
    expect(reopened.names()).toEqual(["b"]);
    expect(await reopened.get("a", 2)).toMatchObject({ deleted: true });
    // The next plan sees no live record, and the version goes above the tombstone.
    const back = await reopened.commit("a", write("a", "again"));
    expect(back).toEqual({ record: expect.objectContaining({ version: 3, count: 1 }), previous: null });
    expect(reopened.health()).toEqual({ status: "ok", live: 2, skipped: { count: 0, objects: [] }, unavailable: [] });
  });

  test("concurrent commits of one name in one process run one at a time, each on its predecessor", async () => {
    const store = await FsObjectStore.open(tempDir());
    const notes = await open(store);
    const slow =
      (text: string): Plan<Note> =>
      async (live, next) => {
        await Bun.sleep(1); // a window in which an unlocked commit would plan from the same version
        return write("a", text)(live, next);
      };
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => notes.commit("a", slow(`n${i}`))));
    expect(results.map((r) => r!.record.version)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(notes.latest("a")).toMatchObject({ version: 12, count: 12, text: "n11" });
    expect(await notes.versions("a")).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));

    // A plan that throws does not wedge the name.
    await expect(notes.commit("a", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect((await notes.commit("a", write("a", "after")))!.record.version).toBe(13);
  });

  test("the lock is per name, and after-commit work runs under it in commit order", async () => {
    const store = await FsObjectStore.open(tempDir());
    const notes = await open(store);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    const blocked = notes.commit("a", async (live, next) => {
      await held;
      return write("a", "one")(live, next);
    });
    // Another name is not held up by "a".
    expect((await notes.commit("b", write("b", "bee")))!.record.version).toBe(1);
    const slowAfter = async (c: { record: Note }) => {
      await Bun.sleep(5); // a journal append, say: the next commit of "a" must wait for it
      order.push(`after ${c.record.version}`);
    };
    const second = notes.commit(
      "a",
      (live, next) => {
        order.push(`plan ${next.version} sees ${live?.version}`);
        return noteOf("a", "two", live, next);
      },
      slowAfter,
    );
    const third = notes.commit(
      "a",
      (live, next) => {
        order.push(`plan ${next.version} sees ${live?.version}`);
        return noteOf("a", "three", live, next);
      },
      slowAfter,
    );
    release();
    await Promise.all([blocked, second, third]);
    expect(order).toEqual(["plan 2 sees 1", "after 2", "plan 3 sees 2", "after 3"]);

    // An after hook that fails is reported to the caller; the version it followed stands.
    await expect(notes.commit("a", write("a", "four"), () => Promise.reject(new Error("journal down")))).rejects.toThrow("journal down");
    expect(notes.latest("a")).toMatchObject({ version: 4, text: "four" });
    expect((await open(store)).latest("a")).toMatchObject({ version: 4 });
  });

  test("two stores on one directory race for a name: one wins, the other gets Conflict and then sees the winner", async () => {
    const root = tempDir();
    const one = await open(await FsObjectStore.open(root));
    const two = await open(await FsObjectStore.open(root));
    const settled = await Promise.allSettled([one.commit("shared", write("shared", "one")), two.commit("shared", write("shared", "two"))]);
    const won = settled.filter((s) => s.status === "fulfilled");
    const lost = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const err = lost[0]!.reason;
    expect(err).toBeInstanceOf(Conflict);
    expect(err.message).toBe('note "shared" was changed by another writer; retry');
    expect(err.details).toEqual({ note: "shared", version: 1 });

    const [winner, loser] = settled[0]!.status === "fulfilled" ? [one, two] : [two, one];
    const winning = winner.latest("shared")!;
    // The loser reloaded: it now serves the winner's record, and its retry builds on it.
    expect(loser.latest("shared")).toEqual(winning);
    const retried = await loser.commit("shared", write("shared", "retry"));
    expect(retried!.previous).toEqual(winning);
    expect(retried!.record).toMatchObject({ version: 2, count: 2 });

    // A store that did not see that commit is stale: Conflict, then it catches up.
    await expect(winner.commit("shared", write("shared", "stale"))).rejects.toBeInstanceOf(Conflict);
    expect(winner.latest("shared")).toEqual(retried!.record);
    const fresh = await open(await FsObjectStore.open(root));
    expect(fresh.latest("shared")).toMatchObject({ version: 2, text: "retry" });
  });

  test("a corrupt newest version is skipped and reported; the previous one serves and the next commit goes above it", async () => {
    const store = await FsObjectStore.open(tempDir());
    const notes = await open(store);
    await notes.commit("a", write("a", "one"));
    await notes.commit("a", write("a", "two"));
    await notes.commit("b", write("b", "bee"));
    await store.put(key("a", 3), "{not json");
    await store.put(key("c", 1), JSON.stringify({ name: "c", version: 1 })); // JSON, but not a note

    const log = memoryLogger();
    const reopened = await open(store, log);
    expect(reopened.latest("a")).toMatchObject({ version: 2, text: "two" });
    expect(reopened.latest("c")).toBeNull();
    expect(reopened.names()).toEqual(["a", "b"]);
    expect(reopened.health()).toEqual({
      status: "degraded",
      live: 2,
      skipped: {
        count: 2,
        objects: [
          { key: key("a", 3), reason: "not_json" },
          { key: key("c", 1), reason: "invalid" },
        ],
      },
      // "c" has a version but none readable: damaged, not absent.
      unavailable: ["c"],
    });
    expect(reopened.unreadable("c")).toBe(true);
    expect(reopened.unreadable("a")).toBe(false);
    expect(log.lines.filter((l) => l.msg === "skipping corrupt note version").map((l) => l.fields?.key)).toEqual([key("a", 3), key("c", 1)]);
    expect(await reopened.get("a", 3)).toBeNull();

    const next = await reopened.commit("a", write("a", "four"));
    expect(next!.record.version).toBe(4);
    expect(next!.previous).toMatchObject({ version: 2 });
    expect(await reopened.versions("a")).toEqual([1, 2, 3, 4]);
  });

  test("a record whose body names another version or name is not taken for that key, nor committed", async () => {
    const store = await FsObjectStore.open(tempDir());
    const notes = await open(store);
    await notes.commit("a", write("a", "one"));
    const v2 = (await notes.commit("a", write("a", "two")))!.record;
    // Valid notes, under the wrong keys: a copy of v2 as v3, and a's v2 as b's v1.
    await store.put(key("a", 3), JSON.stringify(v2));
    await store.put(key("b", 1), JSON.stringify({ ...v2, version: 1 }));

    const log = memoryLogger();
    const reopened = await open(store, log);
    expect(reopened.latest("a")).toMatchObject({ version: 2 });
    expect(reopened.latest("b")).toBeNull();
    expect(reopened.health()).toMatchObject({
      status: "degraded",
      live: 1,
      skipped: {
        count: 2,
        objects: [
          { key: key("a", 3), reason: "mismatched" },
          { key: key("b", 1), reason: "mismatched" },
        ],
      },
    });
    expect(await reopened.get("a", 3)).toBeNull();
    expect(await reopened.get("b", 1)).toBeNull();

    // A plan producing such a record is a bug: refused before anything is written.
    const before = await keys(store);
    await expect(reopened.commit("a", (live, next) => ({ ...noteOf("a", "x", live, next), version: next.version + 1 }))).rejects.toThrow("refusing to commit");
    await expect(reopened.commit("a", (live, next) => ({ ...noteOf("a", "x", live, next), name: "b" }))).rejects.toThrow("refusing to commit");
    await expect(reopened.commit("a", (live, next) => ({ ...noteOf("a", "x", live, next), count: "many" as unknown as number }))).rejects.toThrow(
      "refusing to commit",
    );
    expect(await keys(store)).toEqual(before);
    expect(reopened.latest("a")).toMatchObject({ version: 2 });
  });

  test("names that fail nameOk are skipped and reported on open and refused on commit; so are foreign keys", async () => {
    const store = await FsObjectStore.open(tempDir());
    const notes = await open(store);
    await notes.commit("a", write("a", "one"));
    await store.put(`${PREFIX}Bad/000000000001.json`, JSON.stringify({ ...notes.latest("a"), name: "Bad" }));
    await store.put(`${PREFIX}a/readme.txt`, "not a version");
    const reopened = await open(store);
    expect(reopened.names()).toEqual(["a"]);
    expect(reopened.health()).toEqual({
      status: "degraded",
      live: 1,
      skipped: {
        count: 2,
        objects: [
          { key: `${PREFIX}Bad/000000000001.json`, reason: "bad_name" },
          { key: `${PREFIX}a/readme.txt`, reason: "bad_name" },
        ],
      },
      unavailable: [],
    });
    expect(await reopened.versions("a")).toEqual([1]);
    await expect(reopened.commit("Bad", write("Bad", "x"))).rejects.toThrow("invalid note name");
    await expect(reopened.commit("a/b", write("a/b", "x"))).rejects.toThrow("invalid note name");
  });

  test("every page is listed: on open, for history, and when reloading after a lost race", async () => {
    const root = tempDir();
    const plain = await open(await FsObjectStore.open(root));
    for (const name of ["a", "b", "c", "d", "e"]) for (const text of ["1", "2", "3"]) await plain.commit(name, write(name, text));

    const small = await open(paged(await FsObjectStore.open(root), 2));
    expect(small.names()).toEqual(["a", "b", "c", "d", "e"]);
    expect(small.records().map((r) => r.version)).toEqual([3, 3, 3, 3, 3]);
    expect(await small.versions("c")).toEqual([1, 2, 3]);

    // "a" now has 4 versions: on pages of 2, the winner's is on the second page.
    await plain.commit("a", write("a", "4"));
    await expect(small.commit("a", write("a", "late"))).rejects.toBeInstanceOf(Conflict);
    expect(small.latest("a")).toMatchObject({ version: 4, text: "4" });
    expect((await small.commit("a", write("a", "5")))!.record.version).toBe(5);
  });

  test("version numbers never outgrow their keys: other widths and numbers past 2^53 are skipped, the last number refuses commits", async () => {
    const store = await FsObjectStore.open(tempDir());
    const notes = await open(store);
    await notes.commit("a", write("a", "one"));
    const one = notes.latest("a")!;
    // Valid bodies under names no commit makes: 13 digits (a number past the width), 11 digits, zero.
    const stray = [`${PREFIX}a/9999999999999.json`, `${PREFIX}a/00000000002.json`, `${PREFIX}a/000000000000.json`];
    for (const k of stray) await store.put(k, JSON.stringify({ ...one, version: 9999999999999 }));
    const log = memoryLogger();
    const reopened = await open(store, log);
    // Not taken as the head, and the next commit is 2, not 10^13 (a 14-character key).
    expect(reopened.latest("a")).toMatchObject({ version: 1 });
    expect(reopened.health().skipped).toEqual({ count: 3, objects: stray.sort().map((k) => ({ key: k, reason: "bad_name" })) });
    expect(log.lines.filter((l) => l.msg === "skipping an object that is not a note version")).toHaveLength(3);
    expect((await reopened.commit("a", write("a", "two")))!.record.version).toBe(2);
    expect(await reopened.versions("a")).toEqual([1, 2]);

    // The last number a 12-digit key holds is in range: taken by a stray object, it leaves no
    // number above it, so commits are refused (503) instead of writing a 13-digit key.
    expect(reopened.maxVersion).toBe(999_999_999_999);
    await store.put(key("a", 999_999_999_999), JSON.stringify({ ...one, version: 999_999_999_999 }));
    const full = await open(store);
    expect(full.latest("a")).toMatchObject({ version: 999_999_999_999 });
    const before = await keys(store);
    const err = await full.commit("a", write("a", "over")).catch((e) => e);
    expect(err).toMatchObject({ code: "unavailable", details: { note: "a", max_version: 999_999_999_999 } });
    expect(err.message).toContain("last version number");
    expect(await keys(store)).toEqual(before);
    // Other names are unaffected.
    expect((await full.commit("b", write("b", "bee")))!.record.version).toBe(1);
  });

  test("with wider keys the limit is 2^53 - 1, where numbers stop being exact", async () => {
    const store = await FsObjectStore.open(tempDir());
    const wide = (s: ObjectStore) =>
      VersionedStore.open({ store: s, prefix: PREFIX, schema: NoteSchema, log: silentLogger, versionDigits: 20, nameOk: (n) => /^[a-z]+$/.test(n) });
    const notes = await wide(store);
    expect(notes.maxVersion).toBe(Number.MAX_SAFE_INTEGER);
    await notes.commit("a", write("a", "one"));
    // 2^53 + 1 reads back as 2^53: past the limit, skipped rather than taken for a number it is not.
    await store.put(`${PREFIX}a/${"9007199254740993".padStart(20, "0")}.json`, JSON.stringify({ ...notes.latest("a"), version: 2 ** 53 }));
    const reopened = await wide(store);
    expect(reopened.health().skipped.objects).toEqual([{ key: `${PREFIX}a/${"9007199254740993".padStart(20, "0")}.json`, reason: "bad_name" }]);
    expect((await reopened.commit("a", write("a", "two")))!.record.version).toBe(2);
  });

  test("a record over the cap is skipped without being read, and a commit over it is refused", async () => {
    const store = await FsObjectStore.open(tempDir());
    const capped = (s: ObjectStore) =>
      VersionedStore.open({ store: s, prefix: PREFIX, schema: NoteSchema, log: silentLogger, nameOk: (n) => /^[a-z]+$/.test(n), maxRecordBytes: 1024 });
    const notes = await capped(store);
    await notes.commit("a", write("a", "one"));
    // A valid note, padded past the cap with whitespace JSON.parse would accept.
    await store.put(key("a", 2), JSON.stringify({ ...notes.latest("a"), version: 2 }) + " ".repeat(2000));
    const reopened = await capped(store);
    expect(reopened.latest("a")).toMatchObject({ version: 1 });
    expect(reopened.health().skipped.objects).toEqual([{ key: key("a", 2), reason: "too_large" }]);
    const before = await keys(store);
    await expect(reopened.commit("a", write("a", "x".repeat(2000)))).rejects.toMatchObject({ code: "too_large", details: { limit_bytes: 1024 } });
    expect(() => reopened.assertFits({ ...reopened.latest("a")!, text: "x".repeat(2000) })).toThrow("over the 1024-byte cap");
    expect(await keys(store)).toEqual(before);
    expect((await reopened.commit("a", write("a", "small")))!.record.version).toBe(3);
  });
});
