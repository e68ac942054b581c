// The router that answers while the modules open (src/serve.ts swaps in the real one when they
// are): the port is open at once, so a supervisor or load balancer can tell "starting" from
// "dead". The edge is the same as the real router's: request ids and the access log, the host gate
// on every route, the allowlist and the token on /v1. Then:
//   GET /health   503 {status: "starting"}; with the token (or in dev mode) also which modules are
//                 open and the progress of the slow ones (src/startup.ts)
//   /v1/...       503 `unavailable` (details.status "starting"), with Retry-After
//   anything else 404, as the real router would
import { Hono } from "hono";
import { NotFound, Unavailable } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { StartupState } from "../startup.ts";
import { requestContext } from "./access-log.ts";
import { edgeAuth } from "./auth.ts";
import type { AppEnv } from "./env.ts";
import { envelope, errorResponse, makeOnError } from "./error-envelope.ts";
import { hostGate } from "./host.ts";

/**
 * Seconds a client is asked to wait. Opening takes from ≈0.3 s (an empty store) to a few seconds
 * (a 100K × 384 index: docs/benchmarks.md, start-up); one second keeps a polling client close
 * behind without it spinning.
 */
export const STARTING_RETRY_AFTER_S = 1;

export interface StartingOptions {
  state: StartupState;
  log: Logger;
  accessLog: boolean;
  token: string;
  allowedIps: string[];
  allowedHosts: string[];
}

export function startingApp(opts: StartingOptions): Hono<AppEnv> {
  const tokenAuth = opts.token !== "";
  const auth = edgeAuth({ token: opts.token, allowedIps: opts.allowedIps });
  const retry = { "Retry-After": String(STARTING_RETRY_AFTER_S) };
  const app = new Hono<AppEnv>();
  app.use("*", requestContext(opts.log, opts.accessLog, hostGate({ tokenAuth, allowedHosts: opts.allowedHosts })));
  // Like the health operation: module detail only for a caller who would be let into /v1 (or
  // anyone in dev mode, which is loopback only); a bare probe learns the state and nothing else.
  app.get("/health", (c) => c.json(tokenAuth && !auth.admits(c) ? { status: "starting" } : opts.state.body(), 503, retry));
  app.use("/v1/*", auth.middleware);
  app.all("/v1/*", (c) => {
    const waiting = Object.entries(opts.state.body().modules)
      .filter(([, state]) => state === "starting")
      .map(([name]) => name);
    const message = `the server is starting (still opening: ${waiting.join(", ") || "the router"}); retry in a moment`;
    return errorResponse(c, new Unavailable(message, { status: "starting" }, { retryAfter: STARTING_RETRY_AFTER_S }));
  });
  app.notFound((c) => c.json(envelope("not_found", new NotFound(`no route for ${c.req.method} ${c.req.path}`).message), 404));
  app.onError(makeOnError(opts.log));
  return app;
}
