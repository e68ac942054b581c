// One contract suite, run against both backends: the fs store on a temp dir and the s3 store on a
// real S3-protocol server (s3rver) on loopback.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Conflict, NotFound, RangeNotSatisfiable, TooLarge, ValidationFailed } from "../../src/errors.ts";
import { memoryLogger } from "../../src/log.ts";
import { FsObjectStore } from "../../src/storage/fs-store.ts";
import { withLimits } from "../../src/storage/limits.ts";
import { S3ObjectStore } from "../../src/storage/s3-store.ts";
import type { ObjectStore } from "../../src/storage/store.ts";
import { type RunningS3, s3Options, startS3rver } from "../support/s3rver.ts";
import { tempDir } from "../support/tmp.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const read = async (s: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(s).arrayBuffer());

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

interface Backend {
  name: string;
  /**
   * Whether the server behind the backend replaces objects atomically. AWS S3 and MinIO do; s3rver
   * writes each object file in place, so a concurrent GET there can be cut short (our client then
   * fails the read rather than return a torn object), and the torn-read property is not s3rver's to
   * prove. The fs backend is ours, and is held to it.
   */
  atomicServer: boolean;
  open(): Promise<{ store: ObjectStore; leftovers(): Promise<string[]>; close(): Promise<void> }>;
}

let s3: RunningS3;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3.stop();
});

const backends: Backend[] = [
  {
    name: "fs",
    atomicServer: true,
    async open() {
      const root = tempDir("lh-store-");
      const store = await FsObjectStore.open(root);
      return { store, leftovers: async () => readdirSync(join(root, "tmp")), close: () => store.close() };
    },
  },
  {
    name: "s3",
    atomicServer: false,
    async open() {
      const store = await S3ObjectStore.open({ ...s3Options(s3), part_size_bytes: 5 * 1024 * 1024 }, memoryLogger());
      // Incomplete multipart uploads are invisible to list; what matters is that no object appears.
      return { store, leftovers: async () => [], close: () => store.close() };
    },
  },
];

for (const backend of backends) {
  describe(`object store contract: ${backend.name}`, () => {
    let store: ObjectStore;
    let ctx: Awaited<ReturnType<Backend["open"]>>;
    const ns = () => `t-${crypto.randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      ctx = await backend.open();
      store = ctx.store;
    });
    afterAll(async () => {
      await ctx.close();
    });

    test("put then get returns the same bytes, head reports size", async () => {
      const key = `${ns()}/a/b.txt`;
      const info = await store.put(key, "hello world");
      expect(info.size).toBe(11);
      expect(text(await store.getBytes(key))).toBe("hello world");
      const head = await store.head(key);
      expect(head?.size).toBe(11);
      expect(head?.etag).toBe(info.etag);
    });

    test("put replaces an existing object", async () => {
      const key = `${ns()}/x`;
      await store.put(key, "first version, longer");
      await store.put(key, "second");
      expect(text(await store.getBytes(key))).toBe("second");
    });

    test("put streams a body given in chunks", async () => {
      const key = `${ns()}/stream`;
      const chunk = new Uint8Array(64 * 1024).fill(65);
      await store.put(key, streamOf([chunk, chunk, chunk]));
      expect((await store.head(key))?.size).toBe(3 * 64 * 1024);
    });

    test("putIfAbsent creates once and refuses the second create", async () => {
      const key = `${ns()}/manifest-1.json`;
      await store.putIfAbsent(key, '{"v":1}');
      await expect(store.putIfAbsent(key, '{"v":2}')).rejects.toBeInstanceOf(Conflict);
      expect(text(await store.getBytes(key))).toBe('{"v":1}');
    });

    test("racing putIfAbsent calls: exactly one wins", async () => {
      const key = `${ns()}/race`;
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.putIfAbsent(key, `writer-${i}`)));
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won.length).toBe(1);
      expect(results.filter((r) => r.status === "rejected").every((r) => (r as PromiseRejectedResult).reason instanceof Conflict)).toBe(true);
    });

    test("get and getBytes of a missing key throw NotFound; head returns null", async () => {
      await expect(store.get(`${ns()}/missing`)).rejects.toBeInstanceOf(NotFound);
      await expect(store.getBytes(`${ns()}/missing`)).rejects.toBeInstanceOf(NotFound);
      expect(await store.head(`${ns()}/missing`)).toBeNull();
    });

    test("range reads return the requested bytes", async () => {
      const key = `${ns()}/range`;
      await store.put(key, "0123456789");
      const mid = await store.get(key, { start: 2, end: 5 });
      expect(text(await read(mid.body))).toBe("2345");
      expect(mid.range).toEqual({ start: 2, end: 5 });
      expect(mid.info.size).toBe(10);
      const tail = await store.get(key, { start: 7 });
      expect(text(await read(tail.body))).toBe("789");
      const past = await store.get(key, { start: 8, end: 100 });
      expect(text(await read(past.body))).toBe("89");
      await expect(store.get(key, { start: 10 })).rejects.toBeInstanceOf(RangeNotSatisfiable);
    });

    test("list is in key order, filtered by prefix, and paginates with a cursor", async () => {
      const base = ns();
      const keys = ["b/2", "a/1", "a/3", "c", "a/2", "b/1"].map((k) => `${base}/${k}`);
      for (const k of keys) await store.put(k, k);
      await store.put(`${base}x/other`, "not under the prefix");
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list(`${base}/`, { cursor, limit: 4 });
        expect(page.items.length).toBeLessThanOrEqual(4);
        seen.push(...page.items.map((i) => i.key));
        cursor = page.cursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(2);
      expect(seen).toEqual([...keys].sort());
      const onlyA = await store.list(`${base}/a/`);
      expect(onlyA.items.map((i) => i.key)).toEqual([`${base}/a/1`, `${base}/a/2`, `${base}/a/3`]);
      expect(onlyA.items[0]!.size).toBe(`${base}/a/1`.length);
    });

    test("delete removes an object and reports whether it existed", async () => {
      const key = `${ns()}/del`;
      await store.put(key, "x");
      expect(await store.delete(key)).toBe(true);
      expect(await store.head(key)).toBeNull();
      expect(await store.delete(key)).toBe(false);
    });

    test("keys that could escape the root or are malformed are refused", async () => {
      const bad = ["../etc/passwd", "a/../../b", "/abs", "a\\b", "a\u0000b", "a//b", "a/", "./a", "", "x".repeat(1025)];
      for (const key of bad) {
        await expect(store.put(key, "x")).rejects.toThrow(/invalid object key/);
        await expect(store.get(key)).rejects.toThrow(/invalid object key/);
      }
      expect(() => store.list("../")).toThrow(/invalid prefix/);
    });

    test("a key segment over 255 bytes is refused (400) on every call, before the backend sees it", async () => {
      const base = ns();
      // 255 bytes is the filesystem's NAME_MAX; S3 allows it and more, but keys stay portable.
      for (const segment of ["a".repeat(256), "é".repeat(128), `${"a".repeat(254)}é`]) {
        const key = `${base}/${segment}/x`;
        const calls: (() => Promise<unknown>)[] = [
          () => store.put(key, "x"),
          () => store.putIfAbsent(key, "x"),
          () => store.get(key),
          () => store.head(key),
          () => store.delete(key),
        ];
        for (const call of calls) {
          // Through a promise: a backend may throw synchronously or reject; both count.
          const err = await Promise.resolve()
            .then(call)
            .then(
              () => null,
              (e) => e,
            );
          expect(err).toBeInstanceOf(ValidationFailed);
          expect(err.details).toEqual([{ path: "key", message: "key has a segment (between two /) longer than 255 bytes" }]);
        }
        await expect(Promise.resolve().then(() => store.list(`${base}/${segment}/`))).rejects.toBeInstanceOf(ValidationFailed);
      }
      // 255 bytes, in ASCII or in two-byte characters, is a key like any other. (s3rver, the test
      // server, keeps an object in files named <segment>._S3rver_object and ._S3rver_metadata.json,
      // so it fails itself on long segments; AWS S3 takes 1024 bytes.)
      const longest = backend.name === "fs" ? ["a".repeat(255), `${"é".repeat(127)}a`] : ["a".repeat(200), "é".repeat(100)];
      for (const segment of longest) {
        const key = `${base}/${segment}`;
        await store.put(key, "ok");
        expect(text(await store.getBytes(key))).toBe("ok");
        expect(await store.delete(key)).toBe(true);
      }
    });

    test("an object and a folder of the same name: S3 holds both, fs refuses the second with 409, never a 500", async () => {
      const base = ns();
      const both = backend.name === "s3";
      const outcome = (p: Promise<unknown>) =>
        p.then(
          () => "stored",
          (e) => (e instanceof Conflict ? "conflict" : e),
        );
      // A key under an existing object's name (ENOTDIR on a filesystem).
      await store.put(`${base}/file`, "f");
      expect(await outcome(store.put(`${base}/file/under`, "x"))).toBe(both ? "stored" : "conflict");
      expect(await outcome(store.putIfAbsent(`${base}/file/deeper/still`, "x"))).toBe(both ? "stored" : "conflict");
      if (!both) {
        await expect(store.get(`${base}/file/under`)).rejects.toBeInstanceOf(NotFound);
        expect(await store.head(`${base}/file/under`)).toBeNull();
        expect(await store.delete(`${base}/file/under`)).toBe(false);
        expect((await store.list(`${base}/file/`)).items).toEqual([]);
      }
      expect(text(await store.getBytes(`${base}/file`))).toBe("f");
      // A key naming a "folder" (EISDIR on a filesystem).
      await store.put(`${base}/dir/inside`, "i");
      expect(await outcome(store.put(`${base}/dir`, "x"))).toBe(both ? "stored" : "conflict");
      expect(await outcome(store.putIfAbsent(`${base}/dir`, "x"))).toBe("conflict");
      if (!both) {
        await expect(store.get(`${base}/dir`)).rejects.toBeInstanceOf(NotFound);
        expect(await store.head(`${base}/dir`)).toBeNull();
        expect(await store.delete(`${base}/dir`)).toBe(false);
      }
      expect(text(await store.getBytes(`${base}/dir/inside`))).toBe("i");
    });

    test("once a folder's objects are deleted, its name can be an object's", async () => {
      const base = ns();
      await store.put(`${base}/f/a/b`, "x");
      await store.put(`${base}/f/c`, "y");
      expect(await store.delete(`${base}/f/a/b`)).toBe(true);
      await store.put(`${base}/f/a`, "now an object");
      expect(text(await store.getBytes(`${base}/f/a`))).toBe("now an object");
      expect(await store.delete(`${base}/f/c`)).toBe(true);
      expect(await store.delete(`${base}/f/a`)).toBe(true);
      await store.putIfAbsent(`${base}/f`, "and this one too");
      expect((await store.list(`${base}/`)).items.map((i) => i.key)).toEqual([`${base}/f`]);
    });

    test("an object over its prefix cap is refused with TooLarge and nothing is left behind", async () => {
      const limited = withLimits(store, { defaultBytes: 1000, prefixes: { "big/": 100_000 } }, 2);
      const key = `${ns()}/capped`;
      const chunk = new Uint8Array(400).fill(1);
      await expect(limited.put(key, streamOf([chunk, chunk, chunk]))).rejects.toBeInstanceOf(TooLarge);
      expect(await store.head(key)).toBeNull();
      expect(await ctx.leftovers()).toEqual([]);
      await expect(limited.putIfAbsent(key, new Uint8Array(1001))).rejects.toBeInstanceOf(TooLarge);
      expect(await store.head(key)).toBeNull();
      const bigKey = `big/${ns()}`;
      await limited.put(bigKey, streamOf([chunk, chunk, chunk]));
      expect((await store.head(bigKey))?.size).toBe(1200);
      await store.delete(bigKey);
    });

    test("a failing body stream leaves no object and no temp file", async () => {
      const key = `${ns()}/broken`;
      let sent = 0;
      const broken = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 2) controller.enqueue(new Uint8Array(1024));
          else controller.error(new Error("client went away"));
        },
      });
      await expect(store.put(key, broken)).rejects.toThrow();
      expect(await store.head(key)).toBeNull();
      expect(await ctx.leftovers()).toEqual([]);
    });

    if (backend.atomicServer) {
      test("concurrent PUT and GET of one key never yield a torn read", async () => {
        const key = `${ns()}/torn`;
        const size = 256 * 1024;
        const versions = ["A", "B", "C", "D"].map((ch) => new Uint8Array(size).fill(ch.charCodeAt(0)));
        await store.put(key, versions[0]!);
        const writers = (async () => {
          for (let round = 0; round < 6; round++) for (const v of versions) await store.put(key, v);
        })();
        const readers = (async () => {
          const seen = new Set<number>();
          for (let i = 0; i < 30; i++) {
            const bytes = await store.getBytes(key);
            expect(bytes.byteLength).toBe(size);
            const first = bytes[0]!;
            expect(bytes.every((b) => b === first)).toBe(true);
            seen.add(first);
          }
          return seen;
        })();
        const [, seen] = await Promise.all([writers, readers]);
        expect(seen.size).toBeGreaterThanOrEqual(1);
      });
    }
  });
}

test("multipart: an s3 object larger than one part streams up in parts and reads back intact", async () => {
  const store = await S3ObjectStore.open(s3Options(s3), memoryLogger());
  try {
    const part = 5 * 1024 * 1024;
    const chunks = Array.from({ length: 3 }, (_, i) => new Uint8Array(part).fill(i + 1));
    const info = await store.put("multipart/big.bin", streamOf([...chunks, new Uint8Array(10).fill(9)]));
    expect(info.size).toBe(3 * part + 10);
    const tail = await store.get("multipart/big.bin", { start: 3 * part - 2 });
    expect([...(await read(tail.body))]).toEqual([3, 3, ...Array(10).fill(9)]);
  } finally {
    await store.close();
  }
});

test("s3: a server that ignores If-None-Match is detected, reported and refused when required", async () => {
  const log = memoryLogger();
  const store = await S3ObjectStore.open(s3Options(s3), log);
  expect(store.conditionalWrites).toBe(false);
  expect(log.lines.some((l) => l.level === "warn" && /If-None-Match/.test(l.msg))).toBe(true);
  await store.close();
  await expect(S3ObjectStore.open({ ...s3Options(s3), conditional_writes: "required" }, log)).rejects.toThrow(/If-None-Match/);
});

test("s3: errors never carry credentials", async () => {
  const opts = { ...s3Options(s3), bucket: "no-such-bucket", access_key_id: "AKIASECRETKEYID", secret_access_key: "very-secret-value" };
  const err = await S3ObjectStore.open(opts, memoryLogger()).then(
    () => null,
    (e: Error) => e,
  );
  expect(err).not.toBeNull();
  expect(String(err?.message)).not.toContain("very-secret-value");
  expect(String(err?.message)).not.toContain("AKIASECRETKEYID");
});
