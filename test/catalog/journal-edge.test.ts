// The journal at its edges: whatever lies under _journal/ (a restored file, a stray PUT from before
// the reserved-prefix guard, a disk error), appends never collide forever and start-up never fails;
// at the last sequence number, writes are refused with a clear error before anything is committed.
import { describe, expect, test } from "bun:test";
import { Catalog } from "../../src/catalog/catalog.ts";
import { Journal, journalKey, MAX_SEQ } from "../../src/catalog/journal.ts";
import { manifestKey } from "../../src/catalog/manifest.ts";
import { datasetId } from "../../src/catalog/names.ts";
import { memoryLogger, silentLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import type { ObjectStore } from "../../src/storage/store.ts";
import { tempDir } from "../support/tmp.ts";

const FIELDS = [{ name: "id", type: "BIGINT", nullable: true }];

async function open(store: ObjectStore, log = silentLogger) {
  const journal = await Journal.open(store, log);
  const catalog = await Catalog.open(store, journal, log);
  return { journal, catalog };
}

/** A store with datasets a and b registered: journal entries 1 and 2. */
async function twoDatasets() {
  const store = await FsObjectStore.open(tempDir("lh-journal-"));
  const { catalog } = await open(store);
  await catalog.register("a", FIELDS);
  await catalog.register("b", FIELDS);
  const entry2 = JSON.parse(new TextDecoder().decode(await store.getBytes(journalKey(2))));
  return { store, entry2 };
}

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  return (await store.list(prefix)).items.map((i) => i.key);
}

describe("journal edges", () => {
  test("MAX_SEQ is the largest 16-digit number JavaScript holds exactly", () => {
    expect(MAX_SEQ).toBe(9_007_199_254_740_991);
    expect(journalKey(MAX_SEQ)).toBe("_journal/9007199254740991.json");
  });

  test("9999999999999999.json (past 2^53) is skipped and reported; repair and appends go on", async () => {
    // The audit's case: with two datasets, every later start failed with "the journal is too busy".
    const { store } = await twoDatasets();
    await store.put("_journal/9999999999999999.json", '{"hello":1}');
    await store.put("_journal/12.json", JSON.stringify({ seq: 12 })); // another width
    const log = memoryLogger();
    const { journal, catalog } = await open(store, log);
    expect(journal.lastSeq).toBe(2);
    expect(await catalog.repairJournal()).toBe(0);
    expect(catalog.health()).toEqual({
      status: "degraded",
      detail: {
        datasets: 2,
        skipped_journal_entries: {
          count: 2,
          objects: [
            { key: "_journal/12.json", reason: "bad_name" },
            { key: "_journal/9999999999999999.json", reason: "bad_name" },
          ],
        },
      },
    });
    await catalog.register("c", FIELDS);
    expect(journal.lastSeq).toBe(3);
    expect((await journal.read(0, 10)).map((e) => [e.seq, e.name])).toEqual([
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ]);
  });

  test("damaged entries above the newest valid one are stepped over, never collided with", async () => {
    const { store } = await twoDatasets();
    const junk = [3, 4, 9_000_000_000_000_000];
    await store.put(journalKey(3), "\u0000garbage");
    await store.put(journalKey(4), "");
    await store.put(journalKey(9_000_000_000_000_000), '{"seq": 9000000000000000');
    const { journal, catalog } = await open(store);
    // Not 9e15: a damaged object is no entry, and taking its number would leave the journal little room.
    expect(journal.lastSeq).toBe(2);
    expect(
      journal
        .health()
        .skipped.objects.map((o) => o.key)
        .sort(),
    ).toEqual(junk.map(journalKey).sort());
    expect(journal.health().full).toBe(false);
    await catalog.register("c", FIELDS);
    await catalog.register("d", FIELDS);
    expect((await journal.read(2, 10)).map((e) => [e.seq, e.name])).toEqual([
      [5, "c"],
      [6, "d"],
    ]);
    // A reopened journal continues from the newest valid entry.
    expect((await open(store)).journal.lastSeq).toBe(6);
  });

  test("an entry whose body names another number is not taken for that key", async () => {
    const { store, entry2 } = await twoDatasets();
    await store.put(journalKey(3), JSON.stringify({ ...entry2, seq: 7 }));
    const { journal } = await open(store);
    expect(journal.lastSeq).toBe(2);
    expect(journal.health().skipped.objects).toEqual([{ key: journalKey(3), reason: "mismatched" }]);
    expect((await journal.read(0, 10)).map((e) => e.seq)).toEqual([1, 2]);
  });

  test("at the last number, catalog writes are refused (503) before anything is staged or committed; reads go on", async () => {
    const { store, entry2 } = await twoDatasets();
    // A valid entry at the last number: the journal cannot tell it from a real one, so it counts.
    await store.put(journalKey(MAX_SEQ), JSON.stringify({ ...entry2, seq: MAX_SEQ }));
    // And a committed version the journal lacks, so start-up repair has to append (and cannot).
    const later = new Date(Date.now() + 60_000).toISOString();
    const c = {
      format: 1,
      name: "c",
      dataset_id: datasetId("c"),
      version: 1,
      created_at: later,
      updated_at: later,
      deleted: false,
      fields: FIELDS,
      fingerprint: "x",
      objects: [],
      row_count: 0,
    };
    await store.putIfAbsent(manifestKey("c", 1), JSON.stringify(c));

    const log = memoryLogger();
    const { journal, catalog } = await open(store, log);
    expect(journal.lastSeq).toBe(MAX_SEQ);
    expect(await catalog.repairJournal()).toBe(0);
    expect(log.lines.some((l) => l.msg.startsWith("could not restore missing journal entries"))).toBe(true);
    expect(catalog.health()).toMatchObject({
      status: "degraded",
      detail: { datasets: 3, journal_full: true, journal_repair_failed: expect.stringContaining("last sequence number") },
    });

    const before = [...(await keys(store, "_catalog/")), ...(await keys(store, "_journal/"))];
    let staged = false;
    const err = await catalog
      .commit("a", () => ({
        fields: FIELDS,
        objects: [],
        op: "replace",
        stage: async () => {
          staged = true;
        },
      }))
      .catch((e) => e);
    expect(err).toMatchObject({ code: "unavailable", details: { max_seq: MAX_SEQ } });
    expect(err.message).toContain("/health");
    await expect(catalog.delete("b")).rejects.toMatchObject({ code: "unavailable" });
    expect(staged).toBe(false);
    expect([...(await keys(store, "_catalog/")), ...(await keys(store, "_journal/"))]).toEqual(before);
    expect(catalog.require("a").version).toBe(1);
    expect(catalog.list().map((m) => m.name)).toEqual(["a", "b", "c"]);
  });
});

test("a manifest over the cap is refused before its objects are staged, so what is written always loads", async () => {
  const store = await FsObjectStore.open(tempDir("lh-manifest-cap-"));
  const { catalog, journal } = await open(store);
  await catalog.register("a", FIELDS);
  // ≈210 bytes an object here: 100,000 of them are over the 16 MiB a manifest may take.
  const objects = Array.from({ length: 100_000 }, (_, i) => ({
    key: `datasets/a/${String(i).padStart(64, "0")}.parquet`,
    rows: 999_999_999,
    bytes: 999_999_999,
    source_sha256: "f".repeat(64),
  }));
  let staged = false;
  const err = await catalog
    .commit("a", () => ({
      fields: FIELDS,
      objects,
      op: "append",
      stage: async () => {
        staged = true;
      },
    }))
    .catch((e) => e);
  expect(err).toMatchObject({ code: "too_large", details: { limit_bytes: 16 * 1024 * 1024 } });
  expect(staged).toBe(false);
  expect(await keys(store, "_catalog/")).toEqual([manifestKey("a", 1)]);
  expect(journal.lastSeq).toBe(1);
  // Half as many fit, and load again.
  await catalog.commit("a", () => ({ fields: FIELDS, objects: objects.slice(0, 50_000), op: "append" }));
  expect((await open(store)).catalog.require("a").objects).toHaveLength(50_000);
});
