import { expect, test } from "bun:test";
import { ValidationFailed } from "../../src/errors.ts";
import { assertJsonDepth, exceedsJsonDepth, JsonTextDepthScanner, MAX_JSON_DEPTH } from "../../src/lib/json-depth.ts";

const arrays = (levels: number) => JSON.parse(`${"[".repeat(levels)}${"]".repeat(levels)}`);
const objects = (levels: number) => JSON.parse(`${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`);

test("the cap is 64 levels: {} and [] count one, a scalar none", () => {
  expect(MAX_JSON_DEPTH).toBe(64);
  for (const scalar of [1, "x", null, true]) expect(exceedsJsonDepth(scalar, 0)).toBe(false);
  expect(exceedsJsonDepth({}, 0)).toBe(true);
  expect(exceedsJsonDepth({}, 1)).toBe(false);
  expect(exceedsJsonDepth({ a: [] }, 1)).toBe(true);
  expect(exceedsJsonDepth({ a: [] }, 2)).toBe(false);
  for (const make of [arrays, objects]) {
    expect(exceedsJsonDepth(make(64))).toBe(false);
    expect(exceedsJsonDepth(make(65))).toBe(true);
  }
});

test("the deepest branch counts, wherever it is among wide siblings", () => {
  const wide = { a: 1, b: [1, 2, { c: "x" }], d: Array.from({ length: 1000 }, (_, i) => ({ i })) };
  expect(exceedsJsonDepth(wide, 3)).toBe(false);
  expect(exceedsJsonDepth({ ...wide, z: [[[[]]]] }, 4)).toBe(true);
  expect(exceedsJsonDepth([1, 2, arrays(64)])).toBe(true);
});

test("100,000 levels (what JSON.parse accepts and JSON.stringify overflows on) is answered, not a stack overflow", () => {
  for (const make of [arrays, objects]) {
    const deep = make(100_000);
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(exceedsJsonDepth(deep)).toBe(true);
  }
});

test("a cyclic in-process value counts as too deep instead of looping", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  expect(exceedsJsonDepth(cyclic)).toBe(true);
});

test("assertJsonDepth names the path", () => {
  expect(() => assertJsonDepth(objects(64), "payload")).not.toThrow();
  let err: unknown;
  try {
    assertJsonDepth(objects(65), "items[3].payload");
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValidationFailed);
  expect((err as ValidationFailed).details).toEqual([{ path: "items[3].payload", message: "nests deeper than 64 levels of objects and arrays" }]);
});

test("the text scanner judges a JSON document before it is parsed; newlines are only whitespace there", () => {
  const scan = (text: string, lines = false) => {
    const s = new JsonTextDepthScanner({ lines });
    s.push(new TextEncoder().encode(text));
    return s.found;
  };
  const at64 = `{"items":[${"[".repeat(62)}"\\"]]]"${"]".repeat(62)}]}`;
  expect(JSON.parse(at64)).toBeDefined();
  expect(exceedsJsonDepth(JSON.parse(at64))).toBe(false);
  expect(scan(at64)).toBeNull();
  // Pretty-printed: one level per line. As a document it is 65 deep; as NDJSON each line is shallow.
  const pretty = `${"[\n".repeat(65)}${"]\n".repeat(65)}`;
  expect(scan(pretty)).toEqual({ line: 65 });
  expect(scan(pretty, true)).toBeNull();
});
