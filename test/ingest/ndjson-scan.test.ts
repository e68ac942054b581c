import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { scanNdjsonDepth } from "../../src/ingest/ndjson-scan.ts";
import { JsonTextDepthScanner } from "../../src/lib/json-depth.ts";
import { tempDir } from "../support/tmp.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const nested = (levels: number) => `{"x":${"[".repeat(levels - 1)}1${"]".repeat(levels - 1)}}`;

/** Scans `text` fed in pieces cut at `cuts`, so state that spans chunks is exercised. */
function scan(text: string, limit: number, cuts: number[] = []) {
  const bytes = enc(text);
  const s = new JsonTextDepthScanner({ limit, lines: true });
  let from = 0;
  for (const at of [...cuts, bytes.length]) {
    s.push(bytes.subarray(from, at));
    from = at;
  }
  return s.found;
}

test("a line at the cap passes; one level more is refused, naming its line", () => {
  expect(scan(`${nested(64)}\n`, 64)).toBeNull();
  expect(scan(`{"a":1}\n{"b":2}\n${nested(65)}\n{"c":3}\n`, 64)).toEqual({ line: 3 });
});

test("brackets inside strings, escaped quotes and backslashes do not count", () => {
  const tricky = `{"s":"[[[[{{{{","t":"a \\" [[[[","u":"\\\\","v":[1]}`;
  expect(scan(`${tricky}\n`, 2)).toBeNull();
  // After an escaped backslash the quote closes the string: the brackets after it count.
  expect(scan(`{"u":"\\\\","v":[[1]]}\n`, 2)).toEqual({ line: 1 });
});

test("depth is per line: many shallow lines never add up, and a malformed line does not leak into the next", () => {
  expect(scan(`${"[[\n".repeat(1000)}`, 2)).toBeNull();
  expect(scan(`{"a":"unterminated [[[\n[[1]]\n`, 2)).toBeNull();
});

test("the same answer wherever the chunks are cut", () => {
  const text = `{"a":"x\\"y"}\n{"b":[["\\\\"]]}\n${nested(5)}\n`;
  const whole = scan(text, 4);
  expect(whole?.line).toBe(3);
  for (let cut = 1; cut < enc(text).length; cut++) expect(scan(text, 4, [cut])).toEqual(whole);
});

test("scanNdjsonDepth reads a file and stops at the first deep line (100,000 levels)", async () => {
  const path = join(tempDir("lh-ndjson-"), "deep.ndjson");
  writeFileSync(path, `{"ok":1}\n${nested(100_000)}\n${nested(100_000)}\n`);
  expect(await scanNdjsonDepth(path)).toEqual({ line: 2, message: "line 2 nests deeper than 64 levels of objects and arrays" });
  writeFileSync(path, `${nested(64)}\n`.repeat(3));
  expect(await scanNdjsonDepth(path)).toBeNull();
});
