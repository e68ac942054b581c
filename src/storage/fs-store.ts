// Filesystem backend. Objects live under <root>/objects/<key>; every write goes to <root>/tmp
// first, is fsynced, and only then renamed (put) or hard-linked (putIfAbsent, which fails if the
// key exists) into place, so a crash never leaves a torn object and a reader never sees one.
import type { Dirent, Stats } from "node:fs";
import { type FileHandle, link, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Conflict, NotFound } from "../errors.ts";
import { fsyncPath } from "../lib/fsync.ts";
import { fileStream, readWhole, resolveRange, SMALL_READ } from "./fs-read.ts";
import { assertValidKey, assertValidPrefix } from "./keys.ts";
import {
  type Body,
  type ByteRange,
  DEFAULT_LIST_LIMIT,
  decodeCursor,
  encodeCursor,
  type GetResult,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
} from "./store.ts";

const errno = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

function infoFrom(key: string, st: Stats): ObjectInfo {
  return { key, size: st.size, etag: `${st.ino.toString(16)}-${st.size.toString(16)}-${Math.floor(st.mtimeMs * 1000).toString(16)}`, lastModified: st.mtime };
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (st) => st.isDirectory(),
    () => false,
  );
}

/**
 * A file put there by hand (a restore, a copy) can have a name no key may have (a backslash, a
 * control character, a path over the key length): it is not an object of this store, so listings
 * leave it out instead of failing on it, and every listing, start-up's included, keeps working.
 */
function isValidKey(key: string): boolean {
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

export class FsObjectStore implements ObjectStore {
  readonly backend = "fs" as const;
  private readonly objects: string;
  private readonly tmp: string;
  /** Directories known to exist, so a put skips mkdir; forgotten when a rename finds one gone. */
  private readonly knownDirs = new Set<string>();

  private constructor(
    root: string,
    /** fsync files and directories before acknowledging: survives power loss, not only kill -9. */
    private readonly fsync: boolean,
  ) {
    this.objects = join(root, "objects");
    this.tmp = join(root, "tmp");
  }

  static async open(root: string, opts: { fsync?: boolean } = {}): Promise<FsObjectStore> {
    const store = new FsObjectStore(root, opts.fsync ?? true);
    await mkdir(store.objects, { recursive: true });
    // Temp files left by a crash are never referenced; clear them.
    await rm(store.tmp, { recursive: true, force: true });
    await mkdir(store.tmp, { recursive: true });
    return store;
  }

  localPath(key: string): string {
    assertValidKey(key);
    return join(this.objects, key);
  }

  private async writeTemp(body: Body): Promise<{ path: string; st: Stats }> {
    const path = join(this.tmp, crypto.randomUUID());
    const fh = await open(path, "wx");
    const writeAll = async (chunk: Uint8Array) => {
      let offset = 0;
      while (offset < chunk.byteLength) offset += (await fh.write(chunk, offset, chunk.byteLength - offset)).bytesWritten;
    };
    try {
      if (body instanceof ReadableStream) for await (const chunk of body) await writeAll(chunk);
      else await writeAll(typeof body === "string" ? Buffer.from(body) : body);
      if (this.fsync) await fh.sync();
      const st = await fh.stat();
      await fh.close();
      return { path, st };
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
      throw err;
    }
  }

  private async prepareParent(key: string, target: string): Promise<void> {
    const dir = dirname(target);
    if (this.knownDirs.has(dir)) return;
    try {
      await mkdir(dir, { recursive: true });
      if (this.knownDirs.size > 10_000) this.knownDirs.clear();
      this.knownDirs.add(dir);
    } catch (err) {
      if (errno(err) === "ENOTDIR" || errno(err) === "EEXIST") {
        throw new Conflict(`key "${key}" cannot be stored: a parent of it is an object on this filesystem store`, undefined, { cause: err });
      }
      throw err;
    }
  }

  private async place(key: string, body: Body, how: "rename" | "link"): Promise<ObjectInfo> {
    assertValidKey(key);
    const target = join(this.objects, key);
    const { path: temp, st } = await this.writeTemp(body);
    // After a rename the temp name is gone; after a link (or a failure) it must be removed.
    let renamed = false;
    try {
      await this.prepareParent(key, target);
      try {
        await this.move(temp, target, how);
      } catch (err) {
        if (errno(err) !== "ENOENT") throw err;
        this.knownDirs.delete(dirname(target));
        await this.prepareParent(key, target);
        await this.move(temp, target, how);
      }
      renamed = how === "rename";
      if (this.fsync) await fsyncPath(dirname(target));
      // The inode, size and mtime are the temp file's: rename and link keep them.
      return infoFrom(key, st);
    } catch (err) {
      const code = errno(err);
      // link() says EEXIST for a folder of that name too: only a file there is "the object exists".
      if (code === "EEXIST" && how === "link" && !(await isDirectory(target))) {
        throw new Conflict(`object "${key}" already exists`, undefined, { cause: err });
      }
      if (code === "EISDIR" || code === "ENOTDIR" || code === "EEXIST" || code === "ENOTEMPTY") {
        throw new Conflict(`key "${key}" cannot be stored: it is a prefix of other objects on this filesystem store`, undefined, { cause: err });
      }
      throw err;
    } finally {
      if (!renamed) await unlink(temp).catch(() => {});
    }
  }

  private move(temp: string, target: string, how: "rename" | "link"): Promise<void> {
    return how === "rename" ? rename(temp, target) : link(temp, target);
  }

  put(key: string, body: Body): Promise<ObjectInfo> {
    return this.place(key, body, "rename");
  }

  putIfAbsent(key: string, body: Uint8Array | string): Promise<ObjectInfo> {
    return this.place(key, body, "link");
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    assertValidKey(key);
    let fh: FileHandle;
    try {
      fh = await open(join(this.objects, key), "r");
    } catch (err) {
      if (errno(err) === "ENOENT" || errno(err) === "ENOTDIR") throw new NotFound(`object "${key}" not found`, undefined, { cause: err });
      throw err;
    }
    // Size and bytes both come from this open file: a concurrent put renames a new file into
    // place but cannot change the one being read, so a read is never torn.
    const st = await fh.stat();
    if (st.isDirectory()) {
      await fh.close();
      throw new NotFound(`object "${key}" not found`);
    }
    let served: { start: number; end: number } | undefined;
    try {
      served = resolveRange(st.size, range);
    } catch (err) {
      await fh.close();
      throw err;
    }
    const position = served?.start ?? 0;
    const end = served ? served.end + 1 : st.size;
    if (end - position <= SMALL_READ) {
      const bytes = await readWhole(fh, position, end - position);
      return { info: infoFrom(key, st), body: new Blob([bytes]).stream(), bytes, range: served };
    }
    return { info: infoFrom(key, st), body: fileStream(fh, position, end), range: served };
  }

  async getBytes(key: string): Promise<Uint8Array> {
    const { body, bytes } = await this.get(key);
    return bytes ?? new Uint8Array(await new Response(body).arrayBuffer());
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const st = await stat(join(this.objects, key));
      return st.isFile() ? infoFrom(key, st) : null;
    } catch (err) {
      if (errno(err) === "ENOENT" || errno(err) === "ENOTDIR") return null;
      throw err;
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListPage> {
    assertValidPrefix(prefix);
    const limit = opts.limit ?? DEFAULT_LIST_LIMIT;
    const after = decodeCursor(opts.cursor);
    const slash = prefix.lastIndexOf("/");
    const startDir = slash === -1 ? "" : prefix.slice(0, slash);
    const keys: string[] = [];
    await this.walk(startDir, (key) => {
      if (key.startsWith(prefix) && (after === undefined || Buffer.compare(Buffer.from(key), Buffer.from(after)) > 0) && isValidKey(key)) keys.push(key);
    });
    keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = keys.slice(0, limit);
    const items: ObjectInfo[] = [];
    for (const key of page) {
      const info = await this.head(key);
      if (info) items.push(info);
    }
    return keys.length > limit ? { items, cursor: encodeCursor(page.at(-1)!) } : { items };
  }

  private async walk(rel: string, visit: (key: string) => void): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(join(this.objects, rel), { withFileTypes: true });
    } catch (err) {
      if (errno(err) === "ENOENT" || errno(err) === "ENOTDIR") return;
      throw err;
    }
    for (const entry of entries) {
      const key = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await this.walk(key, visit);
      else if (entry.isFile()) visit(key);
    }
  }

  async delete(key: string): Promise<boolean> {
    assertValidKey(key);
    try {
      await unlink(join(this.objects, key));
    } catch (err) {
      if (errno(err) === "ENOENT" || errno(err) === "ENOTDIR" || errno(err) === "EISDIR") return false;
      throw err;
    }
    await this.pruneEmptyParents(key);
    return true;
  }

  /**
   * Removes the folders a delete left empty, so that a later object may take a folder's name, as on
   * S3 (an empty folder named "c" made a PUT of "c" a 409 forever). A put racing into a folder
   * removed here finds its parent gone and creates it again (place retries on ENOENT).
   */
  private async pruneEmptyParents(key: string): Promise<void> {
    for (let dir = dirname(key); dir !== "."; dir = dirname(dir)) {
      const path = join(this.objects, dir);
      this.knownDirs.delete(path);
      try {
        await rmdir(path);
      } catch {
        return; // ENOTEMPTY: it still holds objects, and so do its parents
      }
    }
  }

  async close(): Promise<void> {}
}
