// Compaction into snapshots, rebuild after heavy deletes, and a restart from the snapshot alone,
// on both storage backends (the log stays on local disk in both).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Lakehouse } from "../../src/app.ts";
import { testLakehouse } from "../support/app.ts";
import { ok, send } from "../support/http.ts";
import { type RunningS3, s3Options, startS3rver } from "../support/s3rver.ts";
import { tempDir } from "../support/tmp.ts";
import { clustered, row } from "../support/vectors.ts";
import { searchIds } from "./helpers.ts";

const DIM = 16;
const N = 600;
const data = clustered(N, DIM, { seed: 11 });

let s3: RunningS3;
beforeAll(async () => {
  s3 = await startS3rver("vectors-test");
});
afterAll(async () => {
  await s3.stop();
});

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await Bun.sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const backend of ["fs", "s3"] as const) {
  describe(`snapshots on ${backend}`, () => {
    test("compaction during writes, rebuild after deletes, restart from the snapshot with the log gone", async () => {
      const root = tempDir(`lh-vec-snap-${backend}-`);
      const overrides = {
        storage: backend === "s3" ? { backend: "s3" as const, fs: { root }, s3: s3Options(s3) } : { fs: { root } },
        vector: { compact_after_bytes: 16_000 },
      };
      let lh: Lakehouse = await testLakehouse(overrides);
      await ok(send(lh, "POST", "/v1/vectors/indexes", { name: `crew-${backend}`, dim: DIM, metric: "l2" }));
      const name = `crew-${backend}`;
      for (let b = 0; b < N; b += 50) {
        const items = Array.from({ length: 50 }, (_, j) => ({ id: `p${b + j}`, vector: row(data, DIM, b + j), metadata: { i: b + j } }));
        await ok(send(lh, "POST", `/v1/vectors/indexes/${name}/upsert`, { items }));
      }
      await lh.vector.service.waitIndexed(name);
      await until("a snapshot", async () => (await ok(send(lh, "GET", `/v1/vectors/indexes/${name}`))).snapshot_seq > 0);
      const walDir = join(root, "wal", "vectors", name);
      // Segments wholly covered by a committed snapshot were removed.
      expect(readdirSync(walDir).filter((f) => f.endsWith(".wal")).length).toBeLessThan(N / 50);

      const deleted = Array.from({ length: 180 }, (_, i) => `p${i * 3}`);
      expect((await ok(send(lh, "POST", `/v1/vectors/indexes/${name}/delete`, { ids: deleted }))).deleted).toBe(180);
      await lh.vector.service.waitIndexed(name);
      // 30% deleted: the graph was rebuilt without the deleted nodes.
      expect((await ok(send(lh, "GET", `/v1/vectors/indexes/${name}`))).deleted).toBe(0);
      await lh.close();

      rmSync(join(root, "wal"), { recursive: true, force: true });
      lh = await testLakehouse(overrides);
      try {
        const info = await ok(send(lh, "GET", `/v1/vectors/indexes/${name}`));
        expect(info).toMatchObject({ count: N - 180, pending: 0, metric: "l2", dim: DIM });
        for (let i = 0; i < N; i += 7) {
          const ids = await searchIds(lh, name, { vector: row(data, DIM, i), k: 1 });
          if (i % 3 === 0 && i < 540) expect(ids[0]).not.toBe(`p${i}`);
          else expect(ids[0]).toBe(`p${i}`);
        }
        expect(await ok(send(lh, "GET", `/v1/vectors/indexes/${name}/items/p7`))).toMatchObject({ metadata: { i: 7 } });
        // Writes continue after the restart, and a dropped index leaves nothing behind.
        await ok(send(lh, "POST", `/v1/vectors/indexes/${name}/upsert`, { items: [{ id: "new", vector: row(data, DIM, 0) }] }));
        expect(await searchIds(lh, name, { vector: row(data, DIM, 0), k: 1 })).toEqual(["new"]);
        expect((await send(lh, "DELETE", `/v1/vectors/indexes/${name}`)).status).toBe(204);
        expect((await lh.storage.store.list(`_vectors/${name}/`)).items).toEqual([]);
      } finally {
        await lh.close();
        rmSync(root, { recursive: true, force: true });
      }
    }, 60_000);
  });
}
