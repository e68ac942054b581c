// The single binary's native cache (src/native/libduckdb.ts), with a stand-in file for the library:
// where it goes, content-addressed, private, written whole or not at all, refused when others could
// have written it.
import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { extractOnce, nativeCacheRoot } from "../../src/native/libduckdb.ts";
import { tempDir } from "../support/tmp.ts";

function embedded(bytes = 4096) {
  const dir = tempDir("lh-native-src-");
  const path = join(dir, "libduckdb.so");
  const data = new Uint8Array(bytes).map((_, i) => i % 251);
  writeFileSync(path, data);
  const sha256 = new Bun.CryptoHasher("sha256").update(data).digest("hex");
  return { path, sha256, size: bytes, data };
}

test("the cache root: LAKEHOUSE_NATIVE_CACHE, else XDG_CACHE_HOME, else ~/.cache", () => {
  expect(nativeCacheRoot({ LAKEHOUSE_NATIVE_CACHE: "/x/native", XDG_CACHE_HOME: "/c", HOME: "/h" })).toBe("/x/native");
  expect(nativeCacheRoot({ XDG_CACHE_HOME: "/c", HOME: "/h" })).toBe("/c/lakehouse/native");
  expect(nativeCacheRoot({ HOME: "/h" })).toBe("/h/.cache/lakehouse/native");
});

test("copied once into <root>/<sha256>/ with 0700 directories; a second call reuses the copy", () => {
  const lib = embedded();
  const root = join(tempDir("lh-native-"), "a", "native");
  const path = extractOnce(lib, root);
  expect(path).toBe(join(root, lib.sha256, "libduckdb.so"));
  expect(new Uint8Array(readFileSync(path))).toEqual(lib.data);
  expect(statSync(root).mode & 0o777).toBe(0o700);
  expect(statSync(join(root, lib.sha256)).mode & 0o777).toBe(0o700);
  expect(readdirSync(root)).toEqual([lib.sha256]);
  const ino = statSync(path).ino;
  expect(extractOnce(lib, root)).toBe(path);
  expect(statSync(path).ino).toBe(ino);
});

test("concurrent first starts: one copy wins, no temporary directory is left", async () => {
  const lib = embedded(1 << 20);
  const root = join(tempDir("lh-native-"), "native");
  const script = `import { extractOnce } from ${JSON.stringify(join(import.meta.dir, "..", "..", "src", "native", "libduckdb.ts"))};
console.log(extractOnce(${JSON.stringify({ path: lib.path, sha256: lib.sha256, size: lib.size })}, ${JSON.stringify(root)}));`;
  const procs = Array.from({ length: 4 }, () => Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" }));
  const outs = await Promise.all(
    procs.map(async (p) => ({ code: await p.exited, out: (await new Response(p.stdout).text()).trim(), err: await new Response(p.stderr).text() })),
  );
  for (const o of outs) expect(o).toEqual({ code: 0, out: join(root, lib.sha256, "libduckdb.so"), err: "" });
  expect(readdirSync(root)).toEqual([lib.sha256]);
  expect(new Uint8Array(readFileSync(join(root, lib.sha256, "libduckdb.so")))).toEqual(lib.data);
});

test("a copy of the wrong size under the hash's name is replaced, not loaded", () => {
  const lib = embedded();
  const root = join(tempDir("lh-native-"), "native");
  mkdirSync(join(root, lib.sha256), { recursive: true, mode: 0o700 });
  writeFileSync(join(root, lib.sha256, "libduckdb.so"), "truncated");
  const path = extractOnce(lib, root);
  expect(new Uint8Array(readFileSync(path))).toEqual(lib.data);
  expect(readdirSync(root)).toEqual([lib.sha256]);
});

test("a cache directory others can write to is refused", () => {
  const lib = embedded();
  const root = join(tempDir("lh-native-"), "native");
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o777);
  expect(() => extractOnce(lib, root)).toThrow(/writable by group or others.*LAKEHOUSE_NATIVE_CACHE/);
  chmodSync(root, 0o700);
  const path = extractOnce(lib, root);
  chmodSync(join(root, lib.sha256), 0o770);
  expect(() => extractOnce(lib, root)).toThrow(/writable by group or others/);
  expect(path).toEndWith("libduckdb.so");
});
