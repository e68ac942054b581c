// The one HTTP client for tests (and benchmarks, which import it on purpose: keep it free of
// bun:test). A target is a Lakehouse, called in-process through its app as a client at an address
// (default loopback) addressed to http://localhost (what the rebinding gate answers without a token),
// or a base URL such as a child server's, called over the network.
import type { Lakehouse } from "../../src/app.ts";

export type Target = Lakehouse | string;

export interface ClientOptions {
  /** The client's address as the app sees it; in-process targets only (default 127.0.0.1). */
  ip?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
}

/** One request to `path` (starting with "/"), as is: no status check, the body left unread. */
export function call(target: Target, path: string, init: RequestInit = {}, opts: ClientOptions = {}): Promise<Response> {
  if (opts.token !== undefined) {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${opts.token}`);
    init = { ...init, headers };
  }
  if (typeof target === "string") {
    if (opts.ip !== undefined) throw new Error("a client address can only be set for in-process calls");
    return fetch(`${target}${path}`, init);
  }
  return Promise.resolve(target.app.fetch(new Request(`http://localhost${path}`, init), { ip: opts.ip ?? "127.0.0.1" }));
}

/** A request whose body, if any, is `body` as JSON. */
export function send(target: Target, method: string, path: string, body?: unknown, opts: ClientOptions = {}): Promise<Response> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { "content-type": "application/json" };
    init.body = JSON.stringify(body);
  }
  return call(target, path, init, opts);
}

/** POST with a JSON body. */
export function post(target: Target, path: string, body: unknown, opts: ClientOptions = {}): Promise<Response> {
  return send(target, "POST", path, body, opts);
}

/**
 * A response's JSON body, read untyped: tests probe shapes freely and a wrong shape fails the
 * expect. Takes the response or the pending request.
 */
export async function json<T = any>(res: Response | Promise<Response>): Promise<T> {
  return (await res).json() as Promise<T>;
}

/** A response's JSON body, or an error naming the status and the body unless it is a 2xx. */
export async function ok<T = any>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  const body = await r.json();
  if (r.status >= 300) throw new Error(`HTTP ${r.status}: ${JSON.stringify(body)}`);
  return body as T;
}
