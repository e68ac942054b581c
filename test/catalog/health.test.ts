import { expect, test } from "bun:test";
import { manifestKey } from "../../src/catalog/manifest.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { rows } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";

test("a corrupt manifest is tolerated: other datasets serve, /health names it, the dataset answers 503 until deleted", async () => {
  const root = tempDir("lh-corrupt-");
  const first = await testLakehouse({ storage: { fs: { root } } });
  expect((await ingest(first, "good", "a\n1\n")).status).toBe(201);
  await first.storage.store.put(manifestKey("broken", 1), "\u0000garbage");
  await first.close();

  const lh = await testLakehouse({ storage: { fs: { root } } });
  try {
    const health = await json(call(lh, "/health"));
    expect(health.status).toBe("degraded");
    expect(health.modules.catalog).toBe("degraded");
    expect(health.details.catalog).toEqual({
      datasets: 1,
      unavailable_datasets: ["broken"],
      skipped_manifests: { count: 1, objects: [{ key: manifestKey("broken", 1), reason: "not_json" }] },
    });
    expect(await rows(lh, "SELECT a FROM good")).toEqual([[1]]);
    // Damaged, not absent: 503 naming it, for reads and for writes other than delete.
    const got = await call(lh, "/v1/catalog/datasets/broken");
    expect(got.status).toBe(503);
    expect(await got.json()).toMatchObject({ error: { code: "unavailable", details: { dataset: "broken" } } });
    expect((await ingest(lh, "broken", "a\n1\n")).status).toBe(503);
    // Deleting it is how it is cleared: a tombstone above the damaged version; then it is absent.
    expect((await call(lh, "/v1/catalog/datasets/broken", { method: "DELETE" })).status).toBe(200);
    expect((await call(lh, "/v1/catalog/datasets/broken")).status).toBe(404);
    expect((await ingest(lh, "broken", "a\n2\n")).status).toBe(201);
    expect(await rows(lh, "SELECT a FROM broken")).toEqual([[2]]);
  } finally {
    await lh.close();
  }
});
