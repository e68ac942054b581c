import { describe, expect, test } from "bun:test";
import { compileFilter, filterPredicate } from "../../src/filter/compile.ts";
import { parseFilter } from "../../src/filter/parse.ts";
import type { LakehouseError } from "../../src/errors.ts";

function errorOf(input: unknown): { code: string; details: { path: string; message: string }[] } {
  try {
    parseFilter(input);
  } catch (err) {
    const e = err as LakehouseError;
    return { code: e.code, details: e.details as { path: string; message: string }[] };
  }
  throw new Error("expected the filter to be rejected");
}

const worker = { state: "IL", hourly_rate: 21, available: false, shift: "swing", tags: ["forklift", "osha"], address: { zip: "60601" } };

describe("filter parsing", () => {
  test("a bare value means $eq and several keys mean $and", () => {
    expect(parseFilter({ state: "IL", hourly_rate: { $lte: 22 } })).toEqual({
      kind: "and",
      nodes: [
        { kind: "eq", field: "state", value: "IL" },
        { kind: "cmp", field: "hourly_rate", op: "$lte", value: 22 },
      ],
    });
  });

  test("unknown operators are errors naming their path", () => {
    expect(errorOf({ $or: [{ a: 1 }, { shift: { $inn: ["day"] } }] })).toEqual({
      code: "validation_failed",
      details: [{ path: "filter.$or[1].shift.$inn", message: expect.stringContaining("unknown operator $inn") }],
    });
    expect(errorOf({ $nor: [] }).details[0]!.path).toBe("filter.$nor");
  });

  test("malformed nodes are errors naming their path", () => {
    expect(errorOf({ a: { $in: "day" } }).details[0]!.path).toBe("filter.a.$in");
    expect(errorOf({ a: { $in: ["x", { y: 1 }] } }).details[0]!.path).toBe("filter.a.$in[1]");
    expect(errorOf({ $and: [] }).details[0]!.path).toBe("filter.$and");
    expect(errorOf({ $and: [{ a: 1 }, 5] }).details[0]!.path).toBe("filter.$and[1]");
    expect(errorOf({ a: { $gt: true } }).details[0]!.path).toBe("filter.a.$gt");
    expect(errorOf({ a: { $exists: 1 } }).details[0]!.path).toBe("filter.a.$exists");
    expect(errorOf({ a: {} }).details[0]!.path).toBe("filter.a");
    expect(errorOf({ a: [1, 2] }).details[0]!.path).toBe("filter.a");
    expect(errorOf({ $not: [] }).details[0]!.path).toBe("filter.$not");
    expect(errorOf("state =").details[0]!.path).toBe("filter");
    expect(errorOf({ $and: ["state = IL"] }).details[0]!.path).toBe("filter.$and[0]");
  });

  test("nesting deeper than the limit is refused, not a stack overflow", () => {
    let deep: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < 100; i++) deep = { $not: deep };
    expect(errorOf(deep).code).toBe("validation_failed");
  });
});

describe("filter semantics", () => {
  const matches = (f: unknown, m: Record<string, unknown> | null = worker) => filterPredicate(f)(m);

  test("the issue's example", () => {
    const f = { state: "IL", hourly_rate: { $lte: 22 }, $or: [{ available: true }, { shift: { $in: ["day", "swing"] } }] };
    expect(matches(f)).toBe(true);
    expect(matches(f, { ...worker, shift: "night" })).toBe(false);
    expect(matches(f, { ...worker, shift: "night", available: true })).toBe(true);
    expect(matches(f, { ...worker, hourly_rate: 23 })).toBe(false);
  });

  test("comparison operators compare like types only", () => {
    expect(matches({ hourly_rate: { $gt: 20, $lt: 22 } })).toBe(true);
    expect(matches({ hourly_rate: { $gte: 21 } })).toBe(true);
    expect(matches({ hourly_rate: { $gt: 21 } })).toBe(false);
    expect(matches({ hourly_rate: { $gt: "1" } })).toBe(false);
    expect(matches({ state: { $gte: "IA", $lt: "IN" } })).toBe(true);
  });

  test("$ne and $nin match items without the field; $eq and $in do not", () => {
    expect(matches({ missing: { $ne: 1 } })).toBe(true);
    expect(matches({ missing: { $nin: [1] } })).toBe(true);
    expect(matches({ missing: { $eq: null } })).toBe(false);
    expect(matches({ missing: { $in: [null] } })).toBe(false);
    expect(matches({ state: { $ne: "IL" } })).toBe(false);
    expect(matches({ state: { $nin: ["IL", "WI"] } })).toBe(false);
  });

  test("$exists, $not, dotted paths and array values", () => {
    expect(matches({ shift: { $exists: true } })).toBe(true);
    expect(matches({ shift: { $exists: false } })).toBe(false);
    expect(matches({ $not: { state: "IL" } })).toBe(false);
    expect(matches({ "address.zip": "60601" })).toBe(true);
    expect(matches({ "address.zip": 60601 })).toBe(false);
    expect(matches({ tags: "osha" })).toBe(true);
    expect(matches({ tags: { $in: ["welding", "forklift"] } })).toBe(true);
    expect(matches({ tags: { $nin: ["osha"] } })).toBe(false);
  });

  test("fields inherited from Object.prototype are missing, not present", () => {
    const parsed = JSON.parse('{"__proto__": "own", "n": 1}');
    for (const field of ["constructor", "toString", "hasOwnProperty"]) {
      expect(matches({ [field]: { $exists: true } })).toBe(false);
      expect(matches({ [field]: { $ne: "x" } })).toBe(true);
      expect(matches({ [`${field}.name`]: { $exists: true } })).toBe(false);
    }
    expect(matches(JSON.parse('{"__proto__": {"$exists": true}}'))).toBe(false);
    expect(filterPredicate({ ["__proto__"]: "own" })(parsed)).toBe(true);
    expect(matches({ "address.zip": { $exists: true } })).toBe(true);
    expect(matches({ "address.toString": { $exists: true } })).toBe(false);
  });

  test("items without metadata match only negative conditions", () => {
    expect(matches({ state: "IL" }, null)).toBe(false);
    expect(matches({ state: { $ne: "IL" } }, null)).toBe(true);
    expect(matches({}, null)).toBe(true);
  });

  test("compileFilter is usable on a parsed tree directly", () => {
    const pred = compileFilter(parseFilter({ $and: [{ a: 1 }, { b: { $in: [2, 3] } }] }));
    expect(pred({ a: 1, b: 3 })).toBe(true);
    expect(pred({ a: 1, b: 4 })).toBe(false);
  });
});
