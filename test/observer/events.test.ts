// Events: one or a batch, validation and caps, newest-first listing with filters and a cursor
// (across the hot part and archives), stats, bus events becoming observer events, and the SQL view.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Lakehouse } from "../../src/app.ts";
import { Conflict } from "../../src/errors.ts";
import { silentLogger } from "../../src/log.ts";
import { EventView } from "../../src/observer/view.ts";
import { testLakehouse } from "../support/app.ts";
import { call, post } from "../support/http.ts";
import { ingestOk } from "../support/ingest.ts";
import { rows, sql } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";
import { ev, get, O, postEvents } from "./helpers.ts";

let lh: Lakehouse;
beforeAll(async () => {
  lh = await testLakehouse();
});
afterAll(async () => {
  await lh.close();
});

describe("POST /v1/observer/events", () => {
  test("one event, then a batch, answer 201 with ids in order", async () => {
    const one = await postEvents(lh, ev(0, { run_id: "r1", level: "warn", ts: "2026-01-01T00:00:00Z" }));
    expect(one.status).toBe(201);
    expect(one.body.accepted).toBe(1);
    const batch = await postEvents(lh, { events: [ev(1), ev(2), ev(3)] });
    expect(batch.status).toBe(201);
    expect(batch.body.ids).toEqual([one.body.ids[0] + 1, one.body.ids[0] + 2, one.body.ids[0] + 3]);
    const page = await get(lh, `/events?run_id=r1`);
    expect(page.events).toHaveLength(1);
    expect(page.events[0]).toMatchObject({ source: "agent", kind: "step", level: "warn", run_id: "r1", ts: "2026-01-01T00:00:00.000Z", payload: { i: 0 } });
  });

  test("bad input is 400 naming the field; 1,001 events is 400 naming the limit; a payload over 64 KiB is 400", async () => {
    const bad = await postEvents(lh, { source: "has space", kind: "k", payload: 1 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toContain("source");
    const noPayload = await postEvents(lh, { source: "a", kind: "k" });
    expect(noPayload.status).toBe(400);
    const many = await postEvents(lh, { events: Array.from({ length: 1001 }, (_, i) => ev(i)) });
    expect(many.status).toBe(400);
    expect(JSON.stringify(many.body)).toContain("at most 1000 events");
    const big = await postEvents(lh, { source: "a", kind: "k", payload: "x".repeat(70 * 1024) });
    expect(big.status).toBe(400);
    expect(JSON.stringify(big.body)).toContain("65536");
    const level = await postEvents(lh, { source: "a", kind: "k", level: "fatal", payload: 1 });
    expect(level.status).toBe(400);
  });

  test("a body over max_request_bytes is 413", async () => {
    const small = await testLakehouse({ observer: { max_request_bytes: 1024 } });
    try {
      const res = await post(small, `${O}/events`, { events: Array.from({ length: 50 }, (_, i) => ev(i, { payload: "y".repeat(100) })) });
      expect(res.status).toBe(413);
    } finally {
      await small.close();
    }
  });
});

describe("listing", () => {
  test("newest first, filtered, paged by cursor, across archives and the hot part", async () => {
    const fresh = await testLakehouse();
    try {
      const ids: number[] = [];
      for (let b = 0; b < 5; b++) {
        const res = await postEvents(fresh, { events: Array.from({ length: 10 }, (_, i) => ev(b * 10 + i, { kind: i % 2 === 0 ? "even" : "odd" })) });
        ids.push(...res.body.ids);
        if (b === 1 || b === 3) await fresh.observer.archive();
      }
      expect(fresh.observer.events.manifest.archives).toHaveLength(2);
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await get(fresh, `/events?kind=even&limit=7${cursor ? `&cursor=${cursor}` : ""}`);
        for (const e of page.events) {
          expect(e.kind).toBe("even");
          seen.push(e.id);
        }
        cursor = page.next_cursor;
      } while (cursor);
      const even = ids.filter((_, i) => i % 2 === 0).reverse();
      expect(seen).toEqual(even);
      const limited = await get(fresh, `/events?limit=3`);
      expect(limited.events.map((e: any) => e.id)).toEqual(ids.slice(-3).reverse());
      const bad = await call(fresh, `${O}/events?limit=0`);
      expect(bad.status).toBe(400);
    } finally {
      await fresh.close();
    }
  });

  test("since and until select by event time", async () => {
    const fresh = await testLakehouse();
    try {
      await postEvents(fresh, {
        events: ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"].map((ts, i) => ev(i, { ts, source: "timed" })),
      });
      const page = await get(fresh, `/events?source=timed&since=2026-01-02T00:00:00Z&until=2026-01-03T00:00:00Z`);
      expect(page.events.map((e: any) => e.payload.i)).toEqual([1]);
    } finally {
      await fresh.close();
    }
  });
});

describe("stats", () => {
  test("counts by source and kind, errors, last seen, per-minute rates — archived events included", async () => {
    const fresh = await testLakehouse();
    try {
      const now = new Date().toISOString();
      await postEvents(fresh, { events: [ev(1, { source: "a", kind: "x" }), ev(2, { source: "a", kind: "y", level: "error" })] });
      await fresh.observer.archive();
      await postEvents(fresh, { events: [ev(3, { source: "b", kind: "x" }), ev(4, { source: "b", kind: "x", ts: "2020-01-01T00:00:00Z" })] });
      const s = await get(fresh, "/stats");
      expect(s.total).toBe(4);
      expect(s.by_source).toEqual({ a: 2, b: 2 });
      expect(s.by_kind).toEqual({ x: 3, y: 1 });
      expect(s.errors).toEqual({ total: 1, by_source: { a: 1 } });
      expect(s.last_seen.a >= now).toBe(true);
      // The event stamped in 2020 is not in the last minute.
      expect(s.per_minute.last_minute).toBe(3);
      expect(s.per_minute.last_hour).toBe(0.05);
      expect(s.archives).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});

describe("bus events and the SQL view", () => {
  test("an ingest becomes catalog and ingest events, and observer_events answers SQL over archives and hot events", async () => {
    const fresh = await testLakehouse();
    try {
      await ingestOk(fresh, "people", "id,name\n1,ann\n2,bob\n", { type: "csv" });
      const page = await get(fresh, "/events?source=catalog");
      expect(page.events[0]).toMatchObject({ source: "catalog", kind: "committed", payload: { name: "people", row_count: 2 } });
      expect((await get(fresh, "/events?source=ingest")).events[0]).toMatchObject({ kind: "completed", payload: { name: "people", rows: 2 } });
      await postEvents(fresh, { events: [ev(1, { source: "svc", level: "error" }), ev(2, { source: "svc" })] });
      await fresh.observer.archive();
      await postEvents(fresh, { events: [ev(3, { source: "svc", level: "error", payload: { msg: "it's down" } })] });
      await fresh.observer.refreshView();
      const r = await rows(
        fresh,
        "select source, count(*) filter (where level = 'error') as errors, count(*) as n from observer_events group by source order by source",
      );
      expect(r).toEqual([
        ["catalog", 0, 1],
        ["ingest", 0, 1],
        ["svc", 2, 3],
      ]);
      const payload = await rows(fresh, "select payload->>'msg', typeof(ts) from observer_events where payload->>'msg' is not null");
      expect(payload).toEqual([["it's down", "TIMESTAMP WITH TIME ZONE"]]);
      // No event twice, none missing, after an archive.
      const ids = await rows(fresh, "select count(*), count(distinct id), max(id) from observer_events");
      expect(ids[0]).toEqual([5, 5, 5]);
      const res = await sql(fresh, "select * from observer_events where ts > now() - interval 1 hour");
      expect(res.status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});

test("a view that cannot be published (a dataset has its name) is reported for health, not thrown (start-up goes on)", async () => {
  const dir = tempDir("lh-obs-view-");
  const view = new EventView(
    {
      viewDir: () => dir,
      publishView: async () => {
        throw new Conflict('a dataset named "observer_events" exists');
      },
      dropView: async () => {},
    },
    1000,
    silentLogger,
  );
  view.prepare();
  await view.publish({ version: 1, seq: 0, archives: [], runs_key: null });
  expect(view.error).toContain("observer_events");
  await view.close();
});
