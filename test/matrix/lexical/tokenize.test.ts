// What the lexical index counts as a term: folded, split, digits kept, plurals folded, stop words out.
import { describe, expect, test } from "bun:test";
import { stem, tokenize } from "../../../src/matrix/lexical/tokenize.ts";

describe("tokenize", () => {
  test("lower-cases and folds accents and compatibility forms", () => {
    expect(tokenize("José MÜLLER ﬁtter Ångström")).toEqual(["jose", "muller", "fitter", "angstrom"]);
  });

  test("splits on punctuation, joins apostrophes inside a word", () => {
    expect(tokenize("picker/packer, O'Brien; driver’s St. Louis")).toEqual(["picker", "packer", "obrien", "driver", "st", "louis"]);
  });

  test("keeps digits, alone and within words; words under 4 letters keep their s (AWS)", () => {
    expect(tokenize("$19.50/h 6G pipe, 4x10s, AWS D1.1")).toEqual(["19", "50", "h", "6g", "pipe", "4x10", "aws", "d1", "1"]);
  });

  test("drops stop words and folds plurals the same in queries and documents", () => {
    expect(tokenize("forklift operators in the Chicago area with nights")).toEqual(["forklift", "operator", "chicago", "area", "night"]);
    expect(tokenize("Forklift operator, Chicago, night")).toEqual(["forklift", "operator", "chicago", "night"]);
  });

  test("the S-stemmer folds plurals only", () => {
    expect(["forklifts", "certifications", "batteries", "boxes", "glass", "status", "gas", "welding"].map(stem)).toEqual([
      "forklift",
      "certification",
      "battery",
      "boxe",
      "glass",
      "status",
      "gas",
      "welding",
    ]);
  });

  test("nothing to index in punctuation or stop words alone", () => {
    expect(tokenize("--- !!! ... the and of")).toEqual([]);
  });
});
