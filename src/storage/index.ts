// Opens the configured backend with its limits and exposes it as a module. Storage opens first and
// owns the store every other module is handed, so its context has no store of its own.
import { resolve } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Module, ModuleContext, ModuleHealth } from "../module.ts";
import { FsObjectStore } from "./fs-store.ts";
import { publicStore } from "./layout.ts";
import { withLimits } from "./limits.ts";
import type { CappedStore } from "./objects.ts";
import { storageOperations } from "./operations.ts";
import { S3ObjectStore } from "./s3-store.ts";
import type { ObjectStore } from "./store.ts";

export type StorageConfig = Config["storage"];
export type LimitedStore = CappedStore;

export interface StorageModule extends Module {
  readonly store: LimitedStore;
  /** Where data lives, for the startup line: a directory or s3://bucket at an endpoint (no credentials). */
  readonly location: string;
}

export async function open(ctx: Omit<ModuleContext<StorageConfig>, "store">): Promise<StorageModule> {
  const s = ctx.config;
  const caps = { defaultBytes: s.max_object_bytes, prefixes: s.prefix_caps };
  let inner: ObjectStore;
  let location: string;
  let health: () => ModuleHealth = () => ({ status: "ok" });
  if (s.backend === "s3") {
    const s3 = await S3ObjectStore.open(s.s3, ctx.log);
    inner = s3;
    location = `s3://${s.s3.bucket} at ${new URL(s.s3.endpoint).origin}`;
    health = () => (s3.conditionalWrites ? { status: "ok" } : { status: "degraded", detail: { conditional_writes: "emulated in-process" } });
  } else {
    const root = resolve(s.fs.root);
    inner = await FsObjectStore.open(root, { fsync: s.fs.fsync });
    location = root;
  }
  const store = withLimits(inner, caps, s.put_concurrency);
  // The API reads everything but cannot write or delete the lakehouse's own state (layout.ts).
  ctx.ops.register(...storageOperations(publicStore(store)));
  return {
    name: "storage",
    store,
    location,
    health,
    close: () => store.close(),
  };
}
