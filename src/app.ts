// Composes the process. Every module opens the same way, `open(ctx, ports)`: its config section,
// its own view of the object store (only the prefixes the layout gives it), the log, the operation
// registry it declares its operations in, and the event bus; ports are the typed services of the
// modules it needs. The registry then becomes one Hono router under /v1 (auth applied once) and
// the OpenAPI document; modules close in reverse order.
import { Hono } from "hono";
import * as catalogModule from "./catalog/index.ts";
import type { Config } from "./config/schema.ts";
import * as embedModule from "./embed/index.ts";
import { embedPort } from "./embed/port.ts";
import { NotFound } from "./errors.ts";
import { EventBus } from "./events.ts";
import { requestContext } from "./http/access-log.ts";
import { edgeAuth } from "./http/auth.ts";
import type { AppEnv } from "./http/env.ts";
import { envelope, makeOnError } from "./http/error-envelope.ts";
import { hostGate } from "./http/host.ts";
import * as ingestModule from "./ingest/index.ts";
import type { Logger } from "./log.ts";
import * as matrixModule from "./matrix/index.ts";
import { MCP_PATH, mcpEndpoint } from "./mcp/endpoint.ts";
import type { Module } from "./module.ts";
import * as observerModule from "./observer/index.ts";
import * as pathwayModule from "./pathway/index.ts";
import { allowedMethods, mountOperations } from "./ops/http.ts";
import { openApiDocument } from "./ops/openapi.ts";
import { OperationRegistry } from "./ops/registry.ts";
import * as sqlModule from "./sql/index.ts";
import { sqlPort } from "./sql/port.ts";
import { sqlRowSource } from "./sql/row-source.ts";
import type { StartupState } from "./startup.ts";
import * as storageModule from "./storage/index.ts";
import { type Owner, scopedStore } from "./storage/layout.ts";
import { systemOperations } from "./system/operations.ts";
import { VERSION } from "./version.ts";
import * as vectorModule from "./vector/index.ts";
import * as workflowsModule from "./workflows/index.ts";
import { vectorPort } from "./vector/port.ts";

export interface Lakehouse {
  app: Hono<AppEnv>;
  ops: OperationRegistry;
  events: EventBus;
  modules: Module[];
  storage: storageModule.StorageModule;
  embed: embedModule.EmbedModule;
  catalog: catalogModule.CatalogModule;
  sql: sqlModule.SqlModule;
  ingest: ingestModule.IngestModule;
  vector: vectorModule.VectorModule;
  matrix: matrixModule.MatrixModule;
  pathway: pathwayModule.PathwayModule;
  observer: observerModule.ObserverModule;
  workflows: workflowsModule.WorkflowsModule;
  /** The OpenAPI 3.1 document of every operation. */
  document(): Record<string, unknown>;
  /** Closes modules in reverse order of opening. */
  close(): Promise<void>;
}

/** Every module, in the order the process lists (and closes in reverse) them. */
export const MODULE_NAMES = ["storage", "embed", "catalog", "sql", "ingest", "vector", "matrix", "pathway", "observer", "workflows"] as const;

export interface CreateOptions {
  /** Told when each module has opened, and what a slow one reports meanwhile (/health while starting). */
  startup?: StartupState;
}

export async function createLakehouse(config: Config, log: Logger, opts: CreateOptions = {}): Promise<Lakehouse> {
  const startedAt = Date.now();
  const startup = opts.startup;
  const ops = new OperationRegistry({ checkResults: config.server.check_results });
  const events = new EventBus(log);
  const modules: Module[] = [];
  const opened = <M extends Module>(m: M): M => {
    modules.push(m);
    return m;
  };
  /** Opens one module, and says so (start-up state and log) with the time it took. */
  const timed = async <M extends Module>(name: string, opening: Promise<M>): Promise<M> => {
    const t0 = performance.now();
    const m = await opening;
    const ms = performance.now() - t0;
    startup?.opened(name, ms);
    log.info("module opened", { module: name, ms: Math.round(ms) });
    return m;
  };
  const closeOne = async (m: Module) => {
    const t0 = performance.now();
    await m.close().catch((err) => log.error("module close failed", { module: m.name, error: String(err) }));
    log.info("module closed", { module: m.name, ms: Math.round(performance.now() - t0) });
  };
  // One module after another, in reverse, each logged: a stop that writes snapshots for seconds says what it is doing.
  const close = async () => {
    for (const m of [...modules].reverse()) await closeOne(m);
  };

  try {
    const storage = opened(await timed("storage", storageModule.open({ config: config.storage, log, ops, events })));
    const ctx = <C>(owner: Owner, section: C) => ({ config: section, store: scopedStore(storage.store, owner), log, ops, events });

    // The vector module needs only its store, and loading its indexes is the slow part of a start
    // (docs/benchmarks.md, start-up): it opens while embed, catalog, sql and ingest do. Its
    // operations go to a registry of its own and join the main one where they always did, so the
    // routes and the OpenAPI document keep one order whichever module finishes first.
    const vectorOps = new OperationRegistry({ checkResults: config.server.check_results });
    const vectorOpening = timed(
      "vector",
      vectorModule.open({
        ...ctx("vector", { ...config.vector, wal_root: vectorModule.walRootFor(config) }),
        ops: vectorOps,
        progress: (figures) => startup?.report("vector", figures),
      }),
    );
    // Handled here so a failure is not reported as unhandled while the others open; awaited below.
    vectorOpening.catch(() => {});
    let embed: embedModule.EmbedModule;
    let catalog: catalogModule.CatalogModule;
    let sql: sqlModule.SqlModule;
    let ingest: ingestModule.IngestModule;
    try {
      embed = opened(await timed("embed", embedModule.open(ctx("embed", config.embed))));
      catalog = opened(await timed("catalog", catalogModule.open(ctx("catalog", config.catalog))));
      sql = opened(await timed("sql", sqlModule.open(ctx("sql", { ...config.sql, cache_root: sqlModule.cacheRootFor(config) }), { catalog: catalog.catalog })));
      ingest = opened(
        await timed(
          "ingest",
          ingestModule.open(ctx("ingest", { ...config.ingest, spool_root: ingestModule.spoolRootFor(config) }), { catalog: catalog.catalog, sql }),
        ),
      );
    } catch (err) {
      // Start-up stops; the vector module, still opening, is closed once it has opened.
      await vectorOpening.then(closeOne, () => {});
      throw err;
    }
    const vector = opened(await vectorOpening);
    ops.register(...vectorOps.list());
    const matrix = opened(
      await timed(
        "matrix",
        matrixModule.open(ctx("matrix", config.matrix), {
          rows: sqlRowSource(catalog.catalog, sqlPort(sql.service)),
          vectors: vectorPort(vector.service),
          embed: embedPort(embed.embedder, embed.indexModel),
        }),
      ),
    );

    const pathway = opened(
      await timed(
        "pathway",
        pathwayModule.open(ctx("pathway", pathwayModule.sectionFor(config.pathway, config.storage)), {
          embed: embedPort(embed.embedder, embed.indexModel),
          vector: vectorPort(vector.service),
          sqlViews: sql.views,
        }),
      ),
    );

    const observer = opened(
      await timed(
        "observer",
        observerModule.open(ctx("observer", observerModule.sectionFor(config.observer, config.storage)), {
          // The service itself, not sqlPort(): a review's SQL evidence passes its own shorter timeoutMs.
          sql: { query: (statement, params, o) => sql.service.query(statement, params, o) },
          sqlViews: sql.views,
          embed: embedPort(embed.embedder, embed.indexModel),
          writer: ingest.writer,
        }),
      ),
    );

    // Last: its steps call every other module's operations through the registry.
    const workflows = opened(await timed("workflows", workflowsModule.open(ctx("workflows", workflowsModule.sectionFor(config.workflows, config.storage)))));

    let doc: Record<string, unknown> | null = null;
    const document = () =>
      (doc ??= openApiDocument(ops.list(), {
        title: "lakehouse",
        version: VERSION,
        servers: [{ url: `http://${config.server.bind}`, description: "server.bind" }],
      }));
    const tokenAuth = config.auth.token !== "";
    ops.register(...systemOperations(() => modules, startedAt, document, { tokenAuth }));

    const app = new Hono<AppEnv>();
    const auth = edgeAuth({ token: config.auth.token, allowedIps: config.auth.allowed_ips });
    app.use("*", requestContext(log, config.server.access_log, hostGate({ tokenAuth, allowedHosts: config.server.allowed_hosts })));
    app.use("/v1/*", auth.middleware);
    mountOperations(app, ops, { jsonLimit: config.server.max_json_bytes, tokenAuth, admits: auth.admits });
    // MCP for agents: the same operations as tools, behind the same gate and auth (src/mcp/endpoint.ts).
    const mcp = mcpEndpoint({ ops, log, tokenAuth, allowedHosts: config.server.allowed_hosts, maxBodyBytes: config.server.max_json_bytes });
    app.all(MCP_PATH, (c) => mcp.handle(c));
    app.notFound((c) => {
      const allowed = allowedMethods(ops, c.req.path);
      if (allowed.length > 0) {
        return c.json(envelope("method_not_allowed", `${c.req.method} is not allowed here; allowed: ${allowed.join(", ")}`), 405, {
          Allow: allowed.join(", "),
        });
      }
      const err = new NotFound(`no route for ${c.req.method} ${c.req.path}`);
      return c.json(envelope(err.code, err.message), 404);
    });
    app.onError(makeOnError(log));
    const closeAll = async () => {
      await mcp.close();
      await close();
    };
    return { app, ops, events, modules, storage, embed, catalog, sql, ingest, vector, matrix, pathway, observer, workflows, document, close: closeAll };
  } catch (err) {
    await close();
    throw err;
  }
}
