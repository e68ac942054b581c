// Tool answers: capped at the largest list with a note, a SQL result as a table, errors carrying the
// envelope's code, message and details.
import { expect, test } from "bun:test";
import { LakehouseError } from "../../src/errors.ts";
import { capResult, MAX_RESULT_BYTES, sqlTable, toolError, toolResult } from "../../src/mcp/render.ts";

test("a result within the cap is left alone; over it, the largest list keeps the longest prefix that fits", () => {
  const small = { hits: [1, 2, 3], note: "x" };
  expect(capResult(small, 1000, "ask less")).toBe(small);
  const big = { meta: ["m"], hits: Array.from({ length: 500 }, (_, i) => ({ id: i, text: "y".repeat(50) })) };
  const capped = capResult(big, 4000, "ask less") as any;
  expect(JSON.stringify(capped).length).toBeLessThanOrEqual(4000);
  expect(capped.capped).toMatchObject({ field: "hits", of: 500, how_to_get_the_rest: "ask less" });
  expect(capped.hits).toEqual(big.hits.slice(0, capped.capped.kept));
  // The longest: one more item would not fit.
  const oneMore = { ...capped, hits: big.hits.slice(0, capped.capped.kept + 1) };
  expect(JSON.stringify(oneMore).length).toBeGreaterThan(4000);
  expect(capped.meta).toEqual(["m"]);
});

test("a result without a list to cut is replaced by a note", () => {
  const out = capResult({ blob: "z".repeat(5000) }, 1000, "read it over HTTP") as any;
  expect(out).toEqual({ capped: { bytes: 5011, max_bytes: 1000, how_to_get_the_rest: "read it over HTTP" } });
});

test("a SQL result is a Markdown table with escaped, shortened cells", () => {
  const text = sqlTable({
    columns: [{ name: "a" }, { name: "b" }],
    rows: [
      ["x|y", null],
      ["l".repeat(200), { k: 1 }],
    ],
    row_count: 2,
    truncated: true,
    message: "more with max_rows",
  });
  const lines = text.split("\n");
  expect(lines[0]).toBe("| a | b |");
  expect(lines[2]).toBe("| x\\|y | null |");
  expect(lines[3]!.length).toBeLessThan(100);
  expect(lines.at(-1)).toBe("2 rows; truncated: more with max_rows");
});

test("a bare result is wrapped in an object; errors carry code, message, details and retry", () => {
  expect(toolResult("x.y", [1, 2], "").structuredContent).toEqual({ result: [1, 2] });
  expect(toolResult("x.y", undefined, "").structuredContent).toEqual({ result: null });
  const err = toolError(new LakehouseError("unavailable", "busy", { dataset: "w" }, { retryAfter: 2 }));
  expect(err.isError).toBe(true);
  expect(err.structuredContent).toEqual({ error: { code: "unavailable", message: "busy", details: { dataset: "w" }, retry_after: 2 } });
  expect((err.content[0] as { text: string }).text).toBe('unavailable: busy\ndetails: {"dataset":"w"}\nretry after 2 s');
  expect(MAX_RESULT_BYTES).toBeGreaterThan(16 * 1024);
});
