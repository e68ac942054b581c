// Everything survives a restart: a build interrupted by close or by kill -9 resumes and ends
// ready with every row; corpora, search results and acknowledged playbooks are all there after
// kill -9 of a real server process.
import { afterAll, expect, test } from "bun:test";
import { type Child, startChild } from "../helpers/child.ts";
import { call, testLakehouse } from "../helpers/app.ts";
import { tempDir } from "../helpers/tmp.ts";
import { ingest, json, post, toCsv, WORKERS_CORPUS, workers } from "./fixtures.ts";

const children: Child[] = [];
afterAll(() => {
  for (const c of children) c.proc.kill("SIGKILL");
});

test("a build stopped by close resumes on the next start without re-embedding what was done", async () => {
  const root = tempDir("lh-matrix-resume-");
  const overrides = { storage: { fs: { root } }, matrix: { build_batch: 4 } };
  const rows = workers(800);
  const first = await testLakehouse(overrides);
  await ingest(first, "workers", toCsv(rows as any));
  expect((await post(first, "/v1/matrix/corpora", WORKERS_CORPUS)).status).toBe(201);
  while ((await json(call(first, "/v1/matrix/corpora/workers"))).rows_done < 40) await Bun.sleep(1);
  await first.close();

  const second = await testLakehouse(overrides);
  try {
    const early = await json(call(second, "/v1/matrix/corpora/workers"));
    // Never a half-index marked ready.
    if (early.state === "ready") expect(early.count).toBe(rows.length);
    await second.matrix.corpora.settled("workers");
    const st = await json(call(second, "/v1/matrix/corpora/workers"));
    expect(st).toMatchObject({ state: "ready", count: rows.length, rows_done: rows.length });
    expect(st.last_build.unchanged).toBeGreaterThan(0);
    expect(st.last_build.embedded + st.last_build.unchanged).toBe(rows.length);
  } finally {
    await second.close();
  }
});

interface AnyJson {
  json(): Promise<any>;
  status: number;
}
async function http(base: string, path: string, init: RequestInit = {}): Promise<AnyJson> {
  return fetch(`${base}${path}`, init);
}
const jsonPost = (base: string, path: string, body: unknown) =>
  http(base, path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function waitReady(base: string, name: string): Promise<any> {
  for (;;) {
    const st = await (await http(base, `/v1/matrix/corpora/${name}`)).json();
    if (st.state !== "building") return st;
    await Bun.sleep(20);
  }
}

test("kill -9 during a build, and after acknowledged playbooks, loses nothing", async () => {
  const root = tempDir("lh-matrix-kill-");
  const env = { LH_STORAGE_FS_ROOT: root, LH_MATRIX_BUILD_BATCH: "16" };
  const rows = workers(1500);
  let child = await startChild(env);
  children.push(child);
  const up = await http(child.url, "/v1/ingest/workers", { method: "POST", headers: { "content-type": "text/csv" }, body: toCsv(rows as any) });
  expect(up.status).toBe(201);
  expect((await jsonPost(child.url, "/v1/matrix/corpora", WORKERS_CORPUS)).status).toBe(201);
  while ((await (await http(child.url, "/v1/matrix/corpora/workers")).json()).rows_done < 100) await Bun.sleep(5);
  child.proc.kill("SIGKILL");
  await child.proc.exited;

  child = await startChild(env);
  children.push(child);
  const st = await waitReady(child.url, "workers");
  expect(st).toMatchObject({ state: "ready", count: rows.length, rows_done: rows.length });

  const query = { query: "forklift operator in Joliet", corpora: ["workers"], k: 10 };
  const before = await (await jsonPost(child.url, "/v1/matrix/search", query)).json();
  const target = before.results[5].id;
  const pb = await jsonPost(child.url, "/v1/matrix/playbooks", { query: query.query, corpus: "workers", id: target, outcome: "success" });
  expect(pb.status).toBe(201);
  child.proc.kill("SIGKILL");
  await child.proc.exited;

  child = await startChild(env);
  children.push(child);
  const list = await (await http(child.url, "/v1/matrix/playbooks")).json();
  expect(list.playbooks.map((p: any) => p.item_id)).toEqual([target]);
  const after = await (await jsonPost(child.url, "/v1/matrix/search", query)).json();
  expect(after.results[0].id).toBe(target);
  const unboosted = await (await jsonPost(child.url, "/v1/matrix/search", { ...query, playbooks: false })).json();
  expect(unboosted.results.map((r: any) => r.id)).toEqual(before.results.map((r: any) => r.id));
  child.proc.kill("SIGKILL");
}, 120_000);
