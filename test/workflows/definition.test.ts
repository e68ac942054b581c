// Validation before anything runs: every problem is a 400 (validation_failed) naming the step and
// the path, and nothing starts.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { calls, type Harness, harness } from "./helpers.ts";

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

async function rejected(workflow: unknown, inputs?: Record<string, unknown>): Promise<{ message: string; details: { path: string; message: string }[] }> {
  const before = h.mod.service.runs.runs.size;
  const err = await h.start(workflow, inputs).then(
    () => null,
    (e) => e,
  );
  expect(err).not.toBeNull();
  expect(err.code).toBe("validation_failed");
  // Nothing was started or recorded.
  expect(h.mod.service.runs.runs.size).toBe(before);
  return { message: err.message, details: err.details };
}

const s = (id: string, extra: Record<string, unknown> = {}) => ({ id, mode: "test.sleep", input: { ms: 1 }, ...extra });

test("a duplicate step id", async () => {
  const e = await rejected({ steps: [s("a"), s("a")] });
  expect(e.details).toContainEqual({ path: "steps[1].id", message: 'step "a" is declared twice (first at steps[0])' });
});

test("an unknown dependency", async () => {
  const e = await rejected({ steps: [s("a", { needs: ["ghost"] })] });
  expect(e.details).toContainEqual({ path: "steps[0].needs[0]", message: 'step "a" needs "ghost", which is not a step of this workflow' });
});

test("a cycle is named", async () => {
  const e = await rejected({ steps: [s("a", { needs: ["c"] }), s("b", { needs: ["a"] }), s("c", { needs: ["b"] })] });
  expect(e.message).toContain("cycle: a → c → b → a (each needs the next)");
  expect(e.details).toContainEqual({ path: "steps[0].needs", message: "steps form a cycle: a → c → b → a (each needs the next)" });
  const self = await rejected({ steps: [s("x", { needs: ["x"] })] });
  expect(self.message).toContain("cycle: x → x");
});

test("an unknown mode, listing the modes there are", async () => {
  const e = await rejected({ steps: [{ id: "a", mode: "teleport", input: {} }] });
  expect(e.details[0]!.path).toBe("steps[0].mode");
  expect(e.details[0]!.message).toContain('step "a": unknown mode "teleport"; modes: sql, embed');
});

test("an input its mode's schema rejects names the step and the field", async () => {
  const e = await rejected({ steps: [s("ok"), { id: "bad", mode: "test.sleep", input: { ms: "soon", extra: 1 } }] });
  const paths = e.details.map((d) => d.path);
  expect(paths).toContain("steps[1].input.ms");
  expect(paths).toContain("steps[1].input.extra");
  expect(e.details.every((d) => d.message.startsWith('step "bad": test.sleep input:'))).toBe(true);
});

test("an own mode's input is checked by its schema, and its filter by the filter language", async () => {
  const e = await rejected({ steps: [{ id: "q", mode: "transform", input: { from: [1], limit: -1 } }] });
  expect(e.details[0]!.path).toBe("steps[0].input.limit");
  const f = await rejected({ steps: [{ id: "t", mode: "transform", input: { from: [], filter: { a: { $regex: "x" } } } }] });
  expect(f.details[0]!.path).toBe("steps[0].input.filter.a.$regex");
});

test("a reference to a step that is not an ancestor, to no step, or to an undeclared input", async () => {
  const e = await rejected({
    inputs: { q: "string" },
    steps: [
      s("a"),
      { id: "b", mode: "test.sleep", input: { ms: 1, value: "{{steps.a.output.value}}" } },
      { id: "c", mode: "test.sleep", input: { ms: 1, value: { deep: ["{{steps.nope.output}}"] } } },
      { id: "d", mode: "test.sleep", input: { ms: 1, value: "x {{inputs.other}}" } },
      { id: "e", mode: "test.sleep", input: { ms: 1, value: "{{steps.a.result}}" } },
    ],
  });
  const by = Object.fromEntries(e.details.map((d) => [d.path, d.message]));
  expect(by["steps[1].input.value"]).toContain('reads step "a", which is not an ancestor of "b"');
  expect(by["steps[2].input.value.deep[0]"]).toContain("names no step of this workflow");
  expect(by["steps[3].input.value"]).toContain("names an input the workflow does not declare");
  expect(by["steps[4].input.value"]).toContain("steps.<id>.output");
});

test("an ancestor through another step may be referenced; a field holding a reference is checked when it has a value", async () => {
  const run = await h.wait(
    await h.start(
      {
        inputs: { ms: "integer" },
        steps: [
          s("a"),
          s("b", { needs: ["a"] }),
          { id: "c", mode: "test.sleep", needs: ["b"], input: { ms: "{{inputs.ms}}", value: "{{steps.a.output.value}}" } },
        ],
      },
      { ms: 2 },
    ),
  );
  expect(run.status).toBe("succeeded");
  calls.length = 0;
});

test("when: a condition that does not parse, or reads a step that is not an ancestor", async () => {
  const e = await rejected({ steps: [s("a"), s("b", { when: "steps.a.output.x ~ 3" }), s("c", { when: { "steps.a.output.x": 1 } })] });
  expect(e.details.map((d) => d.path)).toEqual(["steps[1].when", "steps[2].when"]);
  expect(e.details[1]!.message).toContain('"a" is not an ancestor of "c"');
});

test("run inputs must match the declared ones", async () => {
  const def = { inputs: { q: "string", k: "integer" }, steps: [s("a")] };
  const e = await rejected(def, { q: 3, extra: true });
  expect(e.details).toEqual([
    { path: "inputs.q", message: "expected string" },
    { path: "inputs.k", message: "missing (integer)" },
    { path: "inputs.extra", message: "not an input of this workflow" },
  ]);
});

test("llm.generate with no provider configured is refused, saying how to configure one", async () => {
  const e = await rejected({ steps: [{ id: "g", mode: "llm.generate", input: { prompt: "hi" } }] });
  expect(e.details[0]!.message).toContain("workflows.llm.provider");
});

test("a mode whose operation this server does not have is refused naming the operation", async () => {
  // The harness registry has no sql module.
  const e = await rejected({ steps: [{ id: "q", mode: "sql", input: { sql: "select 1" } }] });
  expect(e.details[0]!.message).toContain("calls the operation sql.query, which this server does not have");
});
