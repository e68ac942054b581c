// The /v1/workflows routes over HTTP: saved definitions with versions and expected_version, runs
// of a saved workflow and of an inline one, listing with filters, the error envelope, and the
// routes that share the /v1/workflows prefix.
import { afterAll, expect, test } from "bun:test";
import { testLakehouse } from "../support/app.ts";
import { call, json } from "../support/http.ts";
import { req, startRun, stepOf, waitRun, W } from "./helpers.ts";

const lh = await testLakehouse();
afterAll(() => lh.close());

const DEF = {
  inputs: { items: "array" },
  steps: [
    { id: "cheap", mode: "transform", input: { from: "{{inputs.items}}", filter: { price: { $lt: 10 } }, pick: ["name"] } },
    { id: "count", mode: "transform", needs: ["cheap"], input: { from: "{{steps.cheap.output}}", count: true } },
  ],
};
const ITEMS = [
  { name: "pen", price: 2 },
  { name: "lamp", price: 40 },
  { name: "cup", price: 6 },
];

test("save, read, list and replace a workflow; expected_version guards the replace", async () => {
  const created = await req(lh, "PUT", "/shop", DEF);
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ name: "shop", version: 1, actor: "anonymous@127.0.0.1" });
  expect((await req(lh, "GET", "/shop")).body.steps).toHaveLength(2);
  expect((await req(lh, "GET", "")).body.workflows.map((w: any) => w.name)).toContain("shop");

  const stale = await req(lh, "PUT", "/shop", { ...DEF, expected_version: 7 });
  expect(stale.status).toBe(409);
  expect(stale.body.error).toMatchObject({ code: "conflict", details: { current_version: 1 } });
  const taken = await req(lh, "PUT", "/shop", { ...DEF, expected_version: 0 });
  expect(taken.status).toBe(409);
  const next = await req(lh, "PUT", "/shop", { ...DEF, expected_version: 1 });
  expect(next.status).toBe(200);
  expect(next.body.version).toBe(2);
});

test("an invalid definition is not saved: 400 naming the step and path", async () => {
  const res = await req(lh, "PUT", "/broken", { steps: [{ id: "a", mode: "transform", input: { from: 1 }, needs: ["zz"] }] });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe("validation_failed");
  expect(res.body.error.details[0]).toEqual({ path: "steps[0].needs[0]", message: 'step "a" needs "zz", which is not a step of this workflow' });
  expect((await req(lh, "GET", "/broken")).status).toBe(404);
  // "runs" and "modes" are routes, not names.
  expect((await req(lh, "PUT", "/runs", DEF)).status).toBe(400);
});

test("run a saved workflow by name: 202 at once, then the run with its steps, outputs, timings and hashes", async () => {
  await req(lh, "PUT", "/shop2", DEF);
  const started = await startRun(lh, { workflow: "shop2", inputs: { items: ITEMS } });
  expect(started.status).toBe(202);
  expect(started.body.id).toMatch(/^r[0-9a-z]+$/);
  expect(["queued", "running", "succeeded"]).toContain(started.body.status);
  const run = await waitRun(lh, started.body.id);
  expect(run).toMatchObject({ workflow: "shop2", workflow_version: 1, status: "succeeded", resumes: 0, inputs: { items: ITEMS } });
  expect(stepOf(run, "cheap")).toMatchObject({ status: "succeeded", attempts: 1, output: [{ name: "pen" }, { name: "cup" }] });
  expect(stepOf(run, "count").output).toEqual({ value: [{ name: "pen" }, { name: "cup" }], count: 2 });
  expect(stepOf(run, "cheap").ms).toBeGreaterThanOrEqual(0);
  expect(run.input_hash).toMatch(/^[0-9a-f]{64}$/);
  expect(run.output_hash).toMatch(/^[0-9a-f]{64}$/);
  // The same inputs give the same hashes; other inputs other ones.
  const again = await waitRun(lh, (await startRun(lh, { workflow: "shop2", inputs: { items: ITEMS } })).body.id);
  expect([again.input_hash, again.output_hash]).toEqual([run.input_hash, run.output_hash]);
  const other = await waitRun(lh, (await startRun(lh, { workflow: "shop2", inputs: { items: ITEMS.slice(1) } })).body.id);
  expect(other.input_hash).not.toBe(run.input_hash);
});

test("runs are listed newest first, by status and by workflow", async () => {
  const inline = await waitRun(lh, (await startRun(lh, { workflow: { steps: [{ id: "x", mode: "transform", input: { from: 1 } }] } })).body.id);
  expect(inline.workflow).toBeNull();
  const all = await json(call(lh, `${W}/runs`));
  expect(all.runs[0].id).toBe(inline.id);
  const shop = await json(call(lh, `${W}/runs?workflow=shop2&status=succeeded&limit=2`));
  expect(shop.runs).toHaveLength(2);
  expect(shop.runs.every((r: any) => r.workflow === "shop2" && r.status === "succeeded")).toBe(true);
  expect(shop.runs[0].steps).toEqual({ total: 2, succeeded: 2, failed: 0, skipped: 0 });
  expect((await json(call(lh, `${W}/runs?status=interrupted`))).runs).toEqual([]);
  expect((await call(lh, `${W}/runs?status=bogus`)).status).toBe(400);
});

test("errors: unknown workflow or run is 404, a finished run cannot be cancelled or a succeeded one resumed (409)", async () => {
  const missing = await startRun(lh, { workflow: "nope" });
  expect(missing.status).toBe(404);
  expect(missing.body.error.code).toBe("not_found");
  expect((await call(lh, `${W}/runs/r00000000000000`)).status).toBe(404);
  const run = await waitRun(lh, (await startRun(lh, { workflow: { steps: [{ id: "x", mode: "transform", input: { from: 1 } }] } })).body.id);
  const cancel = await req(lh, "POST", `/runs/${run.id}/cancel`);
  expect(cancel.status).toBe(409);
  const resume = await req(lh, "POST", `/runs/${run.id}/resume`);
  expect(resume.status).toBe(409);
  expect(resume.body.error.message).toContain("only interrupted, failed or cancelled runs");
});

test("a failed run resumes: only its failed step runs again", async () => {
  // A reference that has no value fails the second step; nothing else can change, so the resumed
  // step fails again, but the first step is not re-run (its attempts stay 1).
  const run = await waitRun(
    lh,
    (
      await startRun(lh, {
        workflow: {
          steps: [
            { id: "a", mode: "transform", input: { from: [] } },
            { id: "b", mode: "transform", needs: ["a"], input: { from: "{{steps.a.output[0]}}" } },
          ],
        },
      })
    ).body.id,
  );
  expect(run.status).toBe("failed");
  const resumed = await req(lh, "POST", `/runs/${run.id}/resume`);
  expect(resumed.status).toBe(202);
  const after = await waitRun(lh, run.id);
  expect(after.resumes).toBe(1);
  expect(stepOf(after, "a").attempts).toBe(1);
  expect(stepOf(after, "b")).toMatchObject({ status: "failed", attempts: 2, error: { code: "reference" } });
});

test("delete leaves runs their copy; the name can be saved again", async () => {
  await req(lh, "PUT", "/gone", DEF);
  const del = await req(lh, "DELETE", "/gone");
  expect(del.status).toBe(200);
  expect(del.body.deleted).toBe(true);
  expect((await req(lh, "GET", "/gone")).status).toBe(404);
  expect((await req(lh, "DELETE", "/gone")).status).toBe(404);
  expect((await req(lh, "PUT", "/gone", DEF)).body.version).toBe(3);
});

test("health names the module", async () => {
  const health = await json(call(lh, "/health"));
  expect(health.modules.workflows).toBe("ok");
  expect(health.details.workflows.runs).toBeGreaterThan(0);
});
