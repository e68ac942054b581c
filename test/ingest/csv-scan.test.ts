import { describe, expect, test } from "bun:test";
import { CsvScanner } from "../../src/ingest/csv-scan.ts";

function scan(text: string, chunkSize = 3, delimiter = ","): ReturnType<CsvScanner["finish"]> {
  const s = new CsvScanner(delimiter.charCodeAt(0));
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += chunkSize) s.push(bytes.subarray(i, i + chunkSize));
  return s.finish();
}

describe("CSV scanner", () => {
  test.each([
    ["plain", "a,b\n1,2\n3,4\n"],
    ["no trailing newline", "a,b\n1,2"],
    ["CRLF", "a,b\r\n1,2\r\n"],
    ["BOM", "\ufeffa,b\n1,2\n"],
    ["quoted commas, quotes and newlines", 'a,b\n1,"x, ""y""\nz"\n2,w\n'],
    ["blank lines", "a,b\n1,2\n\n3,4\n"],
    ["empty fields", "a,b,c\n,,\n"],
  ])("accepts %s", (_name, text) => {
    expect(scan(text)).toBeNull();
    expect(scan(text, 1)).toBeNull();
  });

  test("names the first record with the wrong number of fields", () => {
    expect(scan("a,b,c\n1,2,3\n4,5\n6,7,8\n")).toEqual({ line: 3, message: "line 3 has 2 fields; expected 3" });
    expect(scan("a,b\n1,2\n3,4,5\n")).toEqual({ line: 3, message: "line 3 has 3 fields; expected 2" });
  });

  test("counts lines inside quoted fields, so the line is the physical one", () => {
    expect(scan('a,b\n1,"x\ny\nz"\n2\n')?.line).toBe(5);
    expect(scan('a,b\r\n1,"x\r\ny"\r\n2\r\n')?.line).toBe(4);
  });

  test("reports an unclosed quote at the line it opens", () => {
    expect(scan('a,b\n1,2\n3,"open\n4,5\n')).toEqual({ line: 3, message: "a quoted field starting on line 3 is never closed" });
  });

  test("reports text after a closing quote and a stray quote", () => {
    expect(scan('a,b\n1,"x"y\n')?.line).toBe(2);
    expect(scan('a,b\n1,x"y\n')?.line).toBe(2);
  });

  test("uses the given delimiter", () => {
    expect(scan("a;b\n1;2\n", 3, ";")).toBeNull();
    expect(scan("a;b\n1;2;3\n", 3, ";")?.line).toBe(2);
  });
});
