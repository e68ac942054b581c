// Composes the process: one Hono router, request context and access log for everything, auth once
// for /v1, each module mounted under its base path, one error envelope at the edge.
import { Hono } from "hono";
import * as v from "valibot";
import type { Config } from "./config/schema.ts";
import { NotFound } from "./errors.ts";
import { requestContext } from "./http/access-log.ts";
import { authMiddleware } from "./http/auth.ts";
import { envelope, makeOnError } from "./http/error-envelope.ts";
import { ApiSpec } from "./http/openapi.ts";
import { type AppEnv, ModuleRouter } from "./http/router.ts";
import type { Logger } from "./log.ts";
import type { Module } from "./module.ts";
import { openStorage, type StorageModule } from "./storage/module.ts";
import { type EmbedModule, openEmbed } from "./embed/module.ts";
import { type CatalogModule, openCatalog } from "./catalog/module.ts";
import { type IngestModule, openIngest } from "./ingest/module.ts";
import { openSql, type SqlModule } from "./sql/module.ts";
import { openVector, type VectorModule } from "./vector/module.ts";
import { embedPort, sqlRowSource, vectorPort } from "./matrix/adapters.ts";
import { type MatrixModule, openMatrix } from "./matrix/module.ts";
import { VERSION } from "./version.ts";

export interface Lakehouse {
  app: Hono<AppEnv>;
  api: ApiSpec;
  modules: Module[];
  storage: StorageModule;
  embed: EmbedModule;
  catalog: CatalogModule;
  sql: SqlModule;
  ingest: IngestModule;
  vector: VectorModule;
  matrix: MatrixModule;
  /** Closes modules in reverse order of opening. */
  close(): Promise<void>;
}

const HealthSchema = v.object({
  status: v.picklist(["ok", "degraded"]),
  version: v.string(),
  uptime_s: v.number(),
  modules: v.record(v.string(), v.picklist(["ok", "degraded"])),
  details: v.optional(v.record(v.string(), v.unknown())),
});

function systemRoutes(api: ApiSpec, modules: () => Module[], startedAt: number, jsonLimit: number): ModuleRouter {
  const r = new ModuleRouter(api, "", "system", jsonLimit);
  r.route(
    { method: "get", path: "/health", summary: "Liveness and module health (no auth)", public: true, responses: { 200: { description: "Health", schema: HealthSchema } } },
    (c) => {
      const states = modules().map((m) => [m.name, m.health()] as const);
      const details = Object.fromEntries(states.filter(([, h]) => h.detail).map(([name, h]) => [name, h.detail]));
      return c.json({
        status: states.some(([, h]) => h.status === "degraded") ? "degraded" : "ok",
        version: VERSION,
        uptime_s: Math.round((Date.now() - startedAt) / 1000),
        modules: Object.fromEntries(states.map(([name, h]) => [name, h.status])),
        ...(Object.keys(details).length ? { details } : {}),
      });
    },
  );
  r.route(
    { method: "get", path: "/v1/openapi.json", summary: "This API's OpenAPI 3.1 document", responses: { 200: { description: "OpenAPI document" } } },
    (c) => c.json(api.document()),
  );
  return r;
}

export async function createLakehouse(config: Config, log: Logger): Promise<Lakehouse> {
  const startedAt = Date.now();
  const api = new ApiSpec({ title: "lakehouse", version: VERSION });
  const jsonLimit = config.server.max_json_bytes;
  const modules: Module[] = [];
  const close = async () => {
    for (const m of [...modules].reverse()) await m.close().catch((err) => log.error("module close failed", { module: m.name, error: String(err) }));
  };

  try {
    const storage = await openStorage(config, log, api);
    modules.push(storage);
    const embed = openEmbed(config, api);
    modules.push(embed);
    const catalog = await openCatalog(storage.store, log, api, jsonLimit);
    modules.push(catalog);
    const sql = await openSql(config.sql, storage.store, catalog.catalog, log, api, jsonLimit);
    modules.push(sql);
    const ingest = await openIngest(config.ingest, storage.store, catalog.catalog, log, api, jsonLimit, sql);
    modules.push(ingest);
    const vector = await openVector(config, storage.store, log, api);
    modules.push(vector);
    const matrix = await openMatrix(
      config.matrix,
      storage.store,
      { rows: sqlRowSource(catalog.catalog, sql), vectors: vectorPort(vector.service), embed: embedPort(embed.embedder) },
      log,
      api,
      jsonLimit,
    );
    modules.push(matrix);

    const app = new Hono<AppEnv>();
    app.use("*", requestContext(log, config.server.access_log));
    app.use("/v1/*", authMiddleware({ token: config.auth.token, allowedIps: config.auth.allowed_ips }));
    const system = systemRoutes(api, () => modules, startedAt, jsonLimit);
    app.route("/", system.app);
    for (const m of modules) if (m.router) app.route(m.router.base, m.router.app);

    app.notFound((c) => {
      const allowed = api.allowedMethods(c.req.path);
      if (allowed.length > 0) {
        return c.json(envelope("method_not_allowed", `${c.req.method} is not allowed here; allowed: ${allowed.join(", ")}`), 405, { Allow: allowed.join(", ") });
      }
      const err = new NotFound(`no route for ${c.req.method} ${c.req.path}`);
      return c.json(envelope(err.code, err.message), 404);
    });
    app.onError(makeOnError(log));
    return { app, api, modules, storage, embed, catalog, sql, ingest, vector, matrix, close };
  } catch (err) {
    await close();
    throw err;
  }
}
