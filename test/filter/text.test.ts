// The text form of the filter language: what it means (by the object form it becomes), precedence,
// values, and errors that name the character.
import { describe, expect, test } from "bun:test";
import { filterPredicate } from "../../src/filter/compile.ts";
import { parseFilter } from "../../src/filter/parse.ts";
import { FilterTextError, filterFromText } from "../../src/filter/text.ts";
import type { LakehouseError } from "../../src/errors.ts";

describe("filter text form", () => {
  test("the issue's example becomes the object form", () => {
    expect(filterFromText("state = IL and available = true and hourly_rate <= 22")).toEqual({
      $and: [{ state: { $eq: "IL" } }, { available: { $eq: true } }, { hourly_rate: { $lte: 22 } }],
    });
  });

  test("and binds tighter than or; parentheses and not group", () => {
    expect(filterFromText("a = 1 or b = 2 and c = 3")).toEqual({ $or: [{ a: { $eq: 1 } }, { $and: [{ b: { $eq: 2 } }, { c: { $eq: 3 } }] }] });
    expect(filterFromText("(a = 1 or b = 2) AND NOT c = 3")).toEqual({
      $and: [{ $or: [{ a: { $eq: 1 } }, { b: { $eq: 2 } }] }, { $not: { c: { $eq: 3 } } }],
    });
  });

  test("every operator, in, not in, exists, not exists", () => {
    const ops: [string, unknown][] = [
      ["r == 1", { r: { $eq: 1 } }],
      ["r != 1", { r: { $ne: 1 } }],
      ["r <> 1", { r: { $ne: 1 } }],
      ["r < 1", { r: { $lt: 1 } }],
      ["r > 1", { r: { $gt: 1 } }],
      ["r >= -1.5e2", { r: { $gte: -150 } }],
      ["shift in (day, 'swing shift', 3)", { shift: { $in: ["day", "swing shift", 3] } }],
      ["shift not in (night)", { shift: { $nin: ["night"] } }],
      ["cert exists", { cert: { $exists: true } }],
      ["cert not exists", { cert: { $exists: false } }],
      ["address.zip = 02134", { "address.zip": { $eq: "02134" } }],
      ['note = "say \\"hi\\""', { note: { $eq: 'say "hi"' } }],
      ["x = null and y = FALSE", { $and: [{ x: { $eq: null } }, { y: { $eq: false } }] }],
    ];
    for (const [text, doc] of ops) expect(filterFromText(text)).toEqual(doc as Record<string, unknown>);
  });

  test("a text filter matches what its object form matches", () => {
    const rows = [
      { state: "IL", hourly_rate: 20, shift: "day" },
      { state: "IL", hourly_rate: 25, shift: "night" },
      { state: "TX", hourly_rate: 18, shift: "swing" },
    ];
    const pred = filterPredicate("state = IL and (hourly_rate < 22 or shift in (night))");
    expect(rows.map(pred)).toEqual([true, true, false]);
  });

  test("errors name the character and what was expected", () => {
    const cases: [string, string][] = [
      ["", "empty filter at character 1"],
      ["state = ", "expected a value, found the end at character 9"],
      ["state IL", 'expected a comparison (=, !=, <, <=, >, >=), "in" or "exists", found "IL" at character 7'],
      ["(a = 1", 'expected ")", found the end at character 7'],
      ["a = 'open", "unterminated string at character 5"],
      ["a = 1 b = 2", 'expected "and", "or" or the end, found "b" at character 7'],
      ["a in b", 'expected "(" after in, found "b" at character 6'],
      ["a = 1 and", "expected a field name, found the end at character 10"],
      ["a = $x", 'unexpected "$" at character 5'],
      [`${"(".repeat(33)}a = 1${")".repeat(33)}`, "filter nests deeper than 32 levels at character 33"],
      [`${"not ".repeat(100_000)}a = 1`, "filter nests deeper than 32 levels at character 129"],
    ];
    for (const [text, message] of cases) {
      expect(() => filterFromText(text)).toThrow(FilterTextError);
      try {
        filterFromText(text);
      } catch (err) {
        expect((err as Error).message).toBe(message);
      }
    }
  });

  test("parseFilter takes either form and reports text errors at the filter's path", () => {
    expect(parseFilter("a = 1")).toEqual(parseFilter({ a: { $eq: 1 } }));
    try {
      parseFilter("a = ", "query.filter");
      throw new Error("expected a rejection");
    } catch (err) {
      expect((err as LakehouseError).code).toBe("validation_failed");
      expect((err as LakehouseError).details).toEqual([{ path: "query.filter", message: "expected a value, found the end at character 5" }]);
    }
  });
});
