// The truth-rule table: every rule type passes and fails where it should, by dot-path, with the
// path, expected and actual value in its reason; a rule that cannot be evaluated is an "error"
// (never a pass); regex is bounded (caps, static refusal of catastrophic shapes, a time budget).
import { afterAll, describe, expect, test } from "bun:test";
import { MAX_INPUT, RegexRunner, unsafePattern } from "../../src/observer/regex.ts";
import { evaluateRule, type Rule } from "../../src/observer/rules.ts";

const regex = new RegexRunner();
afterAll(() => regex.close());

const claim = {
  status: "ok",
  count: 42,
  ratio: 0.5,
  tags: ["a", "b"],
  empty: "",
  none: null,
  list: [],
  obj: {},
  nested: { rows: [{ zip: "02134" }, { zip: "60601" }] },
};

const table: [string, Rule, "pass" | "fail"][] = [
  ["field_equals string", { type: "field_equals", path: "status", value: "ok" }, "pass"],
  ["field_equals differs", { type: "field_equals", path: "status", value: "error" }, "fail"],
  ["field_equals deep", { type: "field_equals", path: "tags", value: ["a", "b"] }, "pass"],
  ["field_equals type matters", { type: "field_equals", path: "count", value: "42" }, "fail"],
  ["field_equals absent", { type: "field_equals", path: "missing", value: null }, "fail"],
  ["field_equals array index path", { type: "field_equals", path: "nested.rows.1.zip", value: "60601" }, "pass"],
  ["field_not_equals differs", { type: "field_not_equals", path: "status", value: "error" }, "pass"],
  ["field_not_equals same", { type: "field_not_equals", path: "status", value: "ok" }, "fail"],
  ["field_not_equals absent", { type: "field_not_equals", path: "missing", value: "ok" }, "fail"],
  ["field_empty empty string", { type: "field_empty", path: "empty" }, "pass"],
  ["field_empty null", { type: "field_empty", path: "none" }, "pass"],
  ["field_empty []", { type: "field_empty", path: "list" }, "pass"],
  ["field_empty {}", { type: "field_empty", path: "obj" }, "pass"],
  ["field_empty absent", { type: "field_empty", path: "missing" }, "pass"],
  ["field_empty non-empty", { type: "field_empty", path: "status" }, "fail"],
  ["field_present", { type: "field_present", path: "count" }, "pass"],
  ["field_present null", { type: "field_present", path: "none" }, "fail"],
  ["field_present absent", { type: "field_present", path: "nested.rows.5" }, "fail"],
  ["field_greater", { type: "field_greater", path: "count", value: 41 }, "pass"],
  ["field_greater equal", { type: "field_greater", path: "count", value: 42 }, "fail"],
  ["field_greater not a number", { type: "field_greater", path: "status", value: 1 }, "fail"],
  ["field_less", { type: "field_less", path: "ratio", value: 0.6 }, "pass"],
  ["field_less fails", { type: "field_less", path: "ratio", value: 0.5 }, "fail"],
  ["regex", { type: "regex", path: "nested.rows.0.zip", pattern: "^0\\d{4}$" }, "pass"],
  ["regex no match", { type: "regex", path: "status", pattern: "^err" }, "fail"],
  ["regex flags", { type: "regex", path: "status", pattern: "^OK$", flags: "i" }, "pass"],
  ["regex on a number", { type: "regex", path: "count", pattern: "42" }, "fail"],
  ["one_of", { type: "one_of", path: "status", values: ["ok", "done"] }, "pass"],
  ["one_of not in", { type: "one_of", path: "status", values: ["done"] }, "fail"],
  ["always", { type: "always" }, "pass"],
];

describe("rule table", () => {
  for (const [name, rule, outcome] of table) {
    test(`${name} → ${outcome}`, async () => {
      const r = await evaluateRule(rule, claim, regex);
      expect(r.outcome).toBe(outcome);
      if (rule.type !== "always") {
        expect(r.path).toBe(rule.path);
        expect("expected" in r).toBe(true);
      }
    });
  }

  test("reasons carry the actual value", async () => {
    const r = await evaluateRule({ type: "field_equals", path: "nested.rows.0.zip", value: "99999" }, claim, regex);
    expect(r).toMatchObject({ outcome: "fail", path: "nested.rows.0.zip", expected: "99999", actual: "02134" });
  });
});

describe("rules that cannot be evaluated are errors, never passes", () => {
  const cases: [string, Rule][] = [
    ["unknown type", { type: "field_matches_vibes", path: "status" }],
    ["no path", { type: "field_equals", value: 1 }],
    ["no value", { type: "field_equals", path: "status" }],
    ["non-numeric bound", { type: "field_greater", path: "count", value: "10" }],
    ["one_of without values", { type: "one_of", path: "status" }],
    ["regex without pattern", { type: "regex", path: "status" }],
    ["invalid regex", { type: "regex", path: "status", pattern: "(" }],
    ["nested quantifier", { type: "regex", path: "status", pattern: "(a+)+$" }],
    ["quantified alternation", { type: "regex", path: "status", pattern: "(a|aa)*b" }],
    ["backreference", { type: "regex", path: "status", pattern: "(a)\\1" }],
    ["long pattern", { type: "regex", path: "status", pattern: "a".repeat(300) }],
    ["bad flags", { type: "regex", path: "status", pattern: "a", flags: "g" }],
  ];
  for (const [name, rule] of cases) {
    test(name, async () => {
      const r = await evaluateRule(rule, claim, regex);
      expect(r.outcome).toBe("error");
      expect(r.message).toBeString();
    });
  }

  test("an input over the cap is not matched", async () => {
    const r = await evaluateRule({ type: "regex", path: "s", pattern: "a" }, { s: "a".repeat(MAX_INPUT + 1) }, regex);
    expect(r.outcome).toBe("error");
  });

  test("a runaway pattern that passes the static check is stopped by the time budget, and the runner keeps working", async () => {
    // No nested quantifier, still polynomial backtracking: seconds on 8K characters without a budget.
    expect(unsafePattern("a*a*a*b", "")).toBeNull();
    const r = await evaluateRule({ type: "regex", path: "s", pattern: "a*a*a*b" }, { s: "a".repeat(MAX_INPUT) }, regex);
    expect(r.outcome).toBe("error");
    expect(r.message).toContain("budget");
    const after = await evaluateRule({ type: "regex", path: "s", pattern: "^a+$" }, { s: "aaa" }, regex);
    expect(after.outcome).toBe("pass");
  });
});
