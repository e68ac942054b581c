import { expect, test } from "bun:test";
import { manifestKey } from "../../src/catalog/manifest.ts";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";
import { ingest } from "../support/ingest.ts";
import { rows } from "../support/sql.ts";
import { tempDir } from "../support/tmp.ts";

test("a corrupt manifest is tolerated: other datasets serve, /health shows catalog degraded with a count", async () => {
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
    expect(health.details.catalog).toEqual({ datasets: 1, corrupt_manifests: 1 });
    expect(await rows(lh, "SELECT a FROM good")).toEqual([[1]]);
    expect((await call(lh, "/v1/catalog/datasets/broken")).status).toBe(404);
  } finally {
    await lh.close();
  }
});
