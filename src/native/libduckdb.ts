// Loads the DuckDB shared library inside the single binary (scripts/build-binary.ts). DuckDB's
// `duckdb.node` is a 0.5 MB shim with `NEEDED libduckdb.so` (70 MB) found through `RUNPATH
// $ORIGIN`; Bun embeds `.node` files (extracting them to $TMPDIR at run time) but not the libraries
// they link, so inside the binary the shim fails with "libduckdb.so: cannot open shared object
// file". The build embeds the library as a file; here it is copied once to a content-addressed
// cache directory and loaded with dlopen before the shim, which the dynamic loader then satisfies
// by SONAME. From source none of this runs: the shim finds the library beside it.
//
// Measured (2 cores): the first start of a new build copies 70 MB (≈0.6 s); later starts find the
// copy by its hash and pay the dlopen only (docs/benchmarks.md, "Single binary").
import { dlopen, FFIType } from "bun:ffi";
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The variable that moves the cache (e.g. to a volume, or a directory a read-only image can write). */
export const NATIVE_CACHE_ENV = "LAKEHOUSE_NATIVE_CACHE";
const LIB_NAME = "libduckdb.so";

/** `$LAKEHOUSE_NATIVE_CACHE`, else `$XDG_CACHE_HOME/lakehouse/native`, else `~/.cache/lakehouse/native`. */
export function nativeCacheRoot(env: Record<string, string | undefined> = process.env): string {
  const override = env[NATIVE_CACHE_ENV];
  if (override) return override;
  const base = env.XDG_CACHE_HOME || join(env.HOME || tmpdir(), ".cache");
  return join(base, "lakehouse", "native");
}

export interface EmbeddedLibrary {
  /** Where the binary exposes the embedded file (`/$bunfs/root/...`). */
  path: string;
  /** sha256 of its bytes, computed at build time: the cache directory's name. */
  sha256: string;
  size: number;
}

/**
 * A directory another user could write to would let them plant a library we then load: the cache
 * directories are created 0700 and refused unless they are ours and closed to group and others.
 */
function assertPrivate(dir: string): void {
  const st = statSync(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`native cache ${dir} belongs to another user; set ${NATIVE_CACHE_ENV} to a directory of your own`);
  if ((st.mode & 0o022) !== 0) throw new Error(`native cache ${dir} is writable by group or others; chmod 700 it or set ${NATIVE_CACHE_ENV}`);
}

function writeDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, "wx", 0o500);
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The library's path in the cache, copying it there first if this build has not run on this
 * machine yet. Writers race safely: each fills its own temporary directory and renames it to the
 * hash's name; the loser finds the winner's copy and removes its own. A copy is never seen
 * half-written, so its presence with the right size is enough.
 */
export function extractOnce(lib: EmbeddedLibrary, root: string = nativeCacheRoot()): string {
  const dir = join(root, lib.sha256);
  const target = join(dir, LIB_NAME);
  const found = statSync(target, { throwIfNoEntry: false });
  if (found?.size === lib.size) {
    assertPrivate(dir);
    return target;
  }
  mkdirSync(root, { recursive: true, mode: 0o700 });
  assertPrivate(root);
  const tmp = join(root, `.tmp-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
  mkdirSync(tmp, { mode: 0o700 });
  try {
    writeDurably(join(tmp, LIB_NAME), readFileSync(lib.path));
    // A directory at the hash's name with a wrong copy cannot come from us (renames are atomic):
    // move it aside rather than load it.
    if (found) renameSync(dir, `${tmp}.stale`);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(`${tmp}.stale`, { recursive: true, force: true });
  }
  if (statSync(target).size !== lib.size) throw new Error(`native cache ${target} has the wrong size`);
  assertPrivate(dir);
  return target;
}

let loaded: { version: string; path: string } | null = null;

/**
 * Extracts (once) and dlopens the library. The handle is kept for the process's life: closing it
 * would unload code duckdb.node calls into.
 */
export function preloadLibduckdb(lib: EmbeddedLibrary): void {
  if (loaded) return;
  const path = extractOnce(lib);
  // bun:ffi refuses an empty symbol map; one real symbol also proves the file is DuckDB.
  const handle = dlopen(path, { duckdb_library_version: { args: [], returns: FFIType.cstring } });
  loaded = { version: String(handle.symbols.duckdb_library_version()), path };
  (globalThis as { __lakehouseLibduckdb?: unknown }).__lakehouseLibduckdb = handle;
}

/** The library loaded by preloadLibduckdb (in a binary), or null (from source). */
export function loadedLibduckdb(): { version: string; path: string } | null {
  return loaded;
}
