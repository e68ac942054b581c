// Acknowledged writes survive kill -9 of a real server process; a torn log tail is dropped with
// nothing before it lost; compaction writes snapshots that a restart can load without any log.
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeRecord } from "../../src/vector/wal-record.ts";
import { type Child, startChild } from "../support/child.ts";
import { json, send } from "../support/http.ts";
import { tempDir } from "../support/tmp.ts";
import { clustered, row } from "../support/vectors.ts";

const DIM = 16;
const data = clustered(600, DIM, { seed: 3 });
const children: Child[] = [];
const roots: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.proc.kill("SIGKILL");
    await c.proc.exited;
  }
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

async function start(root: string, env: Record<string, string> = {}): Promise<Child> {
  const child = await startChild({ LH_STORAGE_FS_ROOT: root, ...env });
  children.push(child);
  return child;
}

async function kill9(child: Child): Promise<void> {
  child.proc.kill("SIGKILL");
  await child.proc.exited;
}

function api(child: Child) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await send(child.url, method, `/v1/vectors${path}`, body);
    return { status: res.status, body: await json(res) };
  };
}

const item = (i: number) => ({ id: `p${i}`, vector: row(data, DIM, i), metadata: { i } });

describe("durability", () => {
  test("every acknowledged upsert and delete survives SIGKILL and restart", async () => {
    const root = tempDir("lh-vec-kill-");
    roots.push(root);
    let child = await start(root);
    let call = api(child);
    expect((await call("POST", "/indexes", { name: "crew", dim: DIM })).status).toBe(201);

    const acked = new Set<string>();
    for (let b = 0; b < 20; b++) {
      const batch = Array.from({ length: 25 }, (_, j) => item(b * 25 + j));
      const res = await call("POST", "/indexes/crew/upsert", { items: batch });
      expect(res.status).toBe(200);
      for (const it of batch) acked.add(it.id);
    }
    const del = await call("POST", "/indexes/crew/delete", { ids: ["p0", "p1", "p2"] });
    expect(del.body.deleted).toBe(3);
    for (const id of ["p0", "p1", "p2"]) acked.delete(id);
    // Writes in flight when the process dies may or may not land; acknowledged ones must.
    const inflight = Array.from({ length: 4 }, (_, j) =>
      call("POST", "/indexes/crew/upsert", { items: [item(500 + j)] })
        .then((r) => r.status === 200 && acked.add(`p${500 + j}`))
        .catch(() => {}),
    );
    await Bun.sleep(2);
    await kill9(child);
    await Promise.all(inflight);

    child = await start(root);
    call = api(child);
    const info = (await call("GET", "/indexes/crew")).body;
    expect(info.count).toBeGreaterThanOrEqual(acked.size);
    for (const id of acked) {
      const got = await call("GET", `/indexes/crew/items/${id}`);
      expect([id, got.status]).toEqual([id, 200]);
    }
    for (const id of ["p0", "p1", "p2"]) expect((await call("GET", `/indexes/crew/items/${id}`)).status).toBe(404);
    const hits = (await call("POST", "/indexes/crew/search", { vector: row(data, DIM, 321), k: 1 })).body.hits;
    expect(hits[0]).toMatchObject({ id: "p321", metadata: { i: 321 } });
  }, 60_000);

  test("a damaged log leaves that index unavailable, not the server: others serve, health says degraded, drop clears it", async () => {
    const root = tempDir("lh-vec-damaged-");
    roots.push(root);
    let child = await start(root);
    let call = api(child);
    for (const name of ["good", "bad"]) {
      await call("POST", "/indexes", { name, dim: DIM });
      for (let b = 0; b < 3; b++) await call("POST", `/indexes/${name}/upsert`, { items: Array.from({ length: 5 }, (_, j) => item(b * 5 + j)) });
    }
    await kill9(child);

    // Flip a byte inside the first record: whole records follow it, so this is damage, not a torn tail.
    const dir = join(root, "wal", "vectors", "bad");
    const segment = join(
      dir,
      readdirSync(dir)
        .filter((f) => f.endsWith(".wal"))
        .sort()[0]!,
    );
    const bytes = readFileSync(segment);
    bytes[20]! ^= 0xff;
    writeFileSync(segment, bytes);

    child = await start(root);
    call = api(child);
    const health = await json(send(child.url, "GET", "/health"));
    expect(health.modules.vector).toBe("degraded");
    expect(health.details.vector).toEqual({ unavailable_indexes: ["bad"] });
    const bad = await call("GET", "/indexes/bad/items/p1");
    expect(bad.status).toBe(503);
    expect(bad.body.error.code).toBe("unavailable");
    expect(JSON.stringify(bad.body)).not.toContain(root);
    expect((await call("POST", "/indexes", { name: "bad", dim: DIM })).status).toBe(409);
    expect((await call("GET", "/indexes/good")).body).toMatchObject({ count: 15 });
    // The damaged files stay until an operator drops the index.
    expect(readFileSync(segment)).toEqual(bytes);
    expect((await send(child.url, "DELETE", "/v1/vectors/indexes/bad")).status).toBe(204);
    expect((await call("POST", "/indexes", { name: "bad", dim: DIM })).status).toBe(201);
    expect((await call("GET", "/indexes/bad")).body).toMatchObject({ count: 0 });
  }, 60_000);

  test("a torn log tail from a crash mid-append is dropped; everything before it is kept", async () => {
    const root = tempDir("lh-vec-torn-");
    roots.push(root);
    let child = await start(root);
    let call = api(child);
    await call("POST", "/indexes", { name: "crew", dim: DIM });
    for (let b = 0; b < 4; b++) await call("POST", "/indexes/crew/upsert", { items: Array.from({ length: 10 }, (_, j) => item(b * 10 + j)) });
    await kill9(child);

    const dir = join(root, "wal", "vectors", "crew");
    const last = readdirSync(dir)
      .filter((f) => f.endsWith(".wal"))
      .sort()
      .at(-1)!;
    const record = encodeRecord({ seq: 5, kind: "upsert", items: [{ id: "torn", label: 99 }], vectors: new Float32Array(DIM).fill(0.5) });
    appendFileSync(join(dir, last), record.subarray(0, record.length - 7));

    child = await start(root);
    call = api(child);
    expect((await call("GET", "/indexes/crew")).body).toMatchObject({ count: 40, seq: 4 });
    expect((await call("GET", "/indexes/crew/items/torn")).status).toBe(404);
    // The cut tail does not poison the next append.
    expect((await call("POST", "/indexes/crew/upsert", { items: [item(100)] })).body.seq).toBe(5);
    await kill9(child);
    child = await start(root);
    call = api(child);
    expect((await call("GET", "/indexes/crew")).body).toMatchObject({ count: 41, seq: 5 });
    expect((await call("GET", "/indexes/crew/items/p100")).status).toBe(200);
  }, 60_000);
});
