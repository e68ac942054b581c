// s3 backend: DuckDB reads Parquet from local files, so objects are copied into a size-bounded
// on-disk cache with LRU eviction. Keys are content-addressed, so a cached file is never stale.
import { createWriteStream, type Dirent } from "node:fs";
import { copyFile, mkdir, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { LRUCache } from "lru-cache";
import type { Logger } from "../log.ts";
import { assertValidKey } from "../storage/keys.ts";
import type { ObjectStore } from "../storage/store.ts";

export class ParquetCache {
  private readonly files: LRUCache<string, number>;
  private readonly inflight = new Map<string, Promise<string>>();

  private constructor(
    private readonly store: ObjectStore,
    readonly dir: string,
    maxBytes: number,
    private readonly log: Logger,
  ) {
    this.files = new LRUCache<string, number>({
      maxSize: maxBytes,
      sizeCalculation: (size) => Math.max(1, size),
      dispose: (_size, key) => void unlink(this.pathFor(key)).catch(() => {}),
    });
  }

  static async open(store: ObjectStore, dir: string, maxBytes: number, log: Logger): Promise<ParquetCache> {
    const cache = new ParquetCache(store, dir, maxBytes, log);
    await mkdir(join(dir, "tmp"), { recursive: true });
    await rm(join(dir, "tmp"), { recursive: true, force: true });
    await mkdir(join(dir, "tmp"), { recursive: true });
    await cache.index(join(dir, "objects"));
    return cache;
  }

  private async index(path: string): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(path, e.name);
      if (e.isDirectory()) await this.index(full);
      else if (e.isFile()) this.files.set(relative(join(this.dir, "objects"), full), (await stat(full)).size);
    }
  }

  pathFor(key: string): string {
    assertValidKey(key);
    return join(this.dir, "objects", key);
  }

  /** A local path holding the object, downloading it first if it is not cached. */
  ensure(key: string): Promise<string> {
    if (this.files.get(key) !== undefined) return Promise.resolve(this.pathFor(key));
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const run = this.download(key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, run);
    return run;
  }

  private async download(key: string): Promise<string> {
    const target = this.pathFor(key);
    const temp = join(this.dir, "tmp", crypto.randomUUID());
    try {
      const { body } = await this.store.get(key);
      const out = createWriteStream(temp);
      let size = 0;
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      await mkdir(dirname(target), { recursive: true });
      await rename(temp, target);
      this.files.set(key, size);
      return target;
    } catch (err) {
      await unlink(temp).catch(() => {});
      this.log.error("could not cache a parquet object", { key, error: String(err) });
      throw err;
    }
  }

  /** Caches a local file known to hold the object's bytes (a fresh ingest), saving a download. */
  async adopt(key: string, path: string): Promise<void> {
    const target = this.pathFor(key);
    const temp = join(this.dir, "tmp", crypto.randomUUID());
    try {
      await copyFile(path, temp);
      await mkdir(dirname(target), { recursive: true });
      await rename(temp, target);
      this.files.set(key, (await stat(target)).size);
    } catch (err) {
      await unlink(temp).catch(() => {});
      this.log.warn("could not seed the parquet cache", { key, error: String(err) });
    }
  }

  has(key: string): boolean {
    return this.files.has(key);
  }

  get bytes(): number {
    return this.files.calculatedSize;
  }
}
