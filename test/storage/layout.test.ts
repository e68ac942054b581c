// The object-key layout and its guard: the storage API reads everything but cannot write or delete
// the lakehouse's own state, and a module's scoped view cannot touch another module's prefixes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LakehouseError } from "../../src/errors.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { LAYOUT, OWNERSHIP, publicStore, RESERVED, RESERVED_PREFIXES, reservedPrefixOf, scopedStore } from "../../src/storage/layout.ts";
import { withLimits } from "../../src/storage/limits.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json, post } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { rows } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";

type Lh = Awaited<ReturnType<typeof testLakehouse>>;

const obj = (key: string) => `/v1/storage/objects/${key}`;
const bytesOf = async (lh: Lh, key: string) => new Uint8Array(await (await call(lh, obj(key))).arrayBuffer());

async function listed(lh: Lh, prefix: string): Promise<{ key: string; etag: string }[]> {
  const res = await call(lh, `/v1/storage/objects?prefix=${encodeURIComponent(prefix)}`);
  expect(res.status).toBe(200);
  return (await json(res)).items.map((i: { key: string; etag: string }) => ({ key: i.key, etag: i.etag }));
}

async function expectRefused(res: Response, prefix: string): Promise<void> {
  expect(res.status).toBe(403);
  const body = await json(res);
  expect(body.error.code).toBe("reserved_prefix");
  expect(body.error.message).toContain(`"${prefix}"`);
  expect(body.error.details).toEqual({ prefix });
}

describe("the storage API cannot write or delete under a reserved prefix", () => {
  let lh: Lh;
  /** One existing key under every reserved prefix, and its bytes before any attempt. */
  const existing = new Map<string, { key: string; bytes: Uint8Array<ArrayBuffer> }>();
  const before = new Map<string, { key: string; etag: string }[]>();

  beforeAll(async () => {
    lh = await testLakehouse();
    // Real state from the modules that own it: a dataset (catalog, journal, Parquet) and an index.
    expect((await ingest(lh, "people", "id,name\n1,ann\n2,bob\n")).status).toBe(201);
    const index = await post(lh, "/v1/vectors/indexes", { name: "emb", dim: 3 });
    expect(index.status).toBe(201);
    // Prefixes whose modules have no state yet get an object written past the guard.
    for (const p of [RESERVED.matrix, RESERVED.pathway, RESERVED.observer, RESERVED.workflows]) await lh.storage.store.put(`${p}seed.json`, "{}");
    for (const prefix of RESERVED_PREFIXES) {
      const items = await listed(lh, prefix);
      before.set(prefix, items);
      const key = items[0]!.key;
      existing.set(prefix, { key, bytes: await bytesOf(lh, key) });
    }
  });
  afterAll(() => lh.close());

  test("listing shows the reserved keys, and deleting a listed one is refused", async () => {
    expect(before.get(RESERVED.catalog)!.map((i) => i.key)).toEqual(["_catalog/people/000000000001.json"]);
    expect(before.get(RESERVED.journal)!.length).toBeGreaterThanOrEqual(1);
    expect(before.get(RESERVED.datasets)!.map((i) => i.key)).toEqual([expect.stringMatching(/^datasets\/people\/[0-9a-f]{64}\.parquet$/)]);
    expect(before.get(RESERVED.vectors)!.map((i) => i.key)).toContain("_vectors/emb/manifest.json");
    await expectRefused(await call(lh, obj(existing.get(RESERVED.catalog)!.key), { method: "DELETE" }), RESERVED.catalog);
  });

  for (const prefix of RESERVED_PREFIXES) {
    test(`${prefix}: PUT, PUT If-None-Match: * and DELETE are 403 and change nothing`, async () => {
      const { key } = existing.get(prefix)!;
      const fresh = `${prefix}new/object.json`;
      await expectRefused(await call(lh, obj(key), { method: "PUT", body: "overwritten" }), prefix);
      await expectRefused(await call(lh, obj(fresh), { method: "PUT", body: "new" }), prefix);
      await expectRefused(await call(lh, obj(fresh), { method: "PUT", headers: { "If-None-Match": "*" }, body: "new" }), prefix);
      await expectRefused(await call(lh, obj(key), { method: "PUT", headers: { "If-None-Match": "*" }, body: "overwritten" }), prefix);
      await expectRefused(await call(lh, obj(key), { method: "DELETE" }), prefix);
      await expectRefused(await call(lh, obj(fresh), { method: "DELETE" }), prefix);
      // The bare folder name would shadow the folder on the fs backend.
      await expectRefused(await call(lh, obj(prefix.slice(0, -1)), { method: "PUT", body: "x" }), prefix);

      expect(await bytesOf(lh, key)).toEqual(existing.get(prefix)!.bytes);
      expect(await listed(lh, prefix)).toEqual(before.get(prefix)!);
      expect((await call(lh, obj(fresh), { method: "HEAD" })).status).toBe(404);
      expect((await call(lh, obj(prefix.slice(0, -1)), { method: "HEAD" })).status).toBe(404);
    });
  }

  test("a refused PUT never reads its body", async () => {
    for (const headers of [{}, { "If-None-Match": "*" }, { "content-length": "5" }]) {
      let pulled = 0;
      const body = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            pulled++;
            controller.enqueue(new TextEncoder().encode("bytes"));
            controller.close();
          },
        },
        { highWaterMark: 0 },
      );
      const req = new Request(`http://localhost${obj(existing.get(RESERVED.catalog)!.key)}`, {
        method: "PUT",
        headers,
        body,
        duplex: "half",
      } as RequestInit);
      await expectRefused(await lh.app.fetch(req, { ip: "127.0.0.1" }), RESERVED.catalog);
      expect(req.bodyUsed).toBe(false);
      expect(pulled).toBe(0);
    }
  });

  test("the Parquet under datasets/ stays readable while writes to it are refused", async () => {
    const { key } = existing.get(RESERVED.datasets)!;
    const res = await call(lh, obj(key));
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode(new Uint8Array(await res.arrayBuffer()).slice(0, 4))).toBe("PAR1");
    expect((await call(lh, obj(key), { method: "HEAD" })).status).toBe(200);
    expect((await call(lh, obj(key), { headers: { Range: "bytes=0-3" } })).status).toBe(206);
    await expectRefused(await call(lh, obj(key), { method: "PUT", body: "PAR1" }), RESERVED.datasets);
  });

  test("keys that only look like a reserved prefix stay writable, the reserved one next to them does not", async () => {
    const pairs: [string, string][] = [
      ["docs/a.txt", "_catalog/a.txt"],
      ["_catalogue/x", "_catalog/x"],
      ["_journals/x", "_journal/x"],
      ["datasets2/x", "datasets/x"],
      ["dataset/x", "datasets/x"],
      ["x/datasets/y", "datasets/y"],
      ["_vectorsx/y", "_vectors/y"],
    ];
    for (const [free, reserved] of pairs) {
      expect((await call(lh, obj(free), { method: "PUT", body: "ok" })).status).toBe(201);
      expect(await (await call(lh, obj(free))).text()).toBe("ok");
      expect((await call(lh, obj(free), { method: "DELETE" })).status).toBe(204);
      expect((await call(lh, obj(free), { method: "PUT", headers: { "If-None-Match": "*" }, body: "once" })).status).toBe(201);
      await expectRefused(await call(lh, obj(reserved), { method: "PUT", body: "no" }), reservedPrefixOf(reserved)!);
    }
  });

  test("after every refused attempt the lakehouse is intact: catalog ok, SQL answers, the index is there", async () => {
    for (const prefix of RESERVED_PREFIXES) {
      await expectRefused(await call(lh, obj(existing.get(prefix)!.key), { method: "DELETE" }), prefix);
      expect(await listed(lh, prefix)).toEqual(before.get(prefix)!);
    }
    const health = await json(await call(lh, "/health"));
    expect(health.modules.catalog).toBe("ok");
    expect(health.modules.storage).toBe("ok");
    expect(await rows(lh, "select count(*) from people")).toEqual([[2]]);
    expect((await call(lh, "/v1/vectors/indexes/emb")).status).toBe(200);
  });
});

describe("layout", () => {
  test("reservedPrefixOf names the prefix, the bare folder name included, and nothing else", () => {
    expect(reservedPrefixOf("_catalog/a/000000000001.json")).toBe("_catalog/");
    expect(reservedPrefixOf("_matrix/playbooks/p.json")).toBe("_matrix/");
    expect(reservedPrefixOf("_workflows")).toBe("_workflows/");
    for (const key of ["docs/a.txt", "_catalogue/x", "datasets2/x", "dataset/x", "x/_catalog/y", "_catalo"]) expect(reservedPrefixOf(key)).toBeNull();
  });

  test("every reserved prefix has exactly one owner, and every sub-folder lies under a reserved prefix", () => {
    for (const prefix of RESERVED_PREFIXES) {
      const owners = Object.entries(OWNERSHIP).filter(([, a]) => (a.own as readonly string[]).includes(prefix));
      expect(owners.map(([o]) => o)).toHaveLength(1);
    }
    for (const p of Object.values(LAYOUT)) expect(reservedPrefixOf(p)).not.toBeNull();
  });

  test("no source file outside layout.ts spells a reserved prefix as a literal", () => {
    const src = join(import.meta.dir, "../../src");
    const literal = new RegExp(`["'\`](${RESERVED_PREFIXES.map((p) => p.replace(/[/]/g, "\\/")).join("|")})`);
    const offenders: string[] = [];
    for (const file of readdirSync(src, { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts") || file === join("storage", "layout.ts")) continue;
      // Comments may name a prefix; code may not.
      const code = readFileSync(join(src, file), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "");
      if (literal.test(code)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});

describe("scoped and public views", () => {
  const open = async () =>
    withLimits(await FsObjectStore.open(tempDir("lh-layout-"), { fsync: false }), { defaultBytes: 100, prefixes: { "_vectors/": 1000 } }, 2);

  test("a module's scoped store refuses keys outside its prefixes with a programming error", async () => {
    const store = await open();
    const vector = scopedStore(store, "vector");
    await vector.put("_vectors/i/manifest.json", "{}");
    expect(vector.capFor("_vectors/i/snap-1.hnsw")).toBe(1000);
    for (const attempt of [
      () => vector.put("_catalog/a/000000000001.json", "{}"),
      () => vector.putIfAbsent("_matrix/corpora/c.json", "{}"),
      () => vector.delete("datasets/a/x.parquet"),
      () => vector.getBytes("_journal/0000000000000001.json"),
      () => vector.list(""),
      () => vector.list("_vectorsx/"),
    ]) {
      const err = await attempt().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(LakehouseError);
      expect(String(err)).toContain('"vector"');
    }
    expect(() => vector.capFor("docs/x")).toThrow(/may not write/);
    expect((await store.list("")).items.map((i) => i.key)).toEqual(["_vectors/i/manifest.json"]);
  });

  test("grants are per operation: the catalog deletes Parquet but cannot write it, SQL only reads it", async () => {
    const store = await open();
    await store.put("datasets/a/x.parquet", "PAR1");
    const sql = scopedStore(store, "sql");
    expect(new TextDecoder().decode(await sql.getBytes("datasets/a/x.parquet"))).toBe("PAR1");
    expect(sql.localPath!("datasets/a/x.parquet")).toEndWith("x.parquet");
    await expect(sql.put("datasets/a/y.parquet", "x")).rejects.toThrow(/"sql" may not write/);
    await expect(sql.delete("datasets/a/x.parquet")).rejects.toThrow(/"sql" may not delete/);
    const catalog = scopedStore(store, "catalog");
    await expect(catalog.put("datasets/a/y.parquet", "x")).rejects.toThrow(/"catalog" may not write/);
    expect(await catalog.delete("datasets/a/x.parquet")).toBe(true);
    await catalog.putIfAbsent("_journal/0000000000000001.json", "{}");
  });

  test("the public store keeps capFor for free keys and refuses it for reserved ones", async () => {
    const store = publicStore(await open());
    expect(store.capFor("docs/x")).toBe(100);
    expect(() => store.capFor("_vectors/i/manifest.json")).toThrow(/managed by the lakehouse/);
    await expect(store.delete("datasets/a/x.parquet")).rejects.toMatchObject({ code: "reserved_prefix", details: { prefix: "datasets/" } });
    expect(await store.head("docs/x")).toBeNull();
  });
});
