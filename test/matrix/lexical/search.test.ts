// The lexical part's filter: given the filter itself, candidates are tested through the vector
// index's postings (VectorPort.filterAccept); the hits must be those a compiled predicate over
// each candidate's stored metadata gives, best first, and never an id the vector index lacks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Lakehouse } from "../../../src/app.ts";
import { compileFilter } from "../../../src/filter/compile.ts";
import { parseFilter } from "../../../src/filter/parse.ts";
import { Bm25Index } from "../../../src/matrix/lexical/bm25.ts";
import { lexicalHits } from "../../../src/matrix/lexical/search.ts";
import { TEXT_KEY } from "../../../src/matrix/stored.ts";
import type { VectorPort } from "../../../src/ports.ts";
import { vectorPort } from "../../../src/vector/port.ts";
import { testLakehouse } from "../../support/app.ts";
import { rng } from "../../support/random.ts";

let lh: Lakehouse;
let port: VectorPort;
const bm25 = new Bm25Index();
const SKILLS = ["forklift operator", "welder", "electrician", "picker packer"];
const CITIES: [string, string][] = [
  ["Chicago", "IL"],
  ["Joliet", "IL"],
  ["Houston", "TX"],
  ["Detroit", "MI"],
];

beforeAll(async () => {
  lh = await testLakehouse();
  port = vectorPort(lh.vector.service);
  await port.createIndex("lex", 4);
  const r = rng(5);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const items = Array.from({ length: 600 }, (_, i) => {
    const [city, state] = pick(CITIES);
    const skill = pick(SKILLS);
    const text = `${skill} in ${city}, ${state}: ${pick(["night shift", "day shift", "weekends"])}`;
    return { id: `w${i}`, vector: [r(), r(), r(), r() + 0.1], metadata: { state, rate: 15 + Math.floor(r() * 10), [TEXT_KEY]: text } };
  });
  await port.upsert("lex", items);
  for (const it of items) bm25.upsert(it.id, it.metadata[TEXT_KEY] as string);
  // In the lexical index only (a row a build is removing): never a hit.
  bm25.upsert("ghost", "forklift operator in Chicago, IL: night shift");
});

afterAll(() => lh.close());

describe("lexical hits with a filter", () => {
  for (const filter of [{ state: "MI" }, { state: { $in: ["TX", "MI"] } }, "state = IL and rate <= 18", { $or: [{ state: "TX" }, { rate: 24 }] }, undefined]) {
    test(`${JSON.stringify(filter) ?? "no filter"}: the same hits as the predicate over stored metadata`, () => {
      for (const query of ["forklift operator Chicago", "night shift welder", "electrician Houston weekends"]) {
        const viaPostings = lexicalHits(bm25, port, "lex", query, 15, filter);
        const viaPredicate = lexicalHits(bm25, port, "lex", query, 15, filter === undefined ? undefined : compileFilter(parseFilter(filter)));
        expect(viaPostings).toEqual(viaPredicate);
        expect(viaPostings.length).toBeGreaterThan(0);
        expect(viaPostings.map((h) => h.id)).not.toContain("ghost");
        const pred = filter === undefined ? () => true : compileFilter(parseFilter(filter));
        for (const h of viaPostings) {
          expect(pred(h.metadata)).toBe(true);
          expect(h.metadata).not.toHaveProperty(TEXT_KEY);
          expect(typeof h.text).toBe("string");
        }
        // Best first, and nothing passing the filter skipped: the unfiltered ranking, filtered, is the same list.
        const all = bm25.search(query, 700).filter((h) => h.id !== "ghost" && pred(port.metadata("lex", h.id)!));
        expect(viaPostings.map((h) => h.id)).toEqual(all.slice(0, 15).map((h) => h.id));
      }
    });
  }
});

describe("a filter answered ahead is remembered only while neither index changes", () => {
  const ids = (filter: unknown, query = "forklift operator Chicago") => lexicalHits(bm25, port, "lex", query, 50, filter as never).map((h) => h.id);

  test("a vector write that moves an item out of the filter is seen at once", async () => {
    const before = ids({ state: "MI" }, "electrician Detroit");
    expect(before.length).toBeGreaterThan(0);
    expect(ids({ state: "MI" }, "electrician Detroit")).toEqual(before);
    const moved = before[0]!;
    const item = (await port.get("lex", moved))!;
    await port.upsert("lex", [{ id: moved, vector: [...item.vector], metadata: { ...item.metadata, state: "TX" } }]);
    expect(ids({ state: "MI" }, "electrician Detroit")).not.toContain(moved);
    expect(ids({ state: "TX" }, "electrician Detroit")).toContain(moved);
  });

  test("a lexical change (a new document, a removal) is seen at once", async () => {
    const filter = { state: "IL" };
    const first = ids(filter);
    await port.upsert("lex", [{ id: "late", vector: [0.3, 0.3, 0.3, 0.3], metadata: { state: "IL", rate: 20 } }]);
    expect(ids(filter)).not.toContain("late"); // not in the lexical index yet
    bm25.upsert("late", "forklift operator forklift operator in Chicago Chicago");
    expect(ids(filter)[0]).toBe("late");
    bm25.remove("late");
    expect(ids(filter)).toEqual(first);
  });

  test("the text form is answered the same way", () => {
    expect(ids("state = TX")).toEqual(ids({ state: "TX" }));
  });
});
