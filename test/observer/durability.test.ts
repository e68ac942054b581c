// Durability: every acknowledged event survives SIGKILL of a real server process in the middle of
// 32 concurrent writers; back-pressure answers 503 with Retry-After and loses nothing acknowledged;
// archives, retention and a restart on both storage backends (s3: the SQL view's local copies are
// restored from the bucket); a corrupt log line is skipped and reported, never fatal.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { testLakehouse } from "../support/app.ts";
import { startChild } from "../support/child.ts";
import { call, json, post } from "../support/http.ts";
import { type RunningS3, s3Options, startS3rver } from "../support/s3rver.ts";
import { rows } from "../support/sql.ts";
import { crashScope } from "../support/crash-scope.ts";
import { ev, get, O, postEvents } from "./helpers.ts";

const { newRoot, children } = crashScope("lh-observer-");

/** Every event id the server lists, paging back through everything. */
async function allIds(target: Parameters<typeof get>[0]): Promise<Set<number>> {
  const ids = new Set<number>();
  let cursor: string | null = null;
  do {
    const page: any = await get(target, `/events?limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
    for (const e of page.events) ids.add(e.id);
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
}

test("every acknowledged event survives SIGKILL mid-stream of 32 concurrent writers", async () => {
  const root = newRoot();
  const child = await startChild({ LH_STORAGE_FS_ROOT: root });
  children.push(child);
  const acked: number[] = [];
  let stop = false;
  const writer = async (w: number) => {
    for (let n = 0; !stop; n++) {
      try {
        const body = n % 4 === 0 ? { events: Array.from({ length: 20 }, (_, i) => ev(i, { source: `w${w}` })) } : ev(n, { source: `w${w}` });
        const res = await post(child.url, `${O}/events`, body);
        if (res.status === 201) acked.push(...((await res.json()) as any).ids);
        else await res.text();
      } catch {
        return; // the server is gone
      }
    }
  };
  const writers = Array.from({ length: 32 }, (_, w) => writer(w));
  while (acked.length < 2000) await Bun.sleep(5);
  child.proc.kill("SIGKILL");
  stop = true;
  await child.proc.exited;
  await Promise.all(writers);

  const again = await startChild({ LH_STORAGE_FS_ROOT: root });
  children.push(again);
  const ids = await allIds(again.url);
  const lost = acked.filter((id) => !ids.has(id));
  expect(lost).toEqual([]);
  expect(ids.size).toBeGreaterThanOrEqual(acked.length);
  const stats = await get(again.url, "/stats");
  expect(stats.total).toBe(ids.size);
}, 60_000);

test("back-pressure: past max_pending_events a request is 503 with Retry-After, and nothing acknowledged is lost", async () => {
  const root = newRoot();
  const lh = await testLakehouse({ storage: { fs: { root } }, observer: { max_pending_events: 1000 } });
  try {
    const batch = (b: number) => ({ events: Array.from({ length: 1000 }, (_, i) => ev(b * 1000 + i)) });
    const results = await Promise.all(Array.from({ length: 8 }, (_, b) => postEvents(lh, batch(b))));
    const refused = results.filter((r) => r.status === 503);
    const accepted = results.filter((r) => r.status === 201);
    expect(refused.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.headers.get("retry-after")).toBe("1");
      expect(r.body.error.code).toBe("unavailable");
    }
    const ackedIds = accepted.flatMap((r) => r.body.ids as number[]);
    const ids = await allIds(lh);
    expect(ackedIds.every((id) => ids.has(id))).toBe(true);
    expect(ids.size).toBe(ackedIds.length);
    // Once the disk caught up, requests are accepted again.
    expect((await postEvents(lh, batch(99))).status).toBe(201);
  } finally {
    await lh.close();
  }
});

test("back-pressure by bytes: large payloads waiting for the disk past max_pending_bytes are refused the same way", async () => {
  const root = newRoot();
  const lh = await testLakehouse({ storage: { fs: { root } }, observer: { max_pending_bytes: 256 * 1024 } });
  try {
    const big = (b: number) => ({ events: Array.from({ length: 8 }, (_, i) => ev(b * 8 + i, { payload: "p".repeat(60 * 1024) })) });
    const results = await Promise.all(Array.from({ length: 6 }, (_, b) => postEvents(lh, big(b))));
    const refused = results.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.headers.get("retry-after")).toBe("1");
    const acked = results.filter((r) => r.status === 201).flatMap((r) => r.body.ids as number[]);
    expect([...(await allIds(lh))].sort((a, b) => a - b)).toEqual(acked.sort((a, b) => a - b));
    expect(lh.observer.events.log.queuedBytes).toBe(0);
  } finally {
    await lh.close();
  }
});

test("hot events are archived by count and by bytes on their own, so memory stays bounded", async () => {
  const root = newRoot();
  const lh = await testLakehouse({ storage: { fs: { root } }, observer: { archive_after_events: 50, archive_after_bytes: 64 * 1024 } });
  try {
    for (let b = 0; b < 3; b++) await postEvents(lh, { events: Array.from({ length: 30 }, (_, i) => ev(b * 30 + i)) });
    // tick() archives only when a threshold is passed (the same check every durable append makes).
    await lh.observer.events.tick();
    expect(lh.observer.events.manifest.archives.length).toBeGreaterThan(0);
    const before = lh.observer.events.manifest.archives.length;
    await postEvents(lh, { events: Array.from({ length: 2 }, (_, i) => ev(i, { payload: "q".repeat(40 * 1024) })) });
    await lh.observer.events.tick();
    expect(lh.observer.events.manifest.archives.length).toBeGreaterThan(before);
    expect((await get(lh, "/stats")).total).toBe(92);
  } finally {
    await lh.close();
  }
});

test("a corrupt log line is skipped and reported in health; the others load", async () => {
  const root = newRoot();
  let lh = await testLakehouse({ storage: { fs: { root } } });
  await postEvents(lh, { events: [ev(1), ev(2)] });
  await postEvents(lh, ev(3));
  await lh.close();
  const dir = join(root, "wal", "observer");
  const seg = readdirSync(dir).find((f) => f.endsWith(".log"))!;
  appendFileSync(join(dir, seg), 'deadbeef {"seq":99,"events":[]}\n');
  lh = await testLakehouse({ storage: { fs: { root } } });
  try {
    expect((await get(lh, "/events")).events.map((e: any) => e.payload.i)).toEqual([3, 2, 1]);
    const health = await json(call(lh, "/health"));
    expect(health.modules.observer).toBe("degraded");
    expect(health.details.observer.skipped_records).toBe(1);
  } finally {
    await lh.close();
  }
});

test("retention drops archives older than retention_days from listing, stats, the view and storage", async () => {
  const root = newRoot();
  const lh = await testLakehouse({ storage: { fs: { root } }, observer: { retention_days: 30 } });
  try {
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await postEvents(lh, { events: [ev(1, { ts: old, source: "old" }), ev(2, { ts: old, source: "old" })] });
    await lh.observer.archive();
    await postEvents(lh, ev(3, { source: "new" }));
    await lh.observer.archive();
    expect((await get(lh, "/stats")).by_source).toEqual({ old: 2, new: 1 });
    await lh.observer.tick();
    expect((await get(lh, "/stats")).by_source).toEqual({ new: 1 });
    expect((await get(lh, "/events")).events.map((e: any) => e.source)).toEqual(["new"]);
    expect(await rows(lh, "select source from observer_events")).toEqual([["new"]]);
    expect(readdirSync(join(root, "objects", "_observer", "archive"))).toHaveLength(1);
  } finally {
    await lh.close();
  }
});

describe("s3 backend", () => {
  let s3: RunningS3;
  beforeAll(async () => {
    s3 = await startS3rver("observer-test");
  });
  afterAll(async () => {
    await s3.stop();
  });

  test("events, archives and the SQL view survive a restart on a fresh machine (local copies restored from the bucket)", async () => {
    const rootA = newRoot();
    const config = (root: string) => ({ storage: { backend: "s3" as const, s3: s3Options(s3), fs: { root } } });
    let lh = await testLakehouse(config(rootA));
    await postEvents(lh, { events: [ev(1, { source: "s3a" }), ev(2, { source: "s3a", level: "error" })] });
    await lh.observer.archive();
    await postEvents(lh, ev(3, { source: "s3b" }));
    await lh.observer.archive();
    await lh.close();
    // A new local disk: no log, no view files; everything comes from the bucket.
    const rootB = newRoot();
    lh = await testLakehouse(config(rootB));
    try {
      expect((await get(lh, "/events")).events.map((e: any) => e.payload.i)).toEqual([3, 2, 1]);
      expect((await get(lh, "/stats")).errors).toEqual({ total: 1, by_source: { s3a: 1 } });
      expect(await rows(lh, "select source, count(*) from observer_events group by source order by source")).toEqual([
        ["s3a", 2],
        ["s3b", 1],
      ]);
    } finally {
      await lh.close();
    }
  }, 60_000);
});
