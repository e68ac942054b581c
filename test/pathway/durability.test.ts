// Durability of pathway memory: acknowledged writes survive SIGKILL of a real server process
// mid-stream of concurrent writes; a restart reads the snapshot and the log; a corrupt record (log
// or snapshot) is skipped and counted, never fatal; crafted cycles and missing predecessors in
// storage are reported by HISTORY; a tampered receipt is caught by verify; FORGET leaves no content
// in storage after compaction; both storage backends.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeLine } from "../../src/lib/line-log.ts";
import type { StoredVersion } from "../../src/pathway/model.ts";
import { testLakehouse } from "../support/app.ts";
import { startChild } from "../support/child.ts";
import { json, post } from "../support/http.ts";
import { type RunningS3, s3Options, startS3rver } from "../support/s3rver.ts";
import { crashScope } from "../support/crash-scope.ts";
import { add, get, req } from "./helpers.ts";

const { newRoot, children } = crashScope("lh-pathway-");
const open = (root: string) => testLakehouse({ storage: { fs: { root } } });
const logDir = (root: string) => join(root, "wal", "pathway");
const snapshotFile = (root: string) => {
  const dir = join(root, "objects", "_pathway", "snapshots");
  return join(dir, readdirSync(dir)[0]!);
};

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out;
}

test("every acknowledged ADD and UPDATE survives SIGKILL mid-stream of 32 concurrent writers", async () => {
  const root = newRoot();
  const child = await startChild({ LH_STORAGE_FS_ROOT: root });
  children.push(child);
  const acked = new Map<string, string>();
  let stop = false;
  const writer = async (w: number) => {
    for (let n = 0; !stop; n++) {
      const uid = `w${w}-${n}`;
      try {
        const res = await post(child.url, "/v1/pathway/traces", { uid, agent_id: `w${w}`, kind: "fact", content: `writer ${w} note ${n}` });
        if (res.status === 201) acked.set(uid, `writer ${w} note ${n}`);
        else await res.text();
        if (n % 5 === 4) {
          const up = await fetch(`${child.url}/v1/pathway/traces/${uid}`, {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ expected_version: 1, content: `writer ${w} note ${n} updated` }),
          });
          if (up.status === 200) acked.set(uid, `writer ${w} note ${n} updated`);
        }
      } catch {
        return; // the server is gone
      }
    }
  };
  const writers = Array.from({ length: 32 }, (_, w) => writer(w));
  while (acked.size < 400) await Bun.sleep(5);
  child.proc.kill("SIGKILL");
  stop = true;
  await child.proc.exited;
  await Promise.all(writers);
  children.splice(0);

  const lh = await open(root);
  try {
    expect(acked.size).toBeGreaterThanOrEqual(400);
    for (const [uid, content] of acked) expect(lh.pathway.memory.state.chains.get(uid)?.versions.at(-1)?.content).toBe(content);
    expect(await get(lh, "/audit/verify")).toMatchObject({ ok: true, mismatched_traces: 0 });
    await lh.pathway.caughtUp;
    // The vector index caught up with what the log holds: a search finds an acknowledged trace.
    const [uid, content] = [...acked][0]!;
    const hits = (await req(lh, "POST", "/search", { query: content, agent_id: uid.split("-")[0] })).body.hits;
    expect(hits.map((h: any) => h.trace.uid)).toContain(uid);
  } finally {
    await lh.close();
  }
}, 60_000);

test("a restart reads the snapshot and the log after it; group commit shares fsyncs", async () => {
  const root = newRoot();
  let lh = await open(root);
  const first = (await add(lh, { user_id: "r", kind: "fact", content: "before the snapshot" })).body.trace;
  await lh.pathway.compact();
  await Promise.all(Array.from({ length: 50 }, (_, i) => add(lh, { user_id: "r", kind: "fact", content: `after the snapshot ${i}` })));
  const stats = lh.pathway.memory.log.stats;
  expect(stats.records).toBeGreaterThanOrEqual(50);
  expect(stats.flushes).toBeLessThan(stats.records);
  // Not closed (that would write a snapshot): the copy is what a crash leaves.
  await lh.pathway.memory.log.drain();
  const crashed = newRoot();
  cpSync(root, crashed, { recursive: true });
  await lh.close();
  lh = await open(crashed);
  try {
    expect(lh.pathway.memory.loadReport).toMatchObject({ logRecords: 50, skipped: [] });
    expect((await get(lh, `/traces/${first.uid}`)).content).toBe("before the snapshot");
    expect((await get(lh, "/traces?user_id=r&limit=1000")).traces).toHaveLength(51);
  } finally {
    await lh.close();
  }
});

describe("damaged storage", () => {
  test("a corrupt log record is skipped and counted (health degraded), the others load", async () => {
    const root = newRoot();
    let lh = await open(root);
    for (let i = 0; i < 5; i++) await add(lh, { user_id: "c", kind: "fact", content: `record ${i}` });
    await lh.pathway.memory.log.drain();
    const crashed = newRoot();
    cpSync(root, crashed, { recursive: true });
    await lh.close();
    const seg = join(logDir(crashed), readdirSync(logDir(crashed))[0]!);
    const lines = readFileSync(seg, "utf8").split("\n");
    lines[2] = lines[2]!.replace("record 2", "record X"); // a flipped byte: the checksum no longer holds
    writeFileSync(seg, lines.join("\n"));
    lh = await open(crashed);
    try {
      const contents = (await get(lh, "/traces?user_id=c")).traces.map((t: any) => t.content);
      expect(contents).toEqual(["record 4", "record 3", "record 1", "record 0"]);
      const health = await json(lh.app.fetch(new Request("http://localhost/health"), { ip: "127.0.0.1" }));
      expect(health.modules.pathway).toBe("degraded");
      expect(health.details.pathway.skipped_records.count).toBe(1);
      // The trail has a hole where that record's receipt was.
      expect(await get(lh, "/audit/verify")).toMatchObject({ ok: false, first_broken_seq: 4 });
    } finally {
      await lh.close();
    }
  });

  test("a crafted cycle is reported by HISTORY (cycle: true), a missing predecessor truncates", async () => {
    const root = newRoot();
    const at = "2026-01-01T00:00:00.000Z";
    const v = (uid: string, ord: number, predecessor: string | null): StoredVersion => ({
      uid,
      user_id: "cyc",
      kind: "fact",
      content: `trace ${uid}`,
      data: null,
      tags: [],
      version: 1,
      predecessor,
      superseded_by: null,
      created_at: at,
      updated_at: at,
      retired_at: null,
      content_hash: uid,
      ord,
      cv: 1,
    });
    const dir = logDir(root);
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir, { recursive: true });
    const recs = [
      { seq: 1, puts: [v("a", 1, "b"), v("b", 2, "a")], receipts: [] },
      { seq: 2, puts: [v("c", 3, "ghost")], receipts: [] },
    ];
    writeFileSync(join(dir, `${"1".padStart(16, "0")}.log`), recs.map(encodeLine).join(""));
    const lh = await open(root);
    try {
      const h = await get(lh, "/traces/a/history");
      expect(h).toMatchObject({ cycle: true, truncated: false });
      expect(h.versions.map((x: any) => x.uid)).toEqual(["a", "b"]);
      expect(await get(lh, "/traces/c/history")).toMatchObject({ cycle: false, truncated: true });
    } finally {
      await lh.close();
    }
  });

  test("editing one stored receipt is caught by verify; a broken checksum is skipped and counted", async () => {
    const root = newRoot();
    let lh = await open(root);
    const { uid } = (await add(lh, { user_id: "t", kind: "fact", content: "tamper target" })).body.trace;
    await req(lh, "PUT", `/traces/${uid}`, { expected_version: 1, content: "tamper target 2" });
    await req(lh, "POST", `/traces/${uid}/retire`, { expected_version: 2 });
    await lh.close(); // writes a snapshot
    const file = snapshotFile(root);
    const original = readFileSync(file, "utf8");
    const lines = original.split("\n");
    const i = lines.findIndex((l) => l.includes('"k":"r"') && l.includes('"seq":2,'));
    const rec = JSON.parse(lines[i]!.slice(9));
    rec.actor = "someone-else";
    lines[i] = encodeLine(rec).trimEnd(); // a deliberate edit: the line's checksum recomputed
    writeFileSync(file, lines.join("\n"));
    lh = await open(root);
    try {
      expect(await get(lh, "/audit/verify")).toMatchObject({ ok: false, receipts: 3, first_broken_seq: 2 });
    } finally {
      await lh.close();
    }
    // The same edit without the checksum: the line is skipped and counted, the chain breaks after it.
    const raw = original.split("\n");
    raw[i] = raw[i]!.replace('"actor":"', '"actor":"x');
    writeFileSync(file, raw.join("\n"));
    lh = await open(root);
    try {
      expect(lh.pathway.health()).toMatchObject({ status: "degraded", detail: { skipped_records: { count: 1 } } });
      expect(await get(lh, "/audit/verify")).toMatchObject({ ok: false, receipts: 2, first_broken_seq: 3 });
    } finally {
      await lh.close();
    }
  });
});

test("after FORGET and the next compaction, no file of the data root holds the content", async () => {
  const root = newRoot();
  const lh = await open(root);
  const secret = "passport number X12345678 of Dana";
  try {
    const { uid } = (await add(lh, { user_id: "f", kind: "fact", content: secret })).body.trace;
    await add(lh, { user_id: "f", kind: "fact", content: "an unrelated memory" });
    expect(files(root).some((f) => readFileSync(f).includes(secret))).toBe(true);
    await req(lh, "DELETE", `/traces/${uid}`);
    await lh.pathway.compact();
    const holding = files(root).filter((f) => readFileSync(f).includes(secret));
    expect(holding).toEqual([]);
    expect((await get(lh, "/traces?user_id=f")).traces.map((t: any) => t.content)).toEqual(["an unrelated memory"]);
  } finally {
    await lh.close();
  }
});

describe("s3 backend", () => {
  let s3: RunningS3;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(() => s3.stop());

  test("traces and the audit trail survive a restart through a snapshot in S3", async () => {
    const root = newRoot();
    const cfg = { storage: { backend: "s3" as const, s3: s3Options(s3), fs: { root } } };
    let lh = await testLakehouse(cfg);
    const { uid } = (await add(lh, { namespace: "s3", kind: "fact", content: "kept in a bucket" })).body.trace;
    await req(lh, "PUT", `/traces/${uid}`, { expected_version: 1, content: "kept in a bucket, v2" });
    await lh.close();
    rmSync(logDir(root), { recursive: true, force: true }); // only the snapshot is left
    lh = await testLakehouse(cfg);
    try {
      expect((await get(lh, `/traces/${uid}`)).content).toBe("kept in a bucket, v2");
      expect((await get(lh, `/traces/${uid}/history`)).versions).toHaveLength(2);
      expect(await get(lh, "/audit/verify")).toMatchObject({ ok: true, receipts: 2 });
    } finally {
      await lh.close();
    }
  });
});
