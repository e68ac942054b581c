// Opens the configured backend with its limits and exposes it as a module.
import { resolve } from "node:path";
import type { Config } from "../config/schema.ts";
import type { ApiSpec } from "../http/openapi.ts";
import type { Logger } from "../log.ts";
import type { Module, ModuleHealth } from "../module.ts";
import { FsObjectStore } from "./fs-store.ts";
import { withLimits } from "./limits.ts";
import { storageRoutes } from "./routes.ts";
import { S3ObjectStore } from "./s3-store.ts";
import type { ObjectStore } from "./store.ts";

export type LimitedStore = ObjectStore & { capFor(key: string): number };

export interface StorageModule extends Module {
  readonly store: LimitedStore;
  /** Where data lives, for the startup line: a directory or s3://bucket at an endpoint (no credentials). */
  readonly location: string;
}

export async function openStorage(config: Config, log: Logger, api: ApiSpec): Promise<StorageModule> {
  const s = config.storage;
  const caps = { defaultBytes: s.max_object_bytes, prefixes: s.prefix_caps };
  let inner: ObjectStore;
  let location: string;
  let health: () => ModuleHealth = () => ({ status: "ok" });
  if (s.backend === "s3") {
    const s3 = await S3ObjectStore.open(s.s3, log);
    inner = s3;
    location = `s3://${s.s3.bucket} at ${new URL(s.s3.endpoint).origin}`;
    health = () =>
      s3.conditionalWrites ? { status: "ok" } : { status: "degraded", detail: { conditional_writes: "emulated in-process" } };
  } else {
    const root = resolve(s.fs.root);
    inner = await FsObjectStore.open(root, { fsync: s.fs.fsync });
    location = root;
  }
  const store = withLimits(inner, caps, s.put_concurrency);
  return {
    name: "storage",
    store,
    location,
    router: storageRoutes(store, api, config.server.max_json_bytes),
    health,
    close: () => store.close(),
  };
}
