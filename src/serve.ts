// Serving the app over HTTP: the bind gate, Bun.serve with the client address passed to Hono
// (answering "starting" while the modules open), and graceful shutdown (stop accepting, drain in
// flight, close modules).
import type { Server } from "bun";
import type { Hono } from "hono";
import { createLakehouse, type Lakehouse, MODULE_NAMES } from "./app.ts";
import { ConfigError } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import { isLoopbackHost } from "./http/cidr.ts";
import type { AppEnv } from "./http/env.ts";
import { describeError, envelope } from "./http/error-envelope.ts";
import { startingApp } from "./http/starting.ts";
import type { Logger } from "./log.ts";
import { StartupState } from "./startup.ts";

function parseBind(bind: string): { hostname: string; port: number } {
  const i = bind.lastIndexOf(":");
  const host = bind.slice(0, i);
  return { hostname: host.startsWith("[") ? host.slice(1, -1) : host, port: Number(bind.slice(i + 1)) };
}

/** Refuses a non-loopback bind without a token; returns a warning for loopback dev mode. */
export function checkBindGate(config: Config): string | null {
  if (config.auth.token) return null;
  const { hostname } = parseBind(config.server.bind);
  if (!isLoopbackHost(hostname)) {
    throw new ConfigError(
      `server.bind = "${config.server.bind}" is reachable from other machines but auth.token is empty; set auth.token (env LH_AUTH_TOKEN, or the secrets file) or bind to 127.0.0.1`,
    );
  }
  return "dev mode: no auth.token set; the API is open to anyone who can reach the loopback address (requests addressed to other host names than localhost, 127.0.0.1, [::1] and server.allowed_hosts are refused)";
}

export interface Running {
  lakehouse: Lakehouse;
  server: Server<unknown>;
  url: string;
  /** Stops accepting, waits for in-flight requests (up to the grace period), closes modules. */
  shutdown(): Promise<void>;
}

/** A server whose port is open while its modules open. */
export interface Starting {
  server: Server<unknown>;
  url: string;
  /** What /health shows until every module is open. */
  state: StartupState;
  /**
   * Resolves once every module is open and the real router answers. Rejects when a module fails
   * to open, after the port is closed (the process should exit non-zero so a supervisor restarts it).
   */
  ready: Promise<Running>;
  /** Whether shutdown() was called (during start-up, the modules are closed once they have opened). */
  readonly stopping: boolean;
  shutdown(): Promise<void>;
}

/** Largest body Bun may accept before our own per-route caps apply. */
function bodyCeiling(config: Config): number {
  return (
    Math.max(config.server.max_json_bytes, config.storage.max_object_bytes, config.ingest.max_ingest_bytes, ...Object.values(config.storage.prefix_caps)) +
    1024 * 1024
  );
}

/**
 * Opens the port first, answering "starting" (src/http/starting.ts), then opens the modules and
 * swaps the real router in. Before this order a restart with a 100K × 384 index left the port
 * closed for 19 s, and a supervisor could not tell starting from dead.
 */
export function start(config: Config, log: Logger): Starting {
  const warning = checkBindGate(config);
  if (warning) log.warn(warning);
  const state = new StartupState(MODULE_NAMES);
  const { hostname, port } = parseBind(config.server.bind);
  let router: { fetch: Hono<AppEnv>["fetch"] } = startingApp({
    state,
    log,
    accessLog: config.server.access_log,
    token: config.auth.token,
    allowedIps: config.auth.allowed_ips,
    allowedHosts: config.server.allowed_hosts,
  });
  const server = Bun.serve({
    hostname,
    port,
    maxRequestBodySize: bodyCeiling(config),
    idleTimeout: 120,
    // Bun's development mode answers an error that escapes fetch with an HTML page holding the
    // stack and source paths; it is on unless NODE_ENV=production. Never: see `error`.
    development: false,
    // The client address costs a lookup per request; only the allowlist reads it.
    fetch: (req, srv) =>
      router.fetch(req, {
        get ip() {
          return srv.requestIP(req)?.address;
        },
      }),
    // Hono turns every handler error into the envelope (onError); this catches what escapes it
    // (a failure inside onError or notFound, or in the wrapper above), so even that is a JSON 500
    // with no detail, and the log has it. (Bun's own parser refusals — 400 for a missing Host on
    // HTTP/1.1, 431 for oversized headers — are written before any JavaScript runs and never get
    // here: docs/reliability.md.)
    error: (err) => {
      log.error("unhandled error outside the router", describeError(err));
      return Response.json(envelope("internal", "internal error; see the server log"), { status: 500 });
    },
  });
  const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${server.port}`;

  const opening = createLakehouse(config, log, { startup: state });
  let stopping: Promise<void> | null = null;
  const drain = async () => {
    const pending = server.pendingRequests;
    const t0 = performance.now();
    if (pending > 0) log.info("draining in-flight requests", { requests: pending, grace_ms: config.server.shutdown_grace_ms });
    const grace = setTimeout(() => {
      log.warn("grace period over; closing the remaining connections", { requests: server.pendingRequests });
      void server.stop(true);
    }, config.server.shutdown_grace_ms);
    await server.stop(false);
    clearTimeout(grace);
    if (pending > 0) log.info("requests drained", { ms: Math.round(performance.now() - t0) });
  };
  const shutdown = () =>
    (stopping ??= (async () => {
      await drain();
      if (state.ready) return (await opening).close();
      // Stopped during start-up. A module cannot be stopped halfway through its open, so they are
      // closed once they have opened; one that is stuck (an unreachable store) is left behind
      // after the grace period: no /v1 request was served yet, so there is nothing to flush.
      log.info("waiting for the modules to finish opening before closing them", { grace_ms: config.server.shutdown_grace_ms });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gaveUp = new Promise<"gave_up">((resolve) => {
        timer = setTimeout(() => resolve("gave_up"), config.server.shutdown_grace_ms);
      });
      const lakehouse = await Promise.race([opening.catch(() => null), gaveUp]);
      clearTimeout(timer);
      if (lakehouse === "gave_up") log.warn("modules still opening after the grace period; exiting without closing them (no request was served)");
      else await lakehouse?.close();
    })());
  const ready = opening.then(
    (lakehouse) => {
      if (!stopping) {
        router = lakehouse.app;
        state.finish();
      }
      return { lakehouse, server, url, shutdown };
    },
    async (err) => {
      await server.stop(true);
      throw err;
    },
  );
  return {
    server,
    url,
    state,
    ready,
    get stopping() {
      return stopping !== null;
    },
    shutdown,
  };
}

/** Serves and resolves once every module is open (tests and tools that need the whole server at once). */
export function serve(config: Config, log: Logger): Promise<Running> {
  return start(config, log).ready;
}
