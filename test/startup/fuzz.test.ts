// Start-up survives any bytes in the store: garbage, truncated, empty, oversized and
// out-of-range-named objects under every internal prefix, one at a time and all together. Each
// time the whole lakehouse opens on the damaged directory; /health names what was skipped; the
// damaged resource answers 503 by name; everything else (SQL over good, search on vgood and on
// corpus cgood) keeps working. Real child processes: ./process.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Lakehouse } from "../../src/app.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json, post } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { type Base, buildBase, copyOf, damage, health, KINDS, type Kind, place, unaffectedWork } from "./fixture.ts";

let base: Base;
const roots: string[] = [];
beforeAll(async () => {
  base = await buildBase();
});
afterAll(() => {
  for (const r of [base.root, ...roots]) rmSync(r, { recursive: true, force: true });
});

/** Opens the lakehouse on a copy of the base damaged by `harm`, runs `check`, closes it. */
async function withDamaged(harm: (root: string) => void, check: (lh: Lakehouse, h: any) => Promise<void>): Promise<void> {
  const root = copyOf(base);
  roots.push(root);
  harm(root);
  const lh = await testLakehouse({ storage: { fs: { root } } });
  try {
    const h = await health(lh);
    await check(lh, h);
    await unaffectedWork(lh);
  } finally {
    await lh.close();
    rmSync(root, { recursive: true, force: true });
  }
}

const reasonOf = (kind: Kind) => (kind === "oversized" ? "too_large" : "not_json");
const status = async (res: Response | Promise<Response>) => (await res).status;
const searchCorpus = (lh: Lakehouse, name: string) => post(lh, "/v1/matrix/search", { query: "forklift", corpora: [name], k: 1 });
const searchIndex = (lh: Lakehouse, name: string) => post(lh, `/v1/vectors/indexes/${name}/search`, { vector: [1, 0, 0], k: 1 });

/** What each damaged object must do to the started process, by the target's key. */
const effects: Record<string, (lh: Lakehouse, h: any, key: string, kind: Kind) => Promise<void>> = {
  "the catalog manifest of dataset other": async (lh, h, key, kind) => {
    expect(h.details.catalog.skipped_manifests.objects).toEqual([{ key, reason: reasonOf(kind) }]);
    expect(h.details.catalog.unavailable_datasets).toEqual(["other"]);
    expect(await json(call(lh, "/v1/catalog/datasets/other"))).toMatchObject({ error: { code: "unavailable", details: { dataset: "other" } } });
  },
  "the newest journal entry": async (lh, h, key, kind) => {
    expect(h.details.catalog.skipped_journal_entries.objects).toEqual([{ key, reason: reasonOf(kind) }]);
    // The catalog writes on: the next entry goes above the damaged one.
    expect(await status(ingest(lh, "fresh", "a\n1\n"))).toBe(201);
  },
  "the manifest of index vbad": async (lh, h) => {
    expect(h.details.vector.unavailable_indexes).toEqual(["vbad"]);
    expect(await json(searchIndex(lh, "vbad"))).toMatchObject({ error: { code: "unavailable", details: { index: "vbad" } } });
  },
  "the record of corpus cbad": async (lh, h, key, kind) => {
    expect(h.details.matrix.unavailable_corpora).toEqual({ cbad: "record_damaged" });
    expect(h.details.matrix.skipped_corpus_records.objects).toEqual([{ key, reason: reasonOf(kind) }]);
    expect(await json(searchCorpus(lh, "cbad"))).toMatchObject({ error: { code: "unavailable", details: { corpus: "cbad" } } });
    expect((await json(call(lh, "/v1/matrix/corpora"))).corpora.map((c: any) => c.name)).toEqual(["cgood"]);
    // Deleting it clears it; it can then be built again.
    expect(await status(call(lh, "/v1/matrix/corpora/cbad", { method: "DELETE" }))).toBe(200);
    expect(await status(call(lh, "/v1/matrix/corpora/cbad"))).toBe(404);
    expect(await status(post(lh, "/v1/matrix/corpora", { name: "cbad", dataset: "good", id_column: "id", text: ["name"] }))).toBe(201);
    await lh.matrix.corpora.settled("cbad");
    expect(await status(searchCorpus(lh, "cbad"))).toBe(200);
  },
  "the index manifest of corpus cbad": async (lh, h) => {
    // The corpus record is fine, its index is not: the corpus is unavailable, the listing and cgood are not.
    expect(h.details.vector.unavailable_indexes).toEqual(["matrix-cbad"]);
    expect(h.details.matrix.unavailable_corpora).toEqual({ cbad: "index_unavailable" });
    expect(await json(searchCorpus(lh, "cbad"))).toMatchObject({ error: { code: "unavailable", details: { corpus: "cbad" } } });
    expect((await json(call(lh, "/v1/matrix/corpora"))).corpora.map((c: any) => c.name)).toEqual(["cgood"]);
    // A search over every corpus (no list given) searches the ones that loaded.
    expect(await status(post(lh, "/v1/matrix/search", { query: "forklift", k: 1 }))).toBe(200);
    expect(await status(call(lh, "/v1/matrix/corpora/cbad", { method: "DELETE" }))).toBe(200);
    expect((await json(call(lh, "/health"))).details.vector?.unavailable_indexes).toBeUndefined();
  },
  "the row hashes of corpus cbad": async (lh, h) => {
    // Not read at start-up (only a build needs them): cbad serves; a rebuild fails saying why.
    expect(h.modules.matrix).toBe("ok");
    expect(await status(searchCorpus(lh, "cbad"))).toBe(200);
    expect(await status(post(lh, "/v1/matrix/corpora", { name: "cbad", dataset: "good", id_column: "id", text: ["name"] }))).toBe(202);
    await lh.matrix.corpora.settled("cbad");
    const st = await json(call(lh, "/v1/matrix/corpora/cbad"));
    expect(st).toMatchObject({ state: "failed", error: expect.stringContaining("row hashes are damaged") });
  },
  "a playbook": async (lh, h, key, kind) => {
    expect(h.details.matrix.skipped_playbooks.objects).toEqual([{ key, reason: reasonOf(kind) }]);
    expect((await json(call(lh, "/v1/matrix/playbooks"))).playbooks).toEqual([]);
  },
  "the Parquet of dataset other": async (lh) => {
    // The SQL module reports this one (src/sql): the query over it fails, the catalog still lists it.
    expect(await status(post(lh, "/v1/sql", { sql: "SELECT * FROM other" }))).not.toBe(200);
    expect(await status(call(lh, "/v1/catalog/datasets/other"))).toBe(200);
  },
};
effects["the snapshot envelope of index vbad"] = effects["the manifest of index vbad"]!;
effects["the snapshot graph of index vbad"] = effects["the manifest of index vbad"]!;

/** Runs `fn` over `items`, `n` at a time: each start is mostly waiting (a SQL worker, DuckDB), so a few overlap well. */
async function inBatches<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(fn));
}

describe("one damaged object at a time", () => {
  test("every target has its expected effect", () => {
    expect(base.targets.map((t) => t.what).sort()).toEqual(Object.keys(effects).sort());
  });
  // Built before the tests are declared, so the targets are listed here by name.
  for (const what of Object.keys(effects)) {
    test(`${what}: garbage, truncated, empty or oversized, the process starts, names it and serves the rest`, async () => {
      const target = base.targets.find((t) => t.what === what)!;
      await inBatches(KINDS, KINDS.length, (kind) =>
        withDamaged(
          (root) => damage(root, target.key, kind),
          async (lh, h) => {
            // The Parquet is the SQL module's to report (when it finds it out is its business).
            if (!target.what.includes("Parquet")) expect(h.status).toBe(target.module ? "degraded" : "ok");
            await effects[target.what]!(lh, h, target.key, kind);
          },
        ),
      );
    }, 60_000);
  }

  test("out-of-range names under every prefix: skipped and named, and what they shadow serves", async () => {
    // Where each is reported, and what a loose parser would have taken it for (which must serve as it was).
    const expected: Record<string, [(h: any) => unknown, (lh: Lakehouse) => Promise<void>]> = {
      _catalog: [
        (h) => h.details.catalog.skipped_manifests.objects,
        async (lh) => expect((await json(post(lh, "/v1/sql", { sql: "SELECT count(*) FROM other" }))).rows).toEqual([[1]]),
      ],
      _journal: [(h) => h.details.catalog.skipped_journal_entries.objects, async (lh) => expect(await status(ingest(lh, "fresh", "a\n1\n"))).toBe(201)],
      _vectors: [(h) => h.details.vector.skipped.objects, async (lh) => expect(await status(searchIndex(lh, "vbad"))).toBe(200)],
      "_matrix/corpora": [(h) => h.details.matrix.skipped_corpus_records.objects, async (lh) => expect(await status(searchCorpus(lh, "cbad"))).toBe(200)],
      "_matrix/hashes": [(h) => h.details.matrix.skipped_corpus_records.objects, async (lh) => expect(await status(searchCorpus(lh, "cbad"))).toBe(200)],
      "_matrix/playbooks": [
        (h) => h.details.matrix.skipped_playbooks.objects,
        async (lh) => expect((await json(call(lh, "/v1/matrix/playbooks"))).playbooks).toHaveLength(1),
      ],
      // An unreferenced object under datasets/ is nobody's concern.
      datasets: [
        (h) => (h.status === "ok" ? [] : h.details),
        async (lh) => expect(await status(post(lh, "/v1/sql", { sql: "SELECT * FROM other" }))).toBe(200),
      ],
    };
    expect(base.outOfRange.map(([key]) => Object.keys(expected).find((p) => key.startsWith(`${p}/`))).every((p) => p !== undefined)).toBe(true);
    await inBatches(base.outOfRange, 4, ([key, body]) =>
      withDamaged(
        (root) => place(root, key, body),
        async (lh, h) => {
          const [named, serves] = expected[Object.keys(expected).find((p) => key.startsWith(`${p}/`))!]!;
          expect(named(h)).toEqual(key.startsWith("datasets/") ? [] : [{ key, reason: "bad_name" }]);
          await serves(lh);
        },
      ),
    );
  }, 60_000);
});

test("all together: every target damaged (each kind in turn) and every out-of-range name placed", async () => {
  await withDamaged(
    (root) => {
      for (const [i, t] of base.targets.entries()) damage(root, t.key, KINDS[i % KINDS.length]!);
      for (const [key, body] of base.outOfRange) place(root, key, body);
      // A file no key can name (a backslash): the fs store leaves it out of listings.
      place(root, "_catalog/bad\\name/000000000001.json", "{}");
    },
    async (lh, h) => {
      expect(h.status).toBe("degraded");
      const keys = (d: { objects: { key: string }[] }) => d.objects.map((o) => o.key);
      expect(keys(h.details.catalog.skipped_manifests)).toContain(base.targets[0]!.key);
      expect(keys(h.details.catalog.skipped_journal_entries)).toContain(base.targets[1]!.key);
      expect(keys(h.details.catalog.skipped_journal_entries)).toContain("_journal/9999999999999999.json");
      expect(h.details.catalog.unavailable_datasets).toEqual(["other"]);
      expect(h.details.vector.unavailable_indexes).toEqual(["matrix-cbad", "vbad"]);
      expect(keys(h.details.vector.skipped)).toEqual(["_vectors/-vbad/manifest.json"]);
      expect(h.details.matrix.unavailable_corpora).toEqual({ cbad: "record_damaged" });
      const playbook = base.targets.find((t) => t.what === "a playbook")!.key;
      expect(keys(h.details.matrix.skipped_playbooks).sort()).toEqual([playbook, "_matrix/playbooks/NOT-AN-ID.json"].sort());
      expect(await status(call(lh, "/v1/catalog/datasets/other"))).toBe(503);
      expect(await status(searchIndex(lh, "vbad"))).toBe(503);
      expect(await status(searchCorpus(lh, "cbad"))).toBe(503);
      expect(await status(ingest(lh, "fresh", "a\n1\n"))).toBe(201);
      expect((await json(post(lh, "/v1/sql", { sql: "SELECT a FROM fresh" }))).rows).toEqual([[1]]);
    },
  );
}, 60_000);

test("records that parse but hold what no writer makes (1e400, a time that is none) are damage, not NaN scores", async () => {
  const playbook = base.targets.find((t) => t.what === "a playbook")!.key;
  await withDamaged(
    (root) => {
      const text = (key: string) => readFileSync(join(root, "objects", key), "utf8");
      // JSON.parse reads 1e400 as Infinity: the progress rate and ETA would be NaN.
      place(root, "_matrix/corpora/cbad.json", text("_matrix/corpora/cbad.json").replace(/"rows_total":\d+/, '"rows_total":1e400'));
      place(root, playbook, text(playbook).replace(/"created_at":"[^"]+"/, '"created_at":"yesterday"'));
    },
    async (_lh, h) => {
      expect(h.details.matrix.unavailable_corpora).toEqual({ cbad: "record_damaged" });
      expect(h.details.matrix.skipped_corpus_records.objects).toEqual([{ key: "_matrix/corpora/cbad.json", reason: "invalid" }]);
      expect(h.details.matrix.skipped_playbooks.objects).toEqual([{ key: playbook, reason: "invalid" }]);
    },
  );
}, 60_000);
