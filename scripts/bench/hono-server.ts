// A second reference for scripts/bench/http.ts: Hono with one route answering a /health-sized
// JSON body, no middleware. Between it and the full edge lie request ids, the access log, auth
// routing and the real health handler.
import { Hono } from "hono";

const body = {
  status: "ok",
  version: "0.0.0",
  uptime_s: 1,
  modules: { storage: "ok", embed: "ok", catalog: "ok", sql: "ok", ingest: "ok", vector: "ok", matrix: "ok" },
};
const app = new Hono();
app.get("/health", (c) => c.json(body));
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => app.fetch(req) });
console.log(JSON.stringify({ listen: `http://127.0.0.1:${server.port}` }));
