// Equality postings: built on first use, kept current by writes, and the planner's narrowest pick.
import { describe, expect, test } from "bun:test";
import type { Metadata } from "../../src/filter/compile.ts";
import { parseFilter } from "../../src/filter/parse.ts";
import { FieldPostings, MAX_POSTING_FIELDS, narrowest } from "../../src/vector/field-postings.ts";

function fixture() {
  const meta = new Map<number, Metadata>([
    [0, { state: "IL", tags: ["day", "night"], rate: 20 }],
    [1, { state: "TX", tags: ["day"], rate: 20 }],
    [2, { state: "IL", rate: "20" }],
    [3, null],
    [4, { state: { nested: "IL" } }],
  ]);
  let built = 0;
  const postings = new FieldPostings(() => {
    built++;
    return [...meta.entries()];
  });
  return { meta, postings, builds: () => built };
}

const sorted = (s: Iterable<number> | null) => (s ? [...s].sort((a, b) => a - b) : s);

describe("field postings", () => {
  test("a field is read once, when a filter first asks for it; values match like $eq", () => {
    const { postings, builds } = fixture();
    expect(builds()).toBe(0);
    expect(sorted(postings.get("state", "IL"))).toEqual([0, 2]);
    expect(sorted(postings.get("state", "CA"))).toEqual([]);
    expect(builds()).toBe(1);
    expect(sorted(postings.get("tags", "day"))).toEqual([0, 1]);
    expect(sorted(postings.get("rate", 20))).toEqual([0, 1]);
    expect(sorted(postings.get("rate", "20"))).toEqual([2]);
    expect(builds()).toBe(3);
    expect(sorted(postings.get("state", "IL"))).toEqual([0, 2]);
    expect(builds()).toBe(3);
  });

  test("writes move labels between postings of the fields already built", () => {
    const { meta, postings } = fixture();
    postings.get("state", "IL");
    const move = (label: number, after: Metadata) => {
      postings.replace(label, meta.get(label), after);
      if (after === undefined) meta.delete(label);
      else meta.set(label, after);
    };
    move(0, { state: "TX" });
    move(3, { state: "IL" });
    move(2, undefined);
    move(5, { state: ["IL", "TX"] });
    expect(sorted(postings.get("state", "IL"))).toEqual([3, 5]);
    expect(sorted(postings.get("state", "TX"))).toEqual([0, 1, 5]);
    // A field built after the writes sees their result.
    expect(sorted(postings.get("tags", "night"))).toEqual([]);
  });

  test("inherited names are not fields; past the field cap there are no postings", () => {
    const { postings } = fixture();
    expect(sorted(postings.get("constructor", "x"))).toEqual([]);
    for (let i = 1; i < MAX_POSTING_FIELDS; i++) expect(postings.get(`f${i}`, 1)).not.toBeNull();
    expect(postings.get("one_too_many", 1)).toBeNull();
  });

  test("the narrowest $eq or $in conjunct is chosen; other shapes give no narrowing", () => {
    const { postings } = fixture();
    const pick = (f: unknown) => {
      const n = narrowest(parseFilter(f), postings);
      return n && { size: n.size, labels: sorted(n.labels) };
    };
    expect(pick({ state: "IL", tags: "night" })).toEqual({ size: 1, labels: [0] });
    expect(pick({ $and: [{ rate: { $gte: 1 } }, { $and: [{ tags: { $in: ["day", "night"] } }] }] })).toEqual({ size: 3, labels: [0, 1] });
    expect(pick({ $or: [{ state: "IL" }, { state: "TX" }] })).toBeNull();
    expect(pick({ "state.nested": "IL" })).toBeNull();
    expect(pick({ state: { $ne: "IL" } })).toBeNull();
  });
});
