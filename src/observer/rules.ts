// Truth rules, evaluated against the claim JSON by dot-path ("a.b.0.c": object keys, array
// indexes). Each rule ends in one of three outcomes: pass, fail (the claim does not satisfy it) or
// error (the rule could not be evaluated: an unknown type, a missing or wrong-typed rule field, a
// refused or runaway pattern). An error is never turned into a pass: review.ts makes it "cycle".
//
// Comparisons on an absent field fail (the claim does not show what the rule asks for), except
// field_empty, which is about absence, and field_not_equals, which fails too: "not equal to x"
// is asserted of a value the claim must carry.
import { isDeepStrictEqual } from "node:util";
import { MAX_INPUT, type RegexRunner, unsafePattern } from "./regex.ts";

export interface Rule {
  type: string;
  path?: string;
  value?: unknown;
  values?: unknown[];
  pattern?: string;
  flags?: string;
}

export interface Reason {
  check: string;
  path?: string;
  expected?: unknown;
  actual?: unknown;
  outcome: "pass" | "fail" | "error";
  message?: string;
}

export const RULE_TYPES = [
  "field_equals",
  "field_not_equals",
  "field_empty",
  "field_present",
  "field_greater",
  "field_less",
  "regex",
  "one_of",
  "always",
] as const;

const ABSENT = Symbol("absent");

/** The value at a dot-path, or ABSENT. An empty path is the claim itself. */
export function atPath(root: unknown, path: string): unknown {
  if (path === "") return root;
  let cur: unknown = root;
  for (const seg of path.split(".")) {
    if (cur === null || typeof cur !== "object") return ABSENT;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg) || Number(seg) >= cur.length) return ABSENT;
      cur = cur[Number(seg)];
    } else {
      if (!Object.hasOwn(cur, seg)) return ABSENT;
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return cur;
}

const shown = (x: unknown) => (x === ABSENT ? undefined : x);
/** Big claim values are cut in reasons: they are for people, and they are stored as events. */
function clip(x: unknown): unknown {
  if (typeof x === "string" && x.length > 200) return `${x.slice(0, 200)}…`;
  if (x !== null && typeof x === "object") {
    const text = JSON.stringify(x);
    if (text.length > 500) return `${text.slice(0, 500)}…`;
  }
  return x;
}

function isEmpty(x: unknown): boolean {
  if (x === ABSENT || x === null || x === "") return true;
  if (Array.isArray(x)) return x.length === 0;
  if (typeof x === "object") return Object.keys(x as object).length === 0;
  return false;
}

const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

export async function evaluateRule(rule: Rule, claim: unknown, regex: RegexRunner): Promise<Reason> {
  const path = rule.path ?? "";
  const base = { check: rule.type, path };
  const error = (message: string): Reason => ({ ...base, outcome: "error", message });
  if (!(RULE_TYPES as readonly string[]).includes(rule.type)) {
    return { check: String(rule.type), outcome: "error", message: `unknown rule type; known: ${RULE_TYPES.join(", ")}` };
  }
  if (rule.type === "always") return { check: "always", outcome: "pass" };
  if (typeof rule.path !== "string") return error(`rule ${rule.type} needs a "path" (dot-path into the claim)`);
  const actual = atPath(claim, path);
  const verdict = (ok: boolean, expected: unknown, message?: string): Reason => ({
    ...base,
    expected: clip(expected),
    actual: clip(shown(actual)),
    outcome: ok ? "pass" : "fail",
    ...(message ? { message } : actual === ABSENT ? { message: "the field is absent" } : {}),
  });
  switch (rule.type) {
    case "field_equals":
    case "field_not_equals": {
      if (!("value" in rule)) return error(`rule ${rule.type} needs a "value"`);
      if (actual === ABSENT) return verdict(false, rule.value);
      const eq = isDeepStrictEqual(actual, rule.value);
      return verdict(rule.type === "field_equals" ? eq : !eq, rule.value);
    }
    case "field_empty":
      return verdict(isEmpty(actual), 'empty (absent, null, "", [] or {})');
    case "field_present":
      return verdict(actual !== ABSENT && actual !== null, "present and not null");
    case "field_greater":
    case "field_less": {
      if (!isNum(rule.value)) return error(`rule ${rule.type} needs a numeric "value"`);
      if (actual === ABSENT) return verdict(false, rule.value);
      if (!isNum(actual)) return verdict(false, rule.value, "the field is not a number");
      return verdict(rule.type === "field_greater" ? actual > rule.value : actual < rule.value, rule.value);
    }
    case "one_of": {
      if (!Array.isArray(rule.values) || rule.values.length === 0) return error('rule one_of needs a non-empty "values" array');
      return verdict(actual !== ABSENT && rule.values.some((x) => isDeepStrictEqual(actual, x)), rule.values);
    }
    case "regex": {
      if (typeof rule.pattern !== "string") return error('rule regex needs a "pattern"');
      const flags = rule.flags ?? "";
      const unsafe = unsafePattern(rule.pattern, flags);
      if (unsafe) return error(`pattern refused: ${unsafe}`);
      const expected = `/${rule.pattern}/${flags}`;
      if (actual === ABSENT) return verdict(false, expected);
      if (typeof actual !== "string") return verdict(false, expected, "the field is not a string");
      if (actual.length > MAX_INPUT) return error(`the field is longer than ${MAX_INPUT} characters: not matched`);
      const out = await regex.test(rule.pattern, flags, actual);
      if ("error" in out) return error(out.error);
      return verdict(out.match, expected);
    }
  }
  return error("unhandled rule type");
}
