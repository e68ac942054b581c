import { describe, expect, test } from "bun:test";
import { mkdirSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { readJson, readJsonChecked } from "../../src/lib/read-json.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import type { ObjectStore } from "../../src/storage/store.ts";
import { tempDir } from "../support/tmp.ts";

const Schema = v.object({ name: v.string(), n: v.number() });
const MiB = 1024 * 1024;

/** `store` with its `get` replaced (the rest delegated). */
function withGet(store: ObjectStore, get: ObjectStore["get"]): ObjectStore {
  return {
    backend: store.backend,
    put: (k, b, o) => store.put(k, b, o),
    putIfAbsent: (k, b) => store.putIfAbsent(k, b),
    get,
    getBytes: (k) => store.getBytes(k),
    head: (k) => store.head(k),
    list: (p, o) => store.list(p, o),
    delete: (k) => store.delete(k),
    close: () => store.close(),
  };
}

/** The store, counting the body bytes its readers actually pull. */
function counting(store: ObjectStore): { store: ObjectStore; pulled: () => number } {
  let pulled = 0;
  const wrapped = withGet(store, async (key, range) => {
    const got = await store.get(key, range);
    const counted = got.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          pulled += chunk.byteLength;
          c.enqueue(chunk);
        },
      }),
    );
    if (got.bytes) pulled += got.bytes.byteLength;
    return { ...got, body: counted };
  });
  return { store: wrapped, pulled: () => pulled };
}

async function fixture() {
  const root = tempDir("lh-readjson-");
  const store = await FsObjectStore.open(root);
  /** Writes bytes straight into the objects directory, as a restore or a disk error would. */
  const place = (key: string, bytes: Uint8Array | string) => {
    const path = join(root, "objects", key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    return path;
  };
  return { root, store, place };
}

describe("readJson", () => {
  test("reads and validates a record under its cap", async () => {
    const { store, place } = await fixture();
    const body = JSON.stringify({ name: "a", n: 1 });
    place("r/a.json", body);
    expect(await readJson(store, "r/a.json", Schema, { maxBytes: 1024 })).toEqual({ name: "a", n: 1 });
    expect(await readJsonChecked(store, "r/a.json", Schema, { maxBytes: 1024 })).toEqual({ ok: true, value: { name: "a", n: 1 }, bytes: body.length });
  });

  test("a 200 MiB object is refused from its size without a byte of its body being read", async () => {
    const { store, place } = await fixture();
    // Sparse: 200 MiB to anyone who reads it, nothing on disk.
    truncateSync(place("r/huge.json", ""), 200 * MiB);
    const c = counting(store);
    expect(await readJsonChecked(c.store, "r/huge.json", Schema, { maxBytes: 16 * MiB })).toEqual({ ok: false, problem: "too_large" });
    expect(c.pulled()).toBe(0);
    // Just over the cap is too large; at the cap it is read (and then judged).
    place("r/edge.json", JSON.stringify({ name: "x".repeat(100), n: 1 }));
    const size = JSON.stringify({ name: "x".repeat(100), n: 1 }).length;
    expect((await readJsonChecked(store, "r/edge.json", Schema, { maxBytes: size - 1 })).ok).toBe(false);
    expect((await readJsonChecked(store, "r/edge.json", Schema, { maxBytes: size })).ok).toBe(true);
  });

  test("a store whose body runs past the size it reported is stopped at the cap", async () => {
    const { store, place } = await fixture();
    place("r/a.json", JSON.stringify({ name: "a", n: 1 }));
    let served = 0;
    const lying = withGet(store, async (key) => {
      const got = await store.get(key);
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          served += 64 * 1024;
          c.enqueue(new Uint8Array(64 * 1024).fill(32));
        },
      });
      return { info: { ...got.info, size: 10 }, body };
    });
    expect(await readJsonChecked(lying, "r/a.json", Schema, { maxBytes: MiB })).toEqual({ ok: false, problem: "too_large" });
    expect(served).toBeLessThanOrEqual(MiB + 128 * 1024);
  });

  const damaged: [string, Uint8Array | string, string][] = [
    ["empty", "", "not_json"],
    ["garbage", new Uint8Array([0x00, 0x9f, 0x92, 0x96, 0xff, 0x7b]), "not_json"],
    ["truncated", '{"name":"a","n":', "not_json"],
    ["not UTF-8 inside a string", new Uint8Array([...Buffer.from('{"name":"'), 0xff, ...Buffer.from('","n":1}')]), "not_json"],
    ["nested past the parser's depth", "[".repeat(200_000), "not_json"],
    ["valid JSON, not the record", JSON.stringify({ name: 1 }), "invalid"],
  ];
  for (const [what, bytes, problem] of damaged) {
    test(`${what}: ${problem}, never a throw`, async () => {
      const { store, place } = await fixture();
      place("r/x.json", bytes);
      expect(await readJsonChecked(store, "r/x.json", Schema, { maxBytes: MiB })).toEqual({ ok: false, problem: problem as "invalid" });
      expect(await readJson(store, "r/x.json", Schema, { maxBytes: MiB })).toBeNull();
    });
  }

  test("missing is a problem of its own; a failing store throws", async () => {
    const { store } = await fixture();
    expect(await readJsonChecked(store, "r/none.json", Schema, { maxBytes: MiB })).toEqual({ ok: false, problem: "missing" });
    const down = withGet(store, async () => Promise.reject(new Error("connection refused")));
    await expect(readJsonChecked(down, "r/none.json", Schema, { maxBytes: MiB })).rejects.toThrow("connection refused");
  });
});
