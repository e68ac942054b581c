// The runner: concurrency, ordering, references, when, timeouts, retries, skip-on-failure, cancel,
// identity, output caps, queueing. Test modes (helpers.ts) sleep and fail on demand.
import { afterEach, expect, test } from "bun:test";
import { calls, type Harness, harness, stepOf } from "./helpers.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  calls.length = 0;
});

const sleep = (id: string, ms: number, extra: Record<string, unknown> = {}) => ({ id, mode: "test.sleep", input: { ms, value: id }, ...extra });
const callOf = (value: string) => calls.find((c) => c.input.value === value)!;

test("independent steps run concurrently: the second starts before the first ends", async () => {
  h = await harness();
  const run = await h.wait(await h.start({ steps: [sleep("a", 200), sleep("b", 200)] }));
  expect(run.status).toBe("succeeded");
  const [a, b] = [callOf("a"), callOf("b")];
  // Both began before either could have finished: they overlapped.
  expect(Math.abs(a.at - b.at)).toBeLessThan(150);
  expect(run.ms).toBeLessThan(390);
});

test("max_parallel_steps = 1 runs them one after the other", async () => {
  h = await harness({ max_parallel_steps: 1 });
  const run = await h.wait(await h.start({ steps: [sleep("a", 100), sleep("b", 100)] }));
  expect(run.status).toBe("succeeded");
  const [first, second] = [callOf("a"), callOf("b")].sort((x, y) => x.at - y.at);
  expect(second!.at - first!.at).toBeGreaterThanOrEqual(95);
});

test("a step waits for its needs and reads their outputs; whole references keep their type", async () => {
  h = await harness();
  const run = await h.wait(
    await h.start(
      {
        inputs: { n: "number", who: "string" },
        steps: [
          { id: "a", mode: "test.sleep", input: { ms: 30, value: { list: [1, 2, 3], who: "{{inputs.who}}" } } },
          { id: "b", mode: "test.sleep", input: { ms: 1, value: "{{inputs.n}}" } },
          {
            id: "c",
            mode: "test.sleep",
            needs: ["a", "b"],
            input: {
              ms: 1,
              value: {
                whole: "{{steps.a.output.value.list}}",
                one: "{{steps.a.output.value.list[2]}}",
                text: "n={{steps.b.output.value}} {{steps.a.output.value.list}} by {{inputs.who}}",
              },
            },
          },
        ],
      },
      { n: 7, who: "ana" },
    ),
  );
  expect(run.status).toBe("succeeded");
  const c = stepOf(run, "c");
  expect(c.output.value).toEqual({ whole: [1, 2, 3], one: 3, text: "n=7 [1,2,3] by ana" });
  // c was called last, after both of its needs had answered.
  expect(calls).toHaveLength(3);
  expect(calls[2]!.input.value).toEqual(c.output.value);
  expect(stepOf(run, "a").output.value.who).toBe("ana");
});

test("when: false skips the step and its dependents; true runs it; conditions read earlier outputs", async () => {
  h = await harness();
  const run = await h.wait(
    await h.start(
      {
        inputs: { min: "number" },
        steps: [
          { id: "gate", mode: "test.sleep", input: { ms: 1, value: { tier: "small", n: 5 } } },
          { id: "yes", mode: "test.sleep", needs: ["gate"], when: "steps.gate.output.value.tier = small", input: { ms: 1, value: "yes" } },
          { id: "no", mode: "test.sleep", needs: ["gate"], when: { "steps.gate.output.value.n": { $gt: "{{inputs.min}}" } }, input: { ms: 1, value: "no" } },
          { id: "after_no", mode: "test.sleep", needs: ["no"], input: { ms: 1, value: "after" } },
        ],
      },
      { min: 10 },
    ),
  );
  expect(run.status).toBe("succeeded");
  expect(stepOf(run, "yes").status).toBe("succeeded");
  expect(stepOf(run, "no")).toMatchObject({ status: "skipped", skipped: "its when condition was false" });
  expect(stepOf(run, "after_no").status).toBe("skipped");
  expect(stepOf(run, "after_no").skipped).toContain('needs "no"');
  expect(calls.map((c) => c.input.value)).not.toContain("no");
});

test("a timeout fails the step, skips its dependents, lets the independent branch finish, and fails the run", async () => {
  h = await harness();
  const run = await h.wait(
    await h.start({
      steps: [sleep("slow", 5000, { timeout_ms: 50 }), sleep("after", 1, { needs: ["slow"] }), sleep("other", 100)],
    }),
  );
  expect(run.status).toBe("failed");
  expect(run.error.message).toContain('step "slow"');
  expect(stepOf(run, "slow")).toMatchObject({ status: "failed", error: { code: "timeout" }, attempts: 1 });
  expect(stepOf(run, "after").status).toBe("skipped");
  expect(stepOf(run, "other").status).toBe("succeeded");
  expect(run.ms).toBeLessThan(4000);
});

test("retries with backoff: a flaky step succeeds on its third attempt; too few retries fail it", async () => {
  h = await harness();
  const ok = await h.wait(await h.start({ steps: [{ id: "f", mode: "test.flaky", input: { key: "k1", fail: 2 }, retries: 2, retry_backoff_ms: 20 }] }));
  expect(ok.status).toBe("succeeded");
  expect(stepOf(ok, "f")).toMatchObject({ status: "succeeded", attempts: 3, output: { ok: true, attempt: 3 } });
  // Backoff doubles: 20 then 40 ms between the three calls.
  const at = calls.filter((c) => c.input.key === "k1").map((c) => c.at);
  expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(38);

  const bad = await h.wait(await h.start({ steps: [{ id: "f", mode: "test.flaky", input: { key: "k2", fail: 5 }, retries: 1, retry_backoff_ms: 1 }] }));
  expect(stepOf(bad, "f")).toMatchObject({ status: "failed", attempts: 2, error: { code: "upstream_error", message: "flaky failure 2" } });
});

test("an error retrying cannot fix (validation_failed) is not retried", async () => {
  h = await harness();
  const run = await h.wait(
    await h.start({ steps: [{ id: "f", mode: "test.flaky", input: { key: "k3", fail: 9, code: "validation_failed" }, retries: 3, retry_backoff_ms: 1 }] }),
  );
  expect(stepOf(run, "f")).toMatchObject({ status: "failed", attempts: 1 });
});

test("cancel stops a running step (its signal aborts), skips what had not started, and says cancelled", async () => {
  h = await harness();
  const id = await h.start({ steps: [sleep("long", 10_000), sleep("next", 1, { needs: ["long"] })] });
  while (calls.length === 0) await Bun.sleep(5);
  const t0 = performance.now();
  const cancelled = await h.ops.call<any>("workflows.cancel_run", { id });
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(cancelled.status).toBe("cancelled");
  expect(stepOf(cancelled, "long")).toMatchObject({ status: "failed", error: { code: "cancelled" } });
  expect(stepOf(cancelled, "next")).toMatchObject({ status: "skipped", skipped: "the run was cancelled" });
  // A finished run cannot be cancelled again.
  await expect(h.ops.call("workflows.cancel_run", { id })).rejects.toMatchObject({ code: "conflict" });
});

test("max_running bounds the runs at once: the next one waits as queued, then runs", async () => {
  h = await harness({ max_running: 1 });
  const first = await h.start({ steps: [sleep("one", 150)] });
  const second = await h.start({ steps: [sleep("two", 1)] });
  expect(h.mod.service.get(second).status).toBe("queued");
  const [a, b] = [await h.wait(first), await h.wait(second)];
  expect([a.status, b.status]).toEqual(["succeeded", "succeeded"]);
  expect(Date.parse(b.started_at)).toBeGreaterThanOrEqual(Date.parse(a.finished_at));
  // A queued run can be cancelled before it starts.
  const third = await h.start({ steps: [sleep("three", 500)] });
  const fourth = await h.start({ steps: [sleep("four", 1)] });
  const c = await h.ops.call<any>("workflows.cancel_run", { id: fourth });
  expect(c.status).toBe("cancelled");
  expect(stepOf(c, "four").status).toBe("skipped");
  await h.wait(third);
  expect(calls.map((x) => x.input.value)).not.toContain("four");
});

test("steps run as the identity that started the run", async () => {
  h = await harness();
  const r = await h.ops.call<{ id: string }>(
    "workflows.start_run",
    { workflow: { steps: [sleep("who", 1)] } },
    { identity: { kind: "token", address: "10.1.2.3" } },
  );
  const run = await h.wait(r.id);
  expect(run.actor).toBe("token@10.1.2.3");
  expect(callOf("who").identity).toEqual({ kind: "token", address: "10.1.2.3" });
});

test("an output over max_output_bytes is kept as a marker, and a reference into it fails the step naming the cap", async () => {
  h = await harness({ max_output_bytes: 200 });
  const run = await h.wait(
    await h.start({
      steps: [
        { id: "big", mode: "test.sleep", input: { ms: 1, value: "x".repeat(500) } },
        { id: "use", mode: "test.sleep", needs: ["big"], input: { ms: 1, value: "{{steps.big.output.value}}" } },
      ],
    }),
  );
  expect(stepOf(run, "big")).toMatchObject({ status: "succeeded", output: { _truncated: true, max_bytes: 200 } });
  expect(stepOf(run, "big").output_bytes).toBeGreaterThan(500);
  expect(stepOf(run, "use")).toMatchObject({ status: "failed", error: { code: "reference" } });
  expect(stepOf(run, "use").error.message).toContain("workflows.max_output_bytes");
});

test("a reference with no value at run time fails the step with code reference, naming it", async () => {
  h = await harness();
  const run = await h.wait(
    await h.start({
      steps: [
        { id: "a", mode: "test.sleep", input: { ms: 1, value: { list: [] } } },
        { id: "b", mode: "test.sleep", needs: ["a"], input: { ms: 1, value: "{{steps.a.output.value.list[0].id}}" } },
      ],
    }),
  );
  expect(stepOf(run, "b").error).toMatchObject({ code: "reference" });
  expect(stepOf(run, "b").error.message).toContain("has 0 element(s), no [0]");
});
