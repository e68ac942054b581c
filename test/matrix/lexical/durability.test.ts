// The lexical index survives kill -9 of a real server: killed mid-build after a checkpoint wrote a
// delta segment, the restarted server loads what was stored, the resumed build adds the rest, and
// the index then equals one built from scratch; killed when ready, it loads from its base segment
// (not rebuilt). Segments missing (a corpus built before lexical indexes existed) or damaged are
// rebuilt from the texts the vector index stores, and the corpus says so.
import { expect, test } from "bun:test";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startChild } from "../../support/child.ts";
import { crashScope } from "../../support/crash-scope.ts";
import { call, json, post } from "../../support/http.ts";
import { ingest } from "../../support/ingest.ts";
import { toCsv, workers } from "../../support/staffing.ts";
import { WORKERS_CORPUS } from "../fixtures.ts";
import { referenceIndex, referenceScores, reportedScores } from "./reference.ts";

const scope = crashScope("lh-lexical-kill-");
const QUERIES = ["forklift operator Joliet", "welder Detroit second shift", "bilingual electrician Gary"];

async function waitReady(base: string): Promise<any> {
  for (;;) {
    const st = await json(call(base, "/v1/matrix/corpora/workers"));
    if (st.state !== "building" && st.lexical.docs !== null) return st;
    await Bun.sleep(20);
  }
}

async function expectMatchesScratch(base: string, rows: ReturnType<typeof workers>) {
  const ref = referenceIndex(rows, (await json(call(base, "/v1/matrix/corpora/workers"))).fields);
  for (const q of QUERIES) {
    const got = reportedScores(await json(post(base, "/v1/matrix/search", { query: q, corpora: ["workers"], k: 300, mode: "lexical", explain: true })));
    const want = referenceScores(ref, q, 300);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [id, s] of want) expect(got.get(id)!).toBeCloseTo(s, 9);
  }
}

const segmentsDir = (root: string) => join(root, "objects", "_matrix", "lexical", "workers");
const segments = (root: string) => (existsSync(segmentsDir(root)) ? readdirSync(segmentsDir(root)).sort() : []);

test("kill -9 mid-build after a delta, and again when ready: nothing is lost, nothing rebuilt", async () => {
  const root = scope.newRoot();
  // Small batches and frequent checkpoints, so the build checkpoints long before it ends.
  const env = { LH_STORAGE_FS_ROOT: root, LH_MATRIX_BUILD_BATCH: "8", LH_MATRIX_READ_PAGE: "64", LH_MATRIX_CHECKPOINT_MS: "50" };
  const rows = workers(6000);
  let child = scope.track(await startChild(env));
  expect((await ingest(child.url, "workers", toCsv(rows as any))).status).toBe(201);
  expect((await post(child.url, "/v1/matrix/corpora", WORKERS_CORPUS)).status).toBe(201);
  // A checkpoint writes the delta, then the row hashes naming the rows it holds.
  const hashes = join(root, "objects", "_matrix", "hashes", "workers.json");
  while (!segments(root).some((s) => s.endsWith(".delta")) || !existsSync(hashes)) {
    const st = await json(call(child.url, "/v1/matrix/corpora/workers"));
    if (st.state !== "building") throw new Error("the build ended before its first checkpoint: make it slower");
    await Bun.sleep(10);
  }
  child.proc.kill("SIGKILL");
  await child.proc.exited;
  expect(segments(root).filter((s) => s.endsWith(".base"))).toEqual([]);

  child = scope.track(await startChild(env));
  const st = await waitReady(child.url);
  expect(st).toMatchObject({ state: "ready", count: rows.length, lexical: { docs: rows.length } });
  expect(st.lexical.rebuilt).toBeUndefined();
  expect(st.last_build.unchanged).toBeGreaterThan(0);
  await expectMatchesScratch(child.url, rows);
  // Sealed: one base, the deltas it replaced deleted.
  expect(segments(root)).toHaveLength(1);
  expect(segments(root)[0]!.endsWith(".base")).toBe(true);

  child.proc.kill("SIGKILL");
  await child.proc.exited;
  child = scope.track(await startChild(env));
  const again = await waitReady(child.url);
  expect(again.lexical).toMatchObject({ docs: rows.length });
  expect(again.lexical.rebuilt).toBeUndefined();
  await expectMatchesScratch(child.url, rows);
}, 180_000);

test("missing or damaged segments are rebuilt from the vector index's texts", async () => {
  const root = scope.newRoot();
  const env = { LH_STORAGE_FS_ROOT: root };
  const rows = workers(300);
  let child = scope.track(await startChild(env));
  expect((await ingest(child.url, "workers", toCsv(rows as any))).status).toBe(201);
  expect((await post(child.url, "/v1/matrix/corpora", WORKERS_CORPUS)).status).toBe(201);
  await waitReady(child.url);
  child.proc.kill("SIGKILL");
  await child.proc.exited;

  // Damaged: one byte of the base flipped (its checksum catches it).
  const [base] = segments(root);
  const path = join(segmentsDir(root), base!);
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  bytes[bytes.length >> 1]! ^= 0xff;
  writeFileSync(path, bytes);
  child = scope.track(await startChild(env));
  let st = await waitReady(child.url);
  expect(st.lexical).toMatchObject({ docs: rows.length, rebuilt: "damaged" });
  await expectMatchesScratch(child.url, rows);
  child.proc.kill("SIGKILL");
  await child.proc.exited;

  // Missing: as after an upgrade from a version without lexical indexes.
  rmSync(segmentsDir(root), { recursive: true });
  child = scope.track(await startChild(env));
  st = await waitReady(child.url);
  expect(st.lexical).toMatchObject({ docs: rows.length, rebuilt: "missing" });
  await expectMatchesScratch(child.url, rows);
  // The rebuilt index was stored: the next start loads it.
  expect(segments(root)).toHaveLength(1);
}, 120_000);
