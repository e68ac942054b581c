// Serving the app over HTTP: the bind gate, Bun.serve with the client address passed to Hono,
// and graceful shutdown (stop accepting, drain in flight, close modules).
import type { Server } from "bun";
import { createLakehouse, type Lakehouse } from "./app.ts";
import { ConfigError } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import { isLoopbackHost } from "./http/cidr.ts";
import { describeError, envelope } from "./http/error-envelope.ts";
import type { Logger } from "./log.ts";

function parseBind(bind: string): { hostname: string; port: number } {
  const i = bind.lastIndexOf(":");
  const host = bind.slice(0, i);
  return { hostname: host.startsWith("[") ? host.slice(1, -1) : host, port: Number(bind.slice(i + 1)) };
}

/** Refuses a non-loopback bind without a token; returns a warning for loopback dev mode. */
function checkBindGate(config: Config): string | null {
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

/** Largest body Bun may accept before our own per-route caps apply. */
function bodyCeiling(config: Config): number {
  return (
    Math.max(config.server.max_json_bytes, config.storage.max_object_bytes, config.ingest.max_ingest_bytes, ...Object.values(config.storage.prefix_caps)) +
    1024 * 1024
  );
}

export async function serve(config: Config, log: Logger): Promise<Running> {
  const warning = checkBindGate(config);
  if (warning) log.warn(warning);
  const lakehouse = await createLakehouse(config, log);
  const { hostname, port } = parseBind(config.server.bind);
  const app = lakehouse.app;
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
      app.fetch(req, {
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
  let stopping: Promise<void> | null = null;
  const shutdown = () =>
    (stopping ??= (async () => {
      const grace = setTimeout(() => void server.stop(true), config.server.shutdown_grace_ms);
      await server.stop(false);
      clearTimeout(grace);
      await lakehouse.close();
    })());
  return { lakehouse, server, url, shutdown };
}
