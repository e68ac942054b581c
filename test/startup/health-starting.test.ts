// The port answers while the modules open (issue 11, point 6), in the real process: the object
// store is a real S3 server (s3rver) behind a proxy that holds its connections, so the storage
// module's open (its conditional-write probe) waits on the network as it would for a slow or
// unreachable bucket. Meanwhile /health is 503 "starting", /v1 is 503 with Retry-After behind the
// same host gate and auth as ever; once the store answers the real router serves; a store that
// refuses makes the process exit 1 (a supervisor restarts it); SIGTERM while starting exits 0.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { MODULE_NAMES } from "../../src/app.ts";
import type { Child } from "../support/child.ts";
import { call, json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { type RunningS3, startS3rver } from "../support/s3rver.ts";
import { tempDir } from "../support/tmp.ts";
import { type GateProxy, gateProxy } from "./gate-proxy.ts";
import { startListening, until } from "./listening.ts";

let s3: RunningS3;
const children: Child[] = [];
const proxies: GateProxy[] = [];
const roots: string[] = [];
beforeAll(async () => {
  s3 = await startS3rver("lh-starting");
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.proc.kill("SIGKILL");
    await c.proc.exited;
  }
  for (const p of proxies.splice(0)) await p.stop();
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});
afterAll(() => s3.stop());

async function startBehindGate(env: Record<string, string> = {}): Promise<{ child: Child; gate: GateProxy }> {
  const gate = await gateProxy(s3.endpoint);
  proxies.push(gate);
  const root = tempDir("lh-starting-");
  roots.push(root);
  const child = await startListening({
    LH_STORAGE_BACKEND: "s3",
    LH_STORAGE_S3_ENDPOINT: gate.endpoint,
    LH_STORAGE_S3_BUCKET: s3.bucket,
    LH_STORAGE_S3_REGION: "us-east-1",
    LH_STORAGE_S3_PATH_STYLE: "true",
    LH_STORAGE_S3_ACCESS_KEY_ID: "S3RVER",
    LH_STORAGE_S3_SECRET_ACCESS_KEY: "S3RVER",
    // s3rver ignores If-None-Match; "auto" probes that (through the gate) and emulates it.
    LH_STORAGE_S3_CONDITIONAL_WRITES: "auto",
    // Local state beside the bucket (vector logs, SQL cache).
    LH_STORAGE_FS_ROOT: root,
    ...env,
  });
  children.push(child);
  // The storage module is waiting on the store: the held connection proves it.
  await until("the store to be asked", () => gate.held > 0);
  return { child, gate };
}

test("while the store holds start-up: /health 503 starting with every module, /v1 503 unavailable with Retry-After; then the real router", async () => {
  const { child, gate } = await startBehindGate();

  const health = await call(child.url, "/health");
  expect(health.status).toBe(503);
  expect(health.headers.get("retry-after")).toBe("1");
  const body = await json(health);
  expect(body).toMatchObject({ status: "starting", progress: {} });
  // Every module is listed from the first moment, in the order the process lists them, none open.
  expect(body.modules).toEqual(Object.fromEntries(MODULE_NAMES.map((m) => [m, "starting"])));
  expect(body.elapsed_ms).toBeGreaterThanOrEqual(0);

  for (const [method, path] of [
    ["GET", "/v1/catalog/datasets"],
    ["POST", "/v1/sql"],
    ["GET", "/v1/openapi.json"],
    ["DELETE", "/v1/vectors/indexes/anything"],
  ] as const) {
    const res = await call(child.url, path, { method });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    const err = (await json(res)).error;
    expect(err.code).toBe("unavailable");
    expect(err.details).toEqual({ status: "starting" });
    expect(err.message).toContain("starting");
    expect(err.message).toContain("storage");
  }
  // Neither a /v1 route nor the health check: what the real router says, 404.
  expect((await call(child.url, "/nowhere")).status).toBe(404);
  // The host gate holds while starting (dev mode: a foreign Origin is refused, as ever).
  const foreign = await call(child.url, "/v1/catalog/datasets", { headers: { origin: "http://evil.example.com" } });
  expect(foreign.status).toBe(403);
  expect((await json(foreign)).error.code).toBe("forbidden_host");
  // Nothing was logged as started yet.
  expect(child.stdout()).not.toContain('"lakehouse started"');

  gate.open();
  await until("the server to be ready", async () => (await call(child.url, "/health")).status === 200);
  const ready = await json(call(child.url, "/health"));
  expect(ready.status).toMatch(/^(ok|degraded)$/);
  expect(Object.keys(ready.modules)).toEqual([...MODULE_NAMES]);
  expect((await ingest(child.url, "after_start", "x\n1\n")).status).toBe(201);
  expect(child.stdout()).toContain('"lakehouse started"');
  const opened = child
    .stdout()
    .split("\n")
    .filter((l) => l.includes('"module opened"'))
    .map((l) => JSON.parse(l).module);
  expect(opened.sort()).toEqual([...MODULE_NAMES].sort());
}, 60_000);

test("with a token: /v1 still answers 401 without it and 503 with it; a bare probe of /health learns only the state", async () => {
  const token = `tok-${crypto.randomUUID()}`;
  const { child } = await startBehindGate({ LH_AUTH_TOKEN: token });
  const anonymous = await call(child.url, "/health");
  expect(anonymous.status).toBe(503);
  expect(await json(anonymous)).toEqual({ status: "starting" });
  const full = await json(call(child.url, "/health", {}, { token }));
  expect(full.modules.storage).toBe("starting");

  const without = await call(child.url, "/v1/catalog/datasets");
  expect(without.status).toBe(401);
  expect((await json(without)).error.code).toBe("unauthorized");
  const wrong = await call(child.url, "/v1/catalog/datasets", {}, { token: "nope" });
  expect(wrong.status).toBe(401);
  const withToken = await call(child.url, "/v1/catalog/datasets", {}, { token });
  expect(withToken.status).toBe(503);
  expect(withToken.headers.get("retry-after")).toBe("1");
  expect(child.stdout() + child.stderr()).not.toContain(token);
}, 60_000);

test("a store that refuses every connection: the port was open meanwhile, then the process exits 1 saying why", async () => {
  const { child, gate } = await startBehindGate();
  expect((await call(child.url, "/health")).status).toBe(503);
  gate.refuse();
  const code = await child.proc.exited;
  expect(code).toBe(1);
  expect(child.stderr()).toContain("start-up failed");
  expect(child.stdout()).not.toContain('"lakehouse started"');
  await expect(call(child.url, "/health")).rejects.toThrow();
}, 60_000);

test("SIGTERM while starting: the port closes, the modules are closed once they have opened, exit 0", async () => {
  const { child, gate } = await startBehindGate();
  child.proc.kill("SIGTERM");
  await until("the shutdown to begin", () => child.stdout().includes("waiting for the modules to finish opening"));
  await expect(call(child.url, "/health")).rejects.toThrow();
  gate.open();
  expect(await child.proc.exited).toBe(0);
  const out = child.stdout();
  expect(out.match(/"shutting down"/g)).toHaveLength(1);
  expect(out).toMatch(/"module closed","module":"storage"/);
  expect(out).toMatch(/"stopped","ms":\d+/);
  expect(out).not.toContain('"lakehouse started"');
}, 60_000);
