// The start-up state /health shows while the modules open (src/startup.ts), fed by the real
// composition (src/app.ts): every module goes from "starting" to "ok", the vector module reports
// its indexes loaded of total, and the routes and OpenAPI document keep one order although the
// vector module opens beside the others.
import { afterAll, expect, test } from "bun:test";
import { createLakehouse, type Lakehouse, MODULE_NAMES } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { StartupState } from "../../src/startup.ts";
import { testConfig } from "../support/app.ts";

const opened: Lakehouse[] = [];
afterAll(async () => {
  for (const lh of opened) await lh.close();
});

test("a state lists every module as starting, takes figures, and hands out copies", () => {
  const state = new StartupState(["a", "b"]);
  expect(state.body()).toMatchObject({ status: "starting", modules: { a: "starting", b: "starting" }, progress: {} });
  state.report("b", { loaded: 1, total: 3 });
  state.report("b", { loaded: 2 });
  state.opened("a", 12.4);
  const body = state.body();
  expect(body.modules).toEqual({ a: "ok", b: "starting" });
  expect(body.progress).toEqual({ a: { ms: 12 }, b: { loaded: 2, total: 3 } });
  state.opened("b", 30);
  expect(state.body().progress.b).toEqual({ loaded: 2, total: 3, ms: 30 });
  body.modules.a = "starting";
  body.progress.b!.loaded = 99;
  expect(state.body().modules.a).toBe("ok");
  expect(state.body().progress.b).toEqual({ loaded: 2, total: 3, ms: 30 });
  expect(state.ready).toBe(false);
  state.finish();
  expect(state.ready).toBe(true);
});

test("createLakehouse marks every module open in the state, with the vector module's index figures", async () => {
  const config = testConfig();
  const first = await createLakehouse(config, silentLogger);
  await first.vector.service.createIndex({ name: "one", dim: 2 });
  first.vector.service.upsert("one", [{ id: "a", vector: [1, 0] }]);
  await first.close();

  const state = new StartupState(MODULE_NAMES);
  const lh = await createLakehouse(config, silentLogger, { startup: state });
  opened.push(lh);
  const body = state.body();
  expect(body.modules).toEqual(Object.fromEntries(MODULE_NAMES.map((m) => [m, "ok"])));
  expect(lh.modules.map((m) => m.name)).toEqual([...MODULE_NAMES]);
  expect(Object.keys(body.progress).sort()).toEqual([...MODULE_NAMES].sort());
  for (const name of MODULE_NAMES) expect(body.progress[name]!.ms).toBeGreaterThanOrEqual(0);
  // The vector module's last report, kept beside its time: its index and the pathway module's own.
  expect(body.progress.vector).toMatchObject({ indexes_loaded: body.progress.vector!.indexes_total, indexes_failed: 0 });
  expect(body.progress.vector!.indexes_total).toBeGreaterThanOrEqual(1);
  expect(body.progress.vector!.items_loaded).toBeGreaterThanOrEqual(1);
  expect(lh.vector.service.getIndex("one").count).toBe(1);
});

test("the vector module's operations keep their place in the registry whichever module opens first", async () => {
  const lh = await createLakehouse(testConfig(), silentLogger);
  opened.push(lh);
  const names = lh.ops.list().map((o) => o.name);
  const firstVector = names.findIndex((n) => n.startsWith("vector."));
  const lastIngest = names.findLastIndex((n) => n.startsWith("ingest."));
  const firstMatrix = names.findIndex((n) => n.startsWith("matrix."));
  expect(lastIngest).toBeLessThan(firstVector);
  expect(names.findLastIndex((n) => n.startsWith("vector."))).toBeLessThan(firstMatrix);
});
