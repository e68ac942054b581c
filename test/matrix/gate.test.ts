import { describe, expect, test } from "bun:test";
import { decideGate, gateSignals } from "../../src/matrix/gate.ts";

const t = { min_top_score: 3, min_passing: 3, min_margin: 0.5, min_agreement: 0.5, max_unknown_share: 0.3 };
const res = (...xs: [string, number][]) => xs.map(([corpus, score]) => ({ corpus, score }));

describe("gate", () => {
  test("signals: top score, margin, agreement across the searched corpora, passing count", () => {
    const s = gateSignals(res(["a", 5], ["a", 6], ["a", 4]), ["a", "b"]);
    expect(s).toEqual({ top_score: 6, margin: 1, agreement: 0.5, passing: 3 });
    expect(gateSignals([], ["a"])).toEqual({ top_score: null, margin: null, agreement: 0, passing: 0 });
  });

  test("a confident, clear answer goes to the small model", () => {
    const d = decideGate(gateSignals(res(["a", 7], ["a", 5], ["b", 4.5]), ["a", "b"]), t);
    expect(d.tier).toBe("small");
    expect(d.reason).toContain("clear lead");
  });

  test("nothing passing → strong", () => {
    expect(decideGate(gateSignals([], ["a"]), t)).toMatchObject({ tier: "strong", reason: "no result passed relevance" });
  });

  test("too few passing → strong", () => {
    const d = decideGate(gateSignals(res(["a", 9], ["b", 5]), ["a", "b"]), t);
    expect(d.tier).toBe("strong");
    expect(d.reason).toContain("only 2");
  });

  test("a weak top score → strong", () => {
    const d = decideGate(gateSignals(res(["a", 2.9], ["a", 2], ["b", 1]), ["a", "b"]), t);
    expect(d.tier).toBe("strong");
    expect(d.reason).toContain("below 3");
  });

  test("no clear lead and no agreement → strong; either one rescues it", () => {
    const ambiguous = res(["a", 6], ["a", 5.9], ["a", 5.8]);
    expect(decideGate(gateSignals(ambiguous, ["a", "b", "c"]), t)).toMatchObject({ tier: "strong" });
    expect(decideGate(gateSignals(ambiguous, ["a", "b", "c"]), t).reason).toContain("ambiguous");
    const agreeing = res(["a", 6], ["b", 5.9], ["a", 5.8]);
    expect(decideGate(gateSignals(agreeing, ["a", "b", "c"]), t)).toMatchObject({ tier: "small" });
    expect(decideGate(gateSignals(agreeing, ["a", "b", "c"]), t).reason).toContain("agree");
  });

  test("query words the corpora never use, in max_unknown_share or more → strong, naming them; fewer are fine", () => {
    const confident = res(["a", 9], ["a", 8], ["a", 7]);
    const unknown = gateSignals(confident, ["a"], { terms: 3, unknown: ["custodian"] });
    expect(unknown).toMatchObject({ unknown_terms: ["custodian"], unknown_share: 1 / 3 });
    const d = decideGate(unknown, t);
    expect(d.tier).toBe("strong");
    expect(d.reason).toBe(
      "\"custodian\" occurs in none of the searched corpora (1 of the query's 3 words): the results rest on the embedder's guess of their meaning",
    );
    expect(decideGate(gateSignals(confident, ["a"], { terms: 4, unknown: ["near"] }), t).tier).toBe("small");
    expect(decideGate(gateSignals(confident, ["a"], { terms: 3, unknown: ["custodian"] }), { ...t, max_unknown_share: 0.5 }).tier).toBe("small");
    // No query text (a search by vector): no such signal.
    expect(gateSignals(confident, ["a"])).not.toHaveProperty("unknown_share");
  });

  test("thresholds come from the config", () => {
    const s = gateSignals(res(["a", 4], ["a", 3], ["a", 2]), ["a"]);
    expect(decideGate(s, t).tier).toBe("small");
    expect(decideGate(s, { ...t, min_top_score: 5 }).tier).toBe("strong");
    expect(decideGate(s, { ...t, min_passing: 4 }).tier).toBe("strong");
  });
});
