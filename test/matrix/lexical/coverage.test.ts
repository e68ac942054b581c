// The gate's coverage signal (src/matrix/lexical/coverage.ts): the query's words no searched
// corpus holds, leaving out numbers, single letters, common English words and the templates'
// literal words.
import { describe, expect, test } from "bun:test";
import { literalWords } from "../../../src/matrix/fields.ts";
import { Bm25Index } from "../../../src/matrix/lexical/bm25.ts";
import { queryCoverage } from "../../../src/matrix/lexical/coverage.ts";

const SEP = "\u001f";
const a = new Bm25Index([1, 1]);
a.upsert("1", `janitor${SEP}Philadelphia`);
a.upsert("2", `welder${SEP}Detroit`);
const b = new Bm25Index();
b.upsert("x", "forklift operator, night shifts in Joliet");

describe("queryCoverage", () => {
  test("words no corpus holds, over the query's distinct words; a word any corpus holds is known", () => {
    expect(queryCoverage("custodian in Philadelphia", [a, b])).toEqual({ terms: 2, unknown: ["custodian"] });
    expect(queryCoverage("welder forklift Joliet Joliet", [a, b])).toEqual({ terms: 3, unknown: [] });
    // Plurals fold as the tokenizer folds them.
    expect(queryCoverage("welders", [a])).toEqual({ terms: 1, unknown: [] });
  });

  test("numbers, single letters and common words are left out; template literals count as known", () => {
    const common = (w: string) => w === "near" || w === "available";
    expect(queryCoverage("welder available near Detroit under $19/h", [a], { commonWord: common })).toEqual({ terms: 3, unknown: ["under"] });
    const literal = new Set(literalWords({ template: "{primary_skill} in {city}, {shift_preference} shift" }));
    expect([...literal]).toEqual(["shift"]);
    expect(queryCoverage("welder night shift", [a], { literal })).toEqual({ terms: 3, unknown: ["night"] });
  });

  test("no lexical index with documents: nothing to judge by", () => {
    expect(queryCoverage("welder", [undefined, new Bm25Index()])).toBeUndefined();
  });
});
