// Equality postings: built on first use, kept current by writes; the filter plan they give must
// pass exactly the labels the plain predicate passes, on random metadata and random filters,
// also after writes that move values, add arrays and delete items.
import { describe, expect, test } from "bun:test";
import { compileFilter, type Metadata } from "../../src/filter/compile.ts";
import { parseFilter } from "../../src/filter/parse.ts";
import { FieldPostings, MAX_POSTING_FIELDS } from "../../src/vector/field-postings.ts";
import { planFilter } from "../../src/vector/filter-plan.ts";
import { rng } from "../support/random.ts";

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

  test("writes move labels between postings of the fields already built; the sorted arrays follow", () => {
    const { meta, postings } = fixture();
    expect([...postings.sorted("state", "IL")!]).toEqual([0, 2]);
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
    expect([...postings.sorted("state", "IL")!]).toEqual([3, 5]);
    expect([...postings.sorted("state", "TX")!]).toEqual([0, 1, 5]);
    // A field built after the writes sees their result.
    expect(sorted(postings.get("tags", "night"))).toEqual([]);
  });

  test("inherited names are not fields; past the field cap there are no postings", () => {
    const { postings } = fixture();
    expect(sorted(postings.get("constructor", "x"))).toEqual([]);
    for (let i = 1; i < MAX_POSTING_FIELDS; i++) expect(postings.get(`f${i}`, 1)).not.toBeNull();
    expect(postings.get("one_too_many", 1)).toBeNull();
    expect(postings.sorted("one_too_many", 1)).toBeNull();
  });

  test("the plan starts from the narrowest $eq or $in conjunct and is exact only when nothing else is left", () => {
    const { meta, postings } = fixture();
    const plan = (f: unknown) => {
      const p = planFilter(parseFilter(f), postings, (l) => meta.get(l));
      return { candidates: p.candidates && [...p.candidates], exact: p.exact };
    };
    expect(plan({ state: "IL" })).toEqual({ candidates: [0, 2], exact: true });
    expect(plan({ state: "IL", tags: "night" })).toEqual({ candidates: [0], exact: false });
    expect(plan({ $and: [{ rate: { $gte: 1 } }, { $and: [{ tags: { $in: ["day", "night"] } }] }] })).toEqual({ candidates: [0, 1], exact: false });
    expect(plan({ tags: { $in: ["day", "night"] } })).toEqual({ candidates: [0, 1], exact: true });
    expect(plan({ $or: [{ state: "IL" }, { state: "TX" }] })).toEqual({ candidates: null, exact: false });
    expect(plan({ "state.nested": "IL" })).toEqual({ candidates: null, exact: false });
    expect(plan({ state: { $ne: "IL" } })).toEqual({ candidates: null, exact: false });
    expect(plan("state = IL and rate <= 22")).toEqual({ candidates: [0, 2], exact: false });
  });
});

// Random metadata over a few fields of few values (so filters hit), with the shapes the
// predicate treats specially: arrays, nulls, missing fields, nested objects, numbers that look
// like strings, null metadata.
const STATES = ["IL", "TX", "MI", "CA"];
function randomMetadata(r: () => number): Metadata {
  if (r() < 0.04) return null;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const m: Record<string, unknown> = {};
  if (r() < 0.9) m.state = r() < 0.1 ? [pick(STATES), pick(STATES)] : r() < 0.05 ? { nested: pick(STATES) } : pick(STATES);
  if (r() < 0.7) m.rate = r() < 0.1 ? String(10 + Math.floor(r() * 5)) : 10 + Math.floor(r() * 5);
  if (r() < 0.6) m.tags = Array.from({ length: Math.floor(r() * 3) }, () => pick(["day", "night", "weekend", 1, true, null]));
  if (r() < 0.5) m.flag = pick([true, false, null]);
  if (r() < 0.3) m.info = { city: pick(["Chicago", "Austin"]) };
  return m;
}

function randomFilter(r: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const field = pick(["state", "rate", "tags", "flag", "info.city", "missing", "constructor"]);
  const value = () => pick<unknown>([...STATES, 10, 11, 12, "10", "day", "night", 1, true, false, null, "Chicago"]);
  const roll = r();
  if (depth < 2 && roll < 0.25) return { $and: Array.from({ length: 1 + Math.floor(r() * 3) }, () => randomFilter(r, depth + 1)) };
  if (depth < 2 && roll < 0.3) return { $or: Array.from({ length: 1 + Math.floor(r() * 2) }, () => randomFilter(r, depth + 1)) };
  if (roll < 0.6) return { [field]: value() };
  if (roll < 0.75) return { [field]: { $in: Array.from({ length: Math.floor(r() * 4) }, value) } };
  if (roll < 0.82) return { [field]: { $ne: value() } };
  if (roll < 0.9) return { rate: { [pick(["$lt", "$lte", "$gt", "$gte"])]: 10 + Math.floor(r() * 5) } };
  if (roll < 0.95) return { [field]: { $exists: r() < 0.5 } };
  return { $not: randomFilter(r, depth + 1) };
}

/** Every label the plan passes, by `accepts` and by candidates + refine, against the plain predicate. */
function expectSameAsPredicate(filter: unknown, meta: Map<number, Metadata>, postings: FieldPostings): void {
  const node = parseFilter(filter);
  const pred = compileFilter(node);
  const plan = planFilter(node, postings, (l) => meta.get(l));
  const want = [...meta.keys()].filter((l) => pred(meta.get(l))).sort((a, b) => a - b);
  const label = JSON.stringify(filter);
  expect({ filter: label, got: [...meta.keys()].filter(plan.accepts).sort((a, b) => a - b) }).toEqual({ filter: label, got: want });
  const viaCandidates = plan.candidates ? [...plan.candidates].filter((l) => plan.exact || plan.refine(l)) : [...meta.keys()].filter(plan.refine);
  expect({ filter: label, got: viaCandidates.sort((a, b) => a - b) }).toEqual({ filter: label, got: want });
  if (plan.candidates) {
    const c = [...plan.candidates];
    expect(c).toEqual([...new Set(c)].sort((a, b) => a - b)); // ascending, each once
    for (const l of c) expect(meta.has(l)).toBe(true); // only live labels
  }
}

describe("filter plan against the plain predicate", () => {
  test("random metadata, random filters, through upserts that change values, deletes and re-adds", () => {
    const r = rng(17);
    const meta = new Map<number, Metadata>();
    for (let l = 0; l < 400; l++) meta.set(l, randomMetadata(r));
    const postings = new FieldPostings(() => [...meta.entries()]);
    const filters = Array.from({ length: 150 }, () => randomFilter(r));
    for (let round = 0; round < 6; round++) {
      for (const f of filters) expectSameAsPredicate(f, meta, postings);
      // Writes as the index applies them: upserts (new value, same value, new labels) and deletes.
      for (let w = 0; w < 120; w++) {
        const label = Math.floor(r() * 450);
        const before = meta.get(label);
        if (r() < 0.3 && before !== undefined) {
          postings.replace(label, before, undefined);
          meta.delete(label);
        } else {
          const after = r() < 0.1 && before !== undefined ? before : randomMetadata(r);
          postings.replace(label, before, after);
          meta.set(label, after);
        }
      }
    }
  });
});
