// A data directory with something under every internal prefix, and the damage the start-up fuzz
// does to it: bytes written straight into the fs store's objects directory (the public API refuses
// writes under reserved prefixes), as a restore from a backup, a bug or a disk error would leave
// them. Two of everything: one to damage, one that must keep working.
import { cpSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { manifestKey } from "../../src/catalog/manifest.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json, ok, post, type Target } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { rng } from "../support/random.ts";
import { tempDir } from "../support/tmp.ts";

export const MiB = 1024 * 1024;
/** Over every record cap (the largest, row hashes, is 256 MiB); sparse, so it costs no disk. */
export const OVERSIZED_BYTES = 300 * MiB;

export type Kind = "garbage" | "truncated" | "empty" | "oversized";
export const KINDS: readonly Kind[] = ["garbage", "truncated", "empty", "oversized"];

/** One object the fuzz damages, and which resource that must take down (if any). */
export interface DamageTarget {
  what: string;
  key: string;
  /** The module whose /health detail must name the damage, when start-up reads the object. */
  module?: "catalog" | "vector" | "matrix";
}

export interface Base {
  root: string;
  targets: DamageTarget[];
  /** A valid object under a name out of range for each prefix: [key, bytes]. */
  outOfRange: [string, string][];
}

/** Builds the base directory once: datasets good and other, indexes vgood and vbad (with snapshots), corpora cgood and cbad, one playbook. */
export async function buildBase(): Promise<Base> {
  const root = tempDir("lh-fuzz-base-");
  const lh = await testLakehouse({ storage: { fs: { root } } });
  try {
    await ingestOk(lh, "good", "id,name\n1,alpha forklift\n2,beta welder\n3,gamma driver\n");
    await ingestOk(lh, "other", "id,v\n1,x\n");
    for (const name of ["vgood", "vbad"]) {
      await ok(post(lh, "/v1/vectors/indexes", { name, dim: 3, metric: "l2" }));
      await ok(
        post(lh, `/v1/vectors/indexes/${name}/upsert`, {
          items: [
            { id: "a", vector: [1, 0, 0] },
            { id: "b", vector: [0, 1, 0] },
          ],
        }),
      );
      await lh.vector.service.waitIndexed(name);
    }
    for (const name of ["cgood", "cbad"]) {
      const res = await post(lh, "/v1/matrix/corpora", { name, dataset: "good", id_column: "id", text: ["name"] });
      if (res.status !== 201) throw new Error(`corpus ${name}: ${res.status} ${await res.text()}`);
      await lh.matrix.corpora.settled(name);
      await lh.vector.service.waitIndexed(`matrix-${name}`);
    }
    await ok(post(lh, "/v1/matrix/playbooks", { query: "forklift", corpus: "cgood", id: "1", outcome: "success" }));
  } finally {
    // Closing takes each index's final snapshot, so the envelope and graph objects exist.
    await lh.close();
  }
  const store = await FsObjectStore.open(root);
  const list = async (prefix: string) => (await store.list(prefix)).items.map((i) => i.key);
  const only = async (prefix: string, re: RegExp) => {
    const keys = (await list(prefix)).filter((k) => re.test(k));
    if (keys.length !== 1) throw new Error(`expected one object under ${prefix} matching ${re}, got ${keys.join(", ")}`);
    return keys[0]!;
  };
  const lastJournal = (await list("_journal/")).at(-1)!;
  const targets: DamageTarget[] = [
    { what: "the catalog manifest of dataset other", key: manifestKey("other", 1), module: "catalog" },
    { what: "the newest journal entry", key: lastJournal, module: "catalog" },
    { what: "the manifest of index vbad", key: "_vectors/vbad/manifest.json", module: "vector" },
    { what: "the snapshot envelope of index vbad", key: await only("_vectors/vbad/", /snap-\d+\.json$/), module: "vector" },
    { what: "the snapshot graph of index vbad", key: await only("_vectors/vbad/", /snap-\d+\.hnsw$/), module: "vector" },
    { what: "the record of corpus cbad", key: "_matrix/corpora/cbad.json", module: "matrix" },
    { what: "the index manifest of corpus cbad", key: "_vectors/matrix-cbad/manifest.json", module: "matrix" },
    { what: "the row hashes of corpus cbad", key: "_matrix/hashes/cbad.json" },
    { what: "a playbook", key: await only("_matrix/playbooks/", /\.json$/), module: "matrix" },
    { what: "the Parquet of dataset other", key: await only("datasets/other/", /\.parquet$/) },
  ];
  const bytesOf = (key: string) => readFileSync(join(root, "objects", key), "utf8");
  const entry = JSON.parse(bytesOf(lastJournal));
  const manifest = JSON.parse(bytesOf(manifestKey("other", 1)));
  const outOfRange: [string, string][] = [
    // Valid bodies whose numbers match their names: code that parsed any width would take them.
    [`_catalog/other/9999999999999.json`, JSON.stringify({ ...manifest, version: 9_999_999_999_999 })],
    ["_journal/9999999999999999.json", `${JSON.stringify({ ...entry, seq: 0 }).slice(0, -1)},"seq":9999999999999999}`],
    ["_journal/00000000000000001.json", JSON.stringify({ ...entry, seq: 1 })],
    ["_vectors/-vbad/manifest.json", bytesOf("_vectors/vbad/manifest.json")],
    ["_matrix/corpora/9cbad.json", bytesOf("_matrix/corpora/cbad.json")],
    ["_matrix/hashes/9cbad.json", bytesOf("_matrix/hashes/cbad.json")],
    ["_matrix/playbooks/NOT-AN-ID.json", bytesOf(targets.find((t) => t.what === "a playbook")!.key)],
    ["datasets/other/stray.parquet", "not referenced by any manifest"],
  ];
  return { root, targets, outOfRange };
}

/** A fresh copy of the base directory to damage. */
export function copyOf(base: Base): string {
  const root = tempDir("lh-fuzz-");
  cpSync(base.root, root, { recursive: true });
  return root;
}

/** Writes `bytes` at `key` in the objects directory of `root`, replacing what was there. */
export function place(root: string, key: string, bytes: Uint8Array | string): string {
  const path = join(root, "objects", key);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

/** Damages the object at `key` in place. */
export function damage(root: string, key: string, kind: Kind): void {
  const path = join(root, "objects", key);
  if (kind === "garbage") {
    const r = rng(key.length);
    place(
      root,
      key,
      Uint8Array.from({ length: 4096 }, () => Math.floor(r() * 256)),
    );
  } else if (kind === "truncated") {
    const bytes = readFileSync(path);
    place(root, key, bytes.subarray(0, Math.floor(bytes.length / 2)));
  } else if (kind === "empty") {
    place(root, key, "");
  } else {
    place(root, key, "");
    truncateSync(path, OVERSIZED_BYTES);
  }
}

/** What every unaffected resource must still answer: SQL over good, search on vgood and on corpus cgood. */
export async function unaffectedWork(target: Target): Promise<void> {
  const sql = await json(post(target, "/v1/sql", { sql: "SELECT count(*) AS n FROM good" }));
  if (sql.rows?.[0]?.[0] !== 3) throw new Error(`SQL over good: ${JSON.stringify(sql)}`);
  const hits = await json(post(target, "/v1/vectors/indexes/vgood/search", { vector: [1, 0, 0], k: 1 }));
  if (hits.hits?.[0]?.id !== "a") throw new Error(`search on vgood: ${JSON.stringify(hits)}`);
  const found = await json(post(target, "/v1/matrix/search", { query: "forklift", corpora: ["cgood"], k: 3 }));
  if (!Array.isArray(found.results) || found.results.length === 0) throw new Error(`matrix search on cgood: ${JSON.stringify(found)}`);
}

export async function health(target: Target): Promise<any> {
  return json(call(target, "/health"));
}
