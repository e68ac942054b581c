// The iteration witness: loop (the same state_hash N times), stall (no iteration for T seconds,
// with an injected clock), drift (a scorer's recent mean leaves its baseline), flags as events with
// their evidence, 404 for an unknown run, and runs rebuilt after a restart (from the log, and from
// the runs snapshot written with an archive).
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import type { ObsEvent } from "../../src/observer/model.ts";
import { Witness } from "../../src/observer/witness.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json, post } from "../support/http.ts";
import { tempDir } from "../support/tmp.ts";
import { get, O } from "./helpers.ts";

const cfg = { loop_repeats: 3, stall_seconds: 300, drift_window: 5, drift_sigma: 2, drift_min_delta: 0 };

/** A witness whose events go to an array, with a clock the test moves. */
function harness(over: Partial<typeof cfg> = {}) {
  let clock = Date.parse("2026-03-01T00:00:00Z");
  const stored: ObsEvent[] = [];
  const w = new Witness({ ...cfg, ...over }, () => clock);
  w.attach((batch) => {
    const events = batch.map((e) => ({
      id: stored.length + 1,
      ts: e.ts!,
      source: e.source,
      kind: e.kind,
      run_id: e.run_id ?? null,
      level: e.level ?? "info",
      payload: e.payload,
    }));
    for (const e of events) stored.push({ ...e, id: stored.length + 1 });
    events.forEach((e, i) => {
      e.id = stored.length - events.length + i + 1;
    });
    return { events, durable: Promise.resolve() };
  });
  return { w, stored, advance: (s: number) => (clock += s * 1000) };
}

describe("loop", () => {
  test("the same state_hash seen 3 times flags a loop: status cycle, evidence names the iterations", async () => {
    const { w, stored } = harness();
    await w.iterate("r", { iteration: 1, state_hash: "A" });
    await w.iterate("r", { iteration: 2, state_hash: "B" });
    await w.iterate("r", { iteration: 3, state_hash: "A" });
    expect(w.get("r").status).toBe("open");
    const out = await w.iterate("r", { iteration: 4, state_hash: "A" });
    expect(out.status).toBe("cycle");
    expect(out.flags).toHaveLength(1);
    expect(out.flags[0]).toMatchObject({ kind: "loop", iteration: 4, evidence: { state_hash: "A", count: 3, iterations: [1, 3, 4], threshold: 3 } });
    expect(stored.filter((e) => e.kind === "loop")).toHaveLength(1);
    // A loop is flagged once; the status stays cycle.
    const later = await w.iterate("r", { iteration: 5, state_hash: "A" });
    expect(later.flags).toHaveLength(0);
    expect(w.get("r").status).toBe("cycle");
  });

  test("distinct states never flag", async () => {
    const { w } = harness();
    for (let i = 0; i < 50; i++) await w.iterate("r", { iteration: i, state_hash: `s${i}` });
    expect(w.get("r")).toMatchObject({ status: "open", flags: [] });
  });
});

describe("stall (injected clock)", () => {
  test("no iteration for stall_seconds → stalled, with the silence as evidence; a new iteration reopens", async () => {
    const { w, stored, advance } = harness();
    await w.iterate("r", { iteration: 1 });
    advance(299);
    expect(await w.sweep()).toBe(0);
    expect(w.get("r").status).toBe("open");
    advance(1);
    expect(await w.sweep()).toBe(1);
    const run = w.get("r");
    expect(run.status).toBe("stalled");
    expect(run.flags[0]).toMatchObject({ kind: "stall", evidence: { silent_seconds: 300, threshold_seconds: 300 } });
    expect(stored.at(-1)).toMatchObject({ kind: "stall", run_id: "r", level: "warn" });
    // Flagged once per silence.
    advance(600);
    expect(await w.sweep()).toBe(0);
    await w.iterate("r", { iteration: 2 });
    expect(w.get("r").status).toBe("open");
  });

  test("a finished run does not stall", async () => {
    const { w, advance } = harness();
    await w.iterate("r", { iteration: 1, done: true });
    advance(10_000);
    expect(await w.sweep()).toBe(0);
    expect(w.get("r").status).toBe("done");
  });
});

describe("drift", () => {
  test("a scorer whose recent mean leaves the baseline by more than 2 sd flags drift with the numbers", async () => {
    const { w } = harness();
    const baseline = [0.8, 0.82, 0.78, 0.81, 0.79];
    for (const [i, s] of baseline.entries()) await w.iterate("r", { iteration: i, score: s, scorer: "acc" });
    // Recent window at the same level: no drift.
    for (let i = 0; i < 5; i++) await w.iterate("r", { iteration: 5 + i, score: baseline[i]!, scorer: "acc" });
    expect(w.get("r").status).toBe("open");
    let flagged: any[] = [];
    for (let i = 0; i < 5; i++) flagged = flagged.concat((await w.iterate("r", { iteration: 10 + i, score: 0.5, scorer: "acc" })).flags);
    expect(flagged).toHaveLength(1);
    const ev = flagged[0].evidence;
    // Flagged at the first low score: the recent mean (0.74) is already 0.06 away, over 2 × 0.0141.
    expect(flagged[0].iteration).toBe(10);
    expect(ev).toMatchObject({ scorer: "acc", baseline_mean: 0.8, recent_mean: 0.74, window: 5, threshold_sigma: 2 });
    expect(ev.delta).toBeCloseTo(0.06, 6);
    expect(ev.baseline_sd).toBeCloseTo(0.014142, 5);
    expect(w.get("r").status).toBe("drift");
  });

  test("an absolute delta threshold flags a move the sigma rule would take longer to see", async () => {
    const { w } = harness({ drift_sigma: 100, drift_min_delta: 0.05 });
    for (let i = 0; i < 5; i++) await w.iterate("r", { iteration: i, score: i % 2 === 0 ? 0.7 : 0.9 });
    for (let i = 0; i < 4; i++) await w.iterate("r", { iteration: 5 + i, score: 0.8 });
    expect(w.get("r").status).toBe("open");
    const out = await w.iterate("r", { iteration: 9, score: 0.3 });
    expect(out.flags[0]).toMatchObject({ kind: "drift", evidence: { threshold_delta: 0.05 } });
  });

  test("scorers are tracked separately", async () => {
    const { w } = harness();
    for (let i = 0; i < 10; i++) {
      await w.iterate("r", { iteration: i, score: 1 + (i % 2) * 0.01, scorer: "a" });
      await w.iterate("r", { iteration: i, score: i < 5 ? 1 : 9, scorer: "b" });
    }
    const flags = w.get("r").flags;
    expect(flags.map((f) => f.evidence.scorer)).toEqual(["b"]);
  });
});

describe("over HTTP, and across restarts", () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });

  test("iterations, flags as events, GET run and list by status, 404 for an unknown run; state rebuilt after restarts", async () => {
    const root = tempDir("lh-observer-");
    roots.push(root);
    const open = () => testLakehouse({ storage: { fs: { root } }, observer: { loop_repeats: 2 } });
    let lh = await open();
    const it = (run: string, body: unknown) => json(post(lh, `${O}/runs/${run}/iterations`, body));
    await it("loopy", { iteration: 1, state_hash: "x" });
    const second = await it("loopy", { iteration: 2, state_hash: "x" });
    expect(second.status).toBe("cycle");
    await it("fine", { iteration: 1, state_hash: "y", note: "hello" });
    expect((await call(lh, `${O}/runs/nobody`)).status).toBe(404);
    expect((await json(post(lh, `${O}/runs/r/iterations`, { iteration: -1 }))).error.code).toBe("validation_failed");
    expect((await get(lh, "/runs?status=cycle")).runs.map((r: any) => r.run_id)).toEqual(["loopy"]);
    const flagEvents = await get(lh, "/events?kind=loop");
    expect(flagEvents.events[0]).toMatchObject({ source: "observer", run_id: "loopy", payload: { evidence: { state_hash: "x", count: 2 } } });

    // Restart: rebuilt from the log.
    await lh.close();
    lh = await open();
    const run = await get(lh, "/runs/loopy");
    expect(run).toMatchObject({ status: "cycle", iterations: 2 });
    expect(run.flags[0]).toMatchObject({ kind: "loop", event_id: flagEvents.events[0].id });
    expect((await get(lh, "/runs/fine")).recent_iterations[0]).toMatchObject({ iteration: 1, note: "hello" });

    // Archive (a runs snapshot is written, the log is dropped), one more iteration, restart again.
    await lh.observer.archive();
    await json(post(lh, `${O}/runs/fine/iterations`, { iteration: 2, state_hash: "y" }));
    await lh.close();
    lh = await open();
    expect(await get(lh, "/runs/fine")).toMatchObject({ status: "cycle", iterations: 2 });
    expect(await get(lh, "/runs/loopy")).toMatchObject({ status: "cycle", iterations: 2 });
    await lh.close();
  });
});
