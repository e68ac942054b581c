// The real process: start-up, the bind gate, config errors, graceful shutdown, kill -9 durability.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runToExit, startChild } from "./support/child.ts";
import { call, json } from "./support/http.ts";
import { tempDir } from "./support/tmp.ts";

test("starts with one startup line naming modules and where data lives; /health answers", async () => {
  const root = tempDir("lh-serve-");
  const child = await startChild({ LH_STORAGE_FS_ROOT: root });
  try {
    const startup = JSON.parse(
      child
        .stdout()
        .split("\n")
        .find((l) => l.includes("lakehouse started"))!,
    );
    expect(startup.modules).toContain("storage");
    expect(startup.data).toBe(root);
    const health = await json(call(child.url, "/health"));
    expect(health.status).toBe("ok");
    expect(health.modules.storage).toBe("ok");
    expect(child.stderr()).toMatch(/dev mode/);
  } finally {
    child.proc.kill("SIGKILL");
  }
});

test("SIGTERM drains an in-flight upload, then exits 0", async () => {
  const root = tempDir("lh-serve-");
  const child = await startChild({ LH_STORAGE_FS_ROOT: root });
  let push!: (chunk: Uint8Array | null) => void;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      push = (chunk) => (chunk ? controller.enqueue(chunk) : controller.close());
    },
  });
  const upload = call(child.url, "/v1/storage/objects/slow/object.bin", { method: "PUT", body, duplex: "half" } as RequestInit);
  push(new Uint8Array(64 * 1024).fill(1));
  await Bun.sleep(200);
  child.proc.kill("SIGTERM");
  await Bun.sleep(200);
  expect(child.proc.exitCode).toBeNull();
  push(new Uint8Array(64 * 1024).fill(2));
  push(null);
  const res = await upload;
  expect(res.status).toBe(201);
  expect((await json(res)).size).toBe(128 * 1024);
  expect(await child.proc.exited).toBe(0);
  expect(child.stdout()).toMatch(/"stopped"/);
  await expect(call(child.url, "/health")).rejects.toThrow();
});

test("SIGTERM twice: 'shutting down' once, the second heard and ignored, each module closed in reverse with its ms, then 'stopped' with the total", async () => {
  const root = tempDir("lh-serve-");
  const child = await startChild({ LH_STORAGE_FS_ROOT: root });
  // An index with items, so the vector module has a final snapshot to write and log.
  await call(child.url, "/v1/vectors/indexes", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "v", dim: 2 }),
  });
  const upsert = await call(child.url, "/v1/vectors/indexes/v/upsert", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ items: [{ id: "a", vector: [1, 0] }] }),
  });
  expect(upsert.status).toBe(200);
  // An upload in flight holds the drain open, so the second signal lands during shutdown
  // (two signals sent back to back are merged into one by the kernel).
  let push!: (chunk: Uint8Array | null) => void;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      push = (chunk) => (chunk ? controller.enqueue(chunk) : controller.close());
    },
  });
  const upload = call(child.url, "/v1/storage/objects/slow/object.bin", { method: "PUT", body, duplex: "half" } as RequestInit);
  push(new Uint8Array(1024).fill(1));
  await Bun.sleep(100);
  child.proc.kill("SIGTERM");
  while (!child.stdout().includes('"draining in-flight requests"')) await Bun.sleep(10);
  child.proc.kill("SIGTERM");
  while (!child.stdout().includes('"signal heard during shutdown')) await Bun.sleep(10);
  push(null);
  expect((await upload).status).toBe(201);
  expect(await child.proc.exited).toBe(0);
  const lines = child
    .stdout()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  const msgs = lines.map((l) => l.msg);
  expect(msgs.filter((m) => m === "shutting down")).toHaveLength(1);
  expect(msgs.filter((m) => m === "stopped")).toHaveLength(1);
  expect(msgs).toContain("signal heard during shutdown; still stopping (SIGKILL stops at once; the logs keep acknowledged writes)");
  const opened = lines.filter((l) => l.msg === "module opened").map((l) => l.module);
  const closed = lines.filter((l) => l.msg === "module closed").map((l) => l.module);
  expect(closed).toEqual([...lines.find((l) => l.msg === "lakehouse started").modules].reverse());
  expect(new Set(closed)).toEqual(new Set(opened));
  for (const l of lines.filter((l) => l.msg === "module closed")) expect(l.ms).toBeGreaterThanOrEqual(0);
  expect(lines.find((l) => l.msg === "vector index closed" && l.index === "v")).toMatchObject({ count: 1, pending: 0, snapshot: true });
  const stopped = lines.find((l) => l.msg === "stopped");
  expect(stopped.ms).toBeGreaterThanOrEqual(0);
  // In that order: shutting down, the modules, the last line.
  expect(msgs.indexOf("shutting down")).toBeLessThan(msgs.indexOf("module closed"));
  expect(msgs.at(-1)).toBe("stopped");
});

test("an acknowledged PUT survives kill -9 and restart", async () => {
  const root = tempDir("lh-serve-");
  const first = await startChild({ LH_STORAGE_FS_ROOT: root });
  const put = await call(first.url, "/v1/storage/objects/durable/a.txt", { method: "PUT", body: "acknowledged" });
  expect(put.status).toBe(201);
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  const second = await startChild({ LH_STORAGE_FS_ROOT: root });
  try {
    expect(await (await call(second.url, "/v1/storage/objects/durable/a.txt")).text()).toBe("acknowledged");
  } finally {
    second.proc.kill("SIGKILL");
  }
});

test("bind gate: a non-loopback bind without a token refuses to start, naming the key", async () => {
  const out = await runToExit({ LH_SERVER_BIND: "0.0.0.0:0", LH_STORAGE_FS_ROOT: tempDir() });
  expect(out.code).toBe(2);
  expect(out.stderr).toMatch(/auth\.token/);
  expect(out.stderr).toMatch(/LH_AUTH_TOKEN/);
});

test("a non-loopback bind with a token starts, and the token never appears in the output", async () => {
  const token = `tok-${crypto.randomUUID()}`;
  const child = await startChild({ LH_SERVER_BIND: "0.0.0.0:0", LH_AUTH_TOKEN: token, LH_STORAGE_FS_ROOT: tempDir(), LH_SERVER_ACCESS_LOG: "true" });
  try {
    const loopback = `http://127.0.0.1:${new URL(child.url).port}`;
    expect((await call(loopback, "/v1/storage/objects")).status).toBe(401);
    const ok = await call(loopback, "/v1/storage/objects", {}, { token });
    expect(ok.status).toBe(200);
    expect(child.stdout() + child.stderr()).not.toContain(token);
    expect(child.stderr()).not.toMatch(/dev mode/);
  } finally {
    child.proc.kill("SIGKILL");
  }
});

test("a config error exits 2 with a message naming the key and the file", async () => {
  const dir = tempDir("lh-conf-");
  const path = join(dir, "lakehouse.toml");
  writeFileSync(path, "[storage]\nbakend = 'fs'\n");
  const out = await runToExit({}, ["--config", path]);
  expect(out.code).toBe(2);
  expect(out.stderr).toContain('unknown key "storage.bakend"');
  expect(out.stderr).toContain(path);
});
