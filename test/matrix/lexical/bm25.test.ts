// BM25 against a hand-computed case, removals, compaction, filters and the stored image.
import { describe, expect, test } from "bun:test";
import { Bm25Index } from "../../../src/matrix/lexical/bm25.ts";

// Three documents, N = 3, lengths 3, 3, 4 (avglen 10/3), k1 = 1.2, b = 0.75:
//   idf(forklift) = ln(1 + (3 − 2 + 0.5)/(2 + 0.5)) = ln 1.6;  idf(chicago) = ln(1 + 2.5/1.5)
//   norm(len 3) = 1.2 · (0.25 + 0.75 · 3/(10/3)) = 1.11
//   d1 = ln1.6 · 2.2/(1 + 1.11) + ln(8/3) · 2.2/(1 + 1.11) = 1.5127167492731832
//   d2 = ln1.6 · 2·2.2/(2 + 1.11) = 0.664956903112938;  d3 shares no term.
function threeDocs(): Bm25Index {
  const ix = new Bm25Index();
  ix.upsert("d1", "Forklift operator, Chicago");
  ix.upsert("d2", "forklift forklift welder");
  ix.upsert("d3", "Welder, Detroit night shift");
  return ix;
}

describe("BM25", () => {
  test("scores match the hand computation", () => {
    const hits = threeDocs().search("forklift Chicago", 10);
    expect(hits.map((h) => h.id)).toEqual(["d1", "d2"]);
    expect(hits[0]!.score).toBeCloseTo(1.5127167492731832, 12);
    expect(hits[1]!.score).toBeCloseTo(0.664956903112938, 12);
  });

  test("a repeated query term counts once; unknown terms add nothing", () => {
    const ix = threeDocs();
    expect(ix.search("forklift forklift chicago zeppelin", 10).map((h) => h.score)).toEqual(ix.search("forklift chicago", 10).map((h) => h.score));
  });

  test("maxScore is every term saturated: Σ idf · (k1 + 1)", () => {
    expect(threeDocs().maxScore("forklift chicago")).toBeCloseTo(3.1918323409664167, 12);
  });

  test("scoreOf gives the same exact scores for chosen documents, 0 for one without a term", () => {
    const s = threeDocs().scoreOf("forklift chicago", ["d1", "d2", "d3", "nope"]);
    expect(s.get("d1")).toBeCloseTo(1.5127167492731832, 12);
    expect(s.get("d2")).toBeCloseTo(0.664956903112938, 12);
    expect(s.get("d3")).toBe(0);
    expect(s.has("nope")).toBe(false);
  });

  test("a removed document is never returned; compaction then drops it from N, df and avglen", () => {
    const ix = threeDocs();
    ix.remove("d2");
    expect(ix.search("forklift", 10).map((h) => h.id)).toEqual(["d1"]);
    // Until compaction, like Lucene, d2 still counts in N and df: d1 scores as before.
    expect(ix.search("forklift chicago", 10)[0]!.score).toBeCloseTo(1.5127167492731832, 12);
    expect(ix.deleted).toBe(1);
    ix.compact();
    expect(ix.deleted).toBe(0);
    // N = 2, avglen 3.5: idf(forklift) = idf(chicago) = ln(1 + 1.5/1.5), norm(3) = 1.2·(0.25 + 0.75·3/3.5).
    expect(ix.search("forklift chicago", 10)[0]!.score).toBeCloseTo(1.4723402180169873, 12);
  });

  test("an upsert replaces a document's terms", () => {
    const ix = threeDocs();
    ix.upsert("d1", "crane operator");
    expect(ix.search("chicago", 10)).toEqual([]);
    expect(ix.search("crane", 10).map((h) => h.id)).toEqual(["d1"]);
    expect(ix.size).toBe(3);
  });

  test("the filter is asked about the best candidates first and k passing ones come back", () => {
    const ix = new Bm25Index();
    for (let i = 0; i < 2000; i++) ix.upsert(`w${i}`, `welder ${"welder ".repeat(i % 7)} shop ${i}`);
    const asked: string[] = [];
    const hits = ix.search("welder", 5, (id) => {
      asked.push(id);
      return Number(id.slice(1)) % 10 === 3;
    });
    expect(hits).toHaveLength(5);
    for (const h of hits) expect(Number(h.id.slice(1)) % 10).toBe(3);
    // Best first: the scores never rise.
    for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
    // Only the top of the ranking was checked, not all 2000 matches.
    expect(asked.length).toBeLessThan(200);
    const unfiltered = ix.search("welder", 2000).filter((h) => Number(h.id.slice(1)) % 10 === 3);
    expect(hits).toEqual(unfiltered.slice(0, 5));
  });

  test("an image loads back into an index that scores the same", () => {
    const ix = threeDocs();
    ix.upsert("d4", "night shift forklift");
    ix.remove("d3");
    const copy = new Bm25Index();
    copy.load(ix.image());
    ix.compact();
    for (const q of ["forklift", "night shift", "welder chicago"]) expect(copy.search(q, 10)).toEqual(ix.search(q, 10));
    copy.upsert("d5", "forklift");
    expect(copy.search("forklift", 10).map((h) => h.id)).toContain("d5");
  });
});

// Two fields weighed 1 and 0.5 (../../../src/matrix/fields.ts), N = 3, k1 = 1.2, b = 0.75, each
// field with its own df, lengths and average length:
//   field 0: "welder" | "forklift operator" | "welder"        lengths 1, 2, 1 (avg 4/3)
//   field 1: "forklift forklift night" | "welder" | ""         lengths 3, 1, 0 (avg 4/3)
//   idf0(welder) = ln(1 + 1.5/2.5) = ln 1.6;  idf1(welder) = ln(1 + 2.5/1.5) = ln(8/3)
//   norm(len 1, avg 4/3) = 1.2 · (0.25 + 0.75 · 3/4) = 0.975
//   d1 = d3 = 1 · ln1.6 · 2.2/(1 + 0.975) = 0.5235179...;  d2 = 0.5 · ln(8/3) · 2.2/(1 + 0.975) = 0.5462308...
describe("BM25 over fields", () => {
  const SEP = "\u001f";
  function fielded(): Bm25Index {
    const ix = new Bm25Index([1, 0.5]);
    ix.upsert("d1", `welder${SEP}forklift forklift night`);
    ix.upsert("d2", `forklift operator${SEP}welder`);
    ix.upsert("d3", "welder");
    return ix;
  }

  test("each field scores with its own idf and lengths, times its weight, summed", () => {
    const f0 = (Math.log(1.6) * 2.2) / (1 + 0.975);
    const f1 = (0.5 * Math.log(8 / 3) * 2.2) / (1 + 0.975);
    const hits = fielded().search("welder", 10);
    expect(hits.map((h) => h.id)).toEqual(["d2", "d1", "d3"]);
    expect(hits[0]!.score).toBeCloseTo(f1, 12);
    expect(hits[1]!.score).toBeCloseTo(f0, 12);
    expect(fielded().scoreOf("welder", ["d1", "d2", "d3"])).toEqual(
      new Map([
        ["d1", hits[1]!.score],
        ["d2", hits[0]!.score],
        ["d3", hits[2]!.score],
      ]),
    );
    // The most a document could score: the term saturated in every field holding it.
    expect(fielded().maxScore("welder")).toBeCloseTo(Math.log(1.6) * 2.2 + 0.5 * Math.log(8 / 3) * 2.2, 12);
  });

  test("a term in one field does not match the same word in another; weights change scores without re-indexing", () => {
    const ix = fielded();
    expect(ix.search("operator", 10).map((h) => h.id)).toEqual(["d2"]);
    expect(ix.search("night", 10).map((h) => h.id)).toEqual(["d1"]);
    ix.weights = [1, 2];
    expect(ix.search("welder", 10)[0]!.score).toBeCloseTo((2 * Math.log(8 / 3) * 2.2) / (1 + 0.975), 12);
  });

  test("a fielded image loads back into an index of as many fields, and only into one", () => {
    const ix = fielded();
    ix.remove("d3");
    const img = ix.image();
    expect(img.fields).toBe(2);
    const copy = new Bm25Index([1, 0.5]);
    copy.load(img);
    ix.compact();
    for (const q of ["welder", "forklift night", "operator"]) expect(copy.search(q, 10)).toEqual(ix.search(q, 10));
    expect(() => new Bm25Index().load(img)).toThrow("2-field image");
  });
});
