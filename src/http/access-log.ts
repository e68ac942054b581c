// Request ids and the access log: one JSON line per request.
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../log.ts";
import type { AppEnv } from "./router.ts";

const ID_PATTERN = /^[\w.:-]{1,128}$/;

export function requestContext(log: Logger, accessLog: boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const id = incoming && ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", id);
    const started = performance.now();
    await next();
    c.res.headers.set("X-Request-Id", id);
    if (!accessLog) return;
    const line = (bytes: number | null) =>
      log.info("request", {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 100) / 100,
        bytes,
        request_id: id,
      });
    const length = c.res.headers.get("content-length");
    if (length !== null || !c.res.body) {
      line(length === null ? 0 : Number(length));
      return;
    }
    // Bodies without a declared length are counted as they stream; the line is written when the
    // last byte has gone (or the client went away).
    let bytes = 0;
    const counter: Transformer<Uint8Array, Uint8Array> & { cancel(): void } = {
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
      flush: () => line(bytes),
      cancel: () => line(bytes),
    };
    const counted = c.res.body.pipeThrough(new TransformStream(counter));
    c.res = new Response(counted, c.res);
  };
}
