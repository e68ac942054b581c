// The Accept header picks a result's representation: the first offered type named wins, JSON when
// JSON comes first or nothing offered is named (the cases POST /v1/sql's negotiation had).
import { expect, test } from "bun:test";
import { pickRepresentation } from "../../src/ops/http.ts";

const offered = ["application/vnd.apache.arrow.stream", "text/csv"];

test.each([
  [undefined, null],
  ["*/*", null],
  ["application/json", null],
  ["application/vnd.apache.arrow.stream", "application/vnd.apache.arrow.stream"],
  ["text/csv;q=0.9, application/json", "text/csv"],
  ["application/json, text/csv", null],
  ["TEXT/CSV", "text/csv"],
  ["text/html", null],
] as const)("%p → %p", (accept, chosen) => {
  expect(pickRepresentation(accept, offered)).toBe(chosen);
});
