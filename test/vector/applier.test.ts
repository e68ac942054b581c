// When the applier snapshots: past the log threshold, and again once it catches up if the log
// still holds more than the last snapshot (taken while the graph lagged) covered.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import { Applier } from "../../src/vector/applier.ts";
import { emptyState } from "../../src/vector/snapshot.ts";
import { tempDir } from "../support/tmp.ts";

const params = { name: "t", dim: 2, metric: "l2" as const, m: 8, ef_construction: 16, ef_search: 16 };

function setup(log: { sinceSnapshot: number; total: number }) {
  const snapshots: number[] = [];
  const dir = tempDir("lh-applier-");
  const applier: Applier = new Applier(
    emptyState(params),
    { compactAfterBytes: 1000, rebuildDeletedRatio: 0.2, exactFilterMax: 10 },
    {
      applied: () => {},
      walBytes: () => log,
      snapshot: async () => {
        // The graph worker saves a real file; the envelope is read in the turn it answers.
        const env = await applier.capture(join(dir, "g.hnsw"));
        expect(existsSync(join(dir, "g.hnsw"))).toBe(true);
        snapshots.push(env.seq);
        log.sinceSnapshot = 0;
      },
      lastSeq: () => 0,
      reloadSnapshot: async () => ({ graphFile: null, seq: 0, items: [] }),
      readLog: async () => {},
      repend: () => {},
      log: silentLogger,
    },
    params,
  );
  return { applier, snapshots };
}

const upsert = (seq: number, label: number) => ({
  seq,
  kind: "upsert" as const,
  items: [{ label, id: `i${label}`, metadata: null }],
  vectors: Float32Array.of(1, label + 1),
});

describe("applier snapshots", () => {
  test("a log past the threshold since the last snapshot triggers one", async () => {
    const log = { sinceSnapshot: 5000, total: 5000 };
    const { applier, snapshots } = setup(log);
    applier.enqueue(upsert(1, 0));
    await applier.idle();
    await applier.snapshotDone();
    expect(snapshots).toEqual([1]);
    await applier.stop();
    applier.terminate();
  });

  test("once caught up, a log the last snapshot did not cover triggers another; no progress, no snapshot", async () => {
    // The last snapshot started recently (little written since), but the log on disk is still large
    // because that snapshot was taken while the graph lagged.
    const log = { sinceSnapshot: 10, total: 50_000 };
    const { applier, snapshots } = setup(log);
    applier.enqueue(upsert(1, 0));
    applier.enqueue(upsert(2, 1));
    await applier.idle();
    await applier.snapshotDone();
    expect(snapshots).toEqual([2]);
    expect(applier.snapshotSeq).toBe(2);
    applier.enqueue({ seq: 3, kind: "delete", labels: [0] });
    await applier.idle();
    await applier.snapshotDone();
    expect(snapshots).toEqual([2, 3]);
    log.total = 100;
    applier.enqueue(upsert(4, 2));
    await applier.idle();
    await applier.snapshotDone();
    expect(snapshots).toEqual([2, 3]);
    expect(applier.snapshotSeq).toBe(3);
    await applier.stop();
    applier.terminate();
  });
});
