// Start-up survives any bytes in the store, in the real server process (`bun src/main.ts`): it
// starts (never exits non-zero for stored bytes), /health names what was skipped, the rest serves
// over HTTP; and an oversized object is never read whole into the process's memory.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { type Child, startChild } from "../support/child.ts";
import { call, json, post } from "../support/http.ts";
import { ingest, ingestOk } from "../support/ingest.ts";
import { tempDir } from "../support/tmp.ts";
import { type Base, buildBase, copyOf, damage, KINDS, MiB, OVERSIZED_BYTES, place, unaffectedWork } from "./fixture.ts";

let base: Base;
const children: Child[] = [];
const roots: string[] = [];
beforeAll(async () => {
  base = await buildBase();
  roots.push(base.root);
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.proc.kill("SIGKILL");
    await c.proc.exited;
  }
});
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function start(root: string): Promise<Child> {
  const child = await startChild({ LH_STORAGE_FS_ROOT: root });
  children.push(child);
  return child;
}

/** The child's peak resident memory so far (VmHWM), in bytes. */
function peakRss(child: Child): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.proc.pid}/status`, "utf8"));
  if (!m) throw new Error("no VmHWM");
  return Number(m[1]) * 1024;
}

test("the audit's case: _journal/9999999999999999.json with two datasets no longer stops start-up", async () => {
  // Before: "the journal is too busy to append to; retry", exit 1, on every start.
  const root = tempDir("lh-journal-overflow-");
  roots.push(root);
  let child = await start(root);
  await ingestOk(child.url, "a", "x\n1\n");
  await ingestOk(child.url, "b", "x\n2\n");
  // The public API refuses it now (reserved prefix); a restore or an older server could still leave it.
  expect((await call(child.url, "/v1/storage/objects/_journal/9999999999999999.json", { method: "PUT", body: "{}" })).status).toBe(403);
  child.proc.kill("SIGTERM");
  expect(await child.proc.exited).toBe(0);
  place(root, "_journal/9999999999999999.json", '{"hello":1}');

  child = await start(root);
  const h = await json(call(child.url, "/health"));
  expect(h.details.catalog.skipped_journal_entries).toEqual({ count: 1, objects: [{ key: "_journal/9999999999999999.json", reason: "bad_name" }] });
  expect(await json(post(child.url, "/v1/sql", { sql: "SELECT x FROM a UNION ALL SELECT x FROM b ORDER BY 1" }))).toMatchObject({ rows: [[1], [2]] });
  expect((await ingest(child.url, "c", "x\n3\n")).status).toBe(201);
  const journal = await json(call(child.url, "/v1/journal"));
  expect(journal.entries.map((e: any) => [e.seq, e.name])).toEqual([
    [1, "a"],
    [2, "b"],
    [3, "c"],
  ]);
  // And again: nothing it did at start-up made the next start worse.
  child.proc.kill("SIGTERM");
  expect(await child.proc.exited).toBe(0);
  child = await start(root);
  expect((await json(call(child.url, "/v1/journal"))).last_seq).toBe(3);
}, 60_000);

test("all together in the real process: it starts, names every skipped object, serves the rest, stops cleanly", async () => {
  const root = copyOf(base);
  roots.push(root);
  for (const [i, t] of base.targets.entries()) damage(root, t.key, KINDS[i % KINDS.length]!);
  for (const [key, body] of base.outOfRange) place(root, key, body);
  const child = await start(root);
  const h = await json(call(child.url, "/health"));
  expect(h.status).toBe("degraded");
  const named = JSON.stringify(h.details);
  for (const t of base.targets.filter((t) => t.module)) if (!t.key.startsWith("_vectors/")) expect(named).toContain(t.key);
  for (const [key] of base.outOfRange.filter(([k]) => !k.startsWith("datasets/"))) expect(named).toContain(key);
  expect(h.details.vector.unavailable_indexes).toEqual(["matrix-cbad", "vbad"]);
  await unaffectedWork(child.url);
  expect((await call(child.url, "/v1/catalog/datasets/other")).status).toBe(503);
  child.proc.kill("SIGTERM");
  expect(await child.proc.exited).toBe(0);
}, 60_000);

test("a 300 MiB object under every record key is not read into memory at start-up", async () => {
  const control = copyOf(base);
  const huge = copyOf(base);
  roots.push(control, huge);
  // Every object start-up reads (and the ones it must not read whole), made a sparse 300 MiB.
  for (const t of base.targets) damage(huge, t.key, "oversized");
  for (const [key] of base.outOfRange) {
    place(huge, key, "");
    damage(huge, key, "oversized");
  }

  const a = await start(control);
  const baseline = peakRss(a);
  const b = await start(huge);
  const damaged = peakRss(b);
  const h = await json(call(b.url, "/health"));
  expect(h.details.catalog.skipped_manifests.objects).toContainEqual({ key: base.targets[0]!.key, reason: "too_large" });
  expect(h.details.matrix.skipped_playbooks.objects).toContainEqual({ key: base.targets.find((t) => t.what === "a playbook")!.key, reason: "too_large" });
  await unaffectedWork(b.url);
  // Reading even one of them whole costs ≥ 300 MiB (the bytes) plus their decoded text; the two
  // starts differ by far less than one object.
  expect(damaged - baseline).toBeLessThan(OVERSIZED_BYTES / 4);
  console.log(
    `peak RSS at start-up: ${Math.round(baseline / MiB)} MiB clean, ${Math.round(damaged / MiB)} MiB with ${base.targets.length + base.outOfRange.length} objects of 300 MiB`,
  );
}, 60_000);
